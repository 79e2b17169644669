"""`monomesh proxy` with TLS transport sockets, end to end with real peers (curl, openssl):
Istio's mutual TLS between sidecars with SPIFFE identities, PERMISSIVE (TLS and plaintext on one
port through tls_inspector) and STRICT listeners, TLS origination from clusters with SAN checks,
and SNI routing of TLS passthrough through tcp_proxy. Certificates are made per run with the
openssl command line (nothing checked in)."""
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
import proxy_harness as ph

DOWNSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
UPSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
TLS_INSPECTOR = {"name": "envoy.filters.listener.tls_inspector", "typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"}}
SERVER_ID = "spiffe://cluster.local/ns/default/sa/reviews"
CLIENT_ID = "spiffe://cluster.local/ns/default/sa/productpage"
INTRUDER_ID = "spiffe://cluster.local/ns/default/sa/intruder"


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=30)


def make_pki(d):
    """A root CA and three workload certificates in Istio's layout, one folder each."""
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=d)
    openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/O=cluster.local/CN=Root CA", "-days", "2",
            "-out", "root-cert.pem", cwd=d)
    for name, spiffe, dns in (("server", SERVER_ID, "reviews.default.svc.cluster.local"),
                              ("client", CLIENT_ID, "productpage.default.svc.cluster.local"),
                              ("intruder", INTRUDER_ID, "intruder.default.svc.cluster.local")):
        os.makedirs(os.path.join(d, name))
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name + "/key.pem", cwd=d)
        openssl("req", "-new", "-key", name + "/key.pem", "-subj", "/O=cluster.local", "-out", name + ".csr", cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=URI:%s,DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % (spiffe, dns))
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "root-cert.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "1", "-extfile", name + ".ext", "-out", name + "/cert-chain.pem", cwd=d)
        shutil.copy(os.path.join(d, "root-cert.pem"), os.path.join(d, name, "root-cert.pem"))


def common_tls(certs, peer_id=None, alpn=("http/1.1",)):
    """CommonTlsContext from an Istio-layout folder; peer_id: the SPIFFE identity the peer must have."""
    validation = {"trusted_ca": {"filename": os.path.join(certs, "root-cert.pem")}}
    if peer_id:
        validation["match_typed_subject_alt_names"] = [{"san_type": "URI", "matcher": {"exact": peer_id}}]
    return {"tls_certificates": [{"certificate_chain": {"filename": os.path.join(certs, "cert-chain.pem")},
                                  "private_key": {"filename": os.path.join(certs, "key.pem")}}],
            "validation_context": validation, "alpn_protocols": list(alpn)}


def downstream_tls(certs, peer_id):
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": DOWNSTREAM_TLS, "require_client_certificate": True, "common_tls_context": common_tls(certs, peer_id)}}


def upstream_tls(certs, peer_id, sni):
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": UPSTREAM_TLS, "sni": sni, "common_tls_context": common_tls(certs, peer_id)}}


def listener(name, port, chains, filters=()):
    return {"name": name, "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "listener_filters": list(filters), "filter_chains": chains}


def routes_to(cluster_name):
    return {"virtual_hosts": [ph.vhost("all", ["*"], [ph.route("/", cluster_name)])]}


def tcp_chain(cluster_name, **match):
    chain = {"filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {
        "@type": ph.TCP_PROXY_TYPE, "stat_prefix": "passthrough", "cluster": cluster_name}}]}
    if match:
        chain["filter_chain_match"] = match
    return chain


def curl(url, *args, resolve=None):
    cmd = ["curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}", url] + list(args)
    if resolve:
        cmd += ["--resolve", resolve]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    body, _, code = out.stdout.rpartition("\n")
    return out.returncode, code, body, out.stderr


@unittest.skipUnless(shutil.which("openssl") and shutil.which("curl"), "openssl and curl are needed")
class ProxyTlsTest(harness.MonomeshTestCase):
    @classmethod
    def setUpClass(cls):
        harness.binary()
        cls.pki = tempfile.mkdtemp(prefix="monomesh-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.pki, True)
        make_pki(cls.pki)
        cls.echo = ph.PyBackend("echo")
        cls.echo.start()
        cls.addClassCleanup(cls.echo.stop)
        server, client = os.path.join(cls.pki, "server"), os.path.join(cls.pki, "client")
        cls.permissive, cls.strict, cls.sidecar_a, cls.sni_port, cls.admin_b, cls.admin_a = (
            ph.free_port() for _ in range(6))
        cls.bad_san_port = ph.free_port()
        # Server sidecar (B): a PERMISSIVE port (mutual TLS or plaintext) and a STRICT one.
        cls.b = ph.Proxy(ph.bootstrap([
            listener("permissive", cls.permissive, [
                dict(ph.http_filter_chain(routes_to("echo"), "inbound_tls"),
                     filter_chain_match={"transport_protocol": "tls"}, transport_socket=downstream_tls(server, CLIENT_ID)),
                ph.http_filter_chain(routes_to("echo"), "inbound_plain")], filters=[TLS_INSPECTOR]),
            listener("strict", cls.strict, [
                dict(ph.http_filter_chain(routes_to("echo"), "inbound_strict"),
                     transport_socket=downstream_tls(server, CLIENT_ID))]),
        ], [ph.cluster("echo", [cls.echo.port])], admin_port=cls.admin_b))
        cls.b.start()
        cls.addClassCleanup(cls.b.stop)
        # Client sidecar (A): plaintext in, mutual TLS out to B's STRICT port, checking B's identity;
        # plus SNI routing of TLS passthrough to B.
        cls.a = ph.Proxy(ph.bootstrap([
            ph.http_listener("outbound", cls.sidecar_a, {"virtual_hosts": [ph.vhost("all", ["*"], [
                ph.route("/wrong-identity", "to-b-wrong-san"), ph.route("/", "to-b")])]}),
            listener("sni", cls.sni_port, [tcp_chain("b-strict", server_names=["reviews.example.com"]),
                                           tcp_chain("b-strict-wild", server_names=["*.wild.example.com"])],
                     filters=[TLS_INSPECTOR]),
        ], [
            ph.cluster("to-b", [cls.strict], transport_socket=upstream_tls(client, SERVER_ID, "reviews.default")),
            ph.cluster("to-b-wrong-san", [cls.strict], transport_socket=upstream_tls(client, INTRUDER_ID, "x")),
            ph.cluster("b-strict", [cls.strict]),
            ph.cluster("b-strict-wild", [cls.strict]),
        ], admin_port=cls.admin_a))
        cls.a.start()
        cls.addClassCleanup(cls.a.stop)

    def client_cert(self, who="client"):
        d = os.path.join(self.pki, who)
        return ["--cacert", os.path.join(self.pki, "root-cert.pem"), "--cert", os.path.join(d, "cert-chain.pem"),
                "--key", os.path.join(d, "key.pem")]

    def test_permissive_port_takes_mutual_tls(self):
        host = "reviews.default.svc.cluster.local"  # the server certificate's DNS SAN
        rc, code, body, err = curl("https://%s:%d/tls" % (host, self.permissive), *self.client_cert(),
                                   resolve="%s:%d:127.0.0.1" % (host, self.permissive))
        self.assertEqual((rc, code), (0, "200"), err)
        self.assertIn(["x-forwarded-proto", "https"], [[k.lower(), v] for k, v in ph_json(body)["headers"]])
        self.assertGreaterEqual(self.b.stat("listener.127.0.0.1_%d.ssl.handshake" % self.permissive), 1)

    def test_permissive_port_takes_plaintext(self):
        rc, code, body, err = curl("http://127.0.0.1:%d/plain" % self.permissive)
        self.assertEqual((rc, code), (0, "200"), err)
        self.assertIn(["x-forwarded-proto", "http"], [[k.lower(), v] for k, v in ph_json(body)["headers"]])

    def test_strict_port_refuses_plaintext(self):
        rc, code, _, _ = curl("http://127.0.0.1:%d/" % self.strict)
        self.assertNotEqual(code, "200")
        self.assertNotEqual(rc, 0)

    def test_mutual_tls_needs_a_client_certificate(self):
        before = self.b.stat("listener.127.0.0.1_%d.ssl.connection_error" % self.strict)
        rc, code, _, _ = curl("https://127.0.0.1:%d/" % self.strict, "--cacert", os.path.join(self.pki, "root-cert.pem"))
        self.assertNotEqual(code, "200")
        ph.wait_for(lambda: self.b.stat("listener.127.0.0.1_%d.ssl.connection_error" % self.strict) > before,
                    what="ssl.connection_error to count the refused handshake")

    def test_wrong_spiffe_identity_is_refused(self):
        rc, code, _, _ = curl("https://127.0.0.1:%d/" % self.strict, *self.client_cert("intruder"))
        self.assertNotEqual(code, "200")

    def test_presented_chain_and_sans(self):
        out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.strict, "-showcerts",
                              "-CAfile", os.path.join(self.pki, "root-cert.pem"),
                              "-cert", os.path.join(self.pki, "client", "cert-chain.pem"),
                              "-key", os.path.join(self.pki, "client", "key.pem")],
                             input="", capture_output=True, text=True, timeout=30)
        self.assertIn("Verify return code: 0 (ok)", out.stdout)
        pem = out.stdout[out.stdout.index("-----BEGIN CERTIFICATE-----"):out.stdout.index("-----END CERTIFICATE-----") + 25]
        text = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=pem,
                              capture_output=True, text=True, timeout=30).stdout
        self.assertIn("URI:" + SERVER_ID, text)

    def test_sidecar_to_sidecar_mutual_tls(self):
        rc, code, body, err = curl("http://127.0.0.1:%d/through-mtls" % self.sidecar_a)
        self.assertEqual((rc, code), (0, "200"), err + body)
        self.assertEqual(ph_json(body)["path"], "/through-mtls")
        self.assertGreaterEqual(self.a.stat("cluster.to-b.ssl.handshake"), 1)

    def test_upstream_identity_mismatch_is_503_uf(self):
        rc, code, body, _ = curl("http://127.0.0.1:%d/wrong-identity" % self.sidecar_a)
        self.assertEqual(code, "503")
        self.assertIn("connection failure", body)
        self.assertGreaterEqual(self.a.stat("cluster.to-b-wrong-san.ssl.connection_error"), 1)

    def test_sni_routes_tls_passthrough(self):
        for host in ("reviews.example.com", "api.wild.example.com"):
            rc, code, body, err = curl("https://%s:%d/sni" % (host, self.sni_port), *self.client_cert(),
                                       "-k", resolve="%s:%d:127.0.0.1" % (host, self.sni_port))
            self.assertEqual((rc, code), (0, "200"), host + ": " + err)

    def test_unknown_sni_has_no_chain(self):
        host = "nobody.example.org"
        rc, code, _, _ = curl("https://%s:%d/" % (host, self.sni_port), *self.client_cert(), "-k",
                              resolve="%s:%d:127.0.0.1" % (host, self.sni_port))
        self.assertNotEqual(code, "200")
        ph.wait_for(lambda: self.a.stat("listener.127.0.0.1_%d.no_filter_chain_match" % self.sni_port) >= 1,
                    what="no_filter_chain_match to count the unknown SNI")

    def test_plaintext_on_a_tls_only_sni_listener_is_closed(self):
        rc, code, _, _ = curl("http://127.0.0.1:%d/" % self.sni_port)
        self.assertNotEqual(code, "200")


def issue(pki, folder, spiffe, dns):
    """(Re)issues a workload certificate into pki/folder (Istio layout), signed by the test root."""
    d = os.path.join(pki, folder)
    os.makedirs(d, exist_ok=True)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", folder + "/key.pem.new", cwd=pki)
    openssl("req", "-new", "-key", folder + "/key.pem.new", "-subj", "/O=cluster.local", "-out", folder + ".csr", cwd=pki)
    with open(os.path.join(pki, folder + ".ext"), "w") as f:
        f.write("subjectAltName=URI:%s,DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % (spiffe, dns))
    openssl("x509", "-req", "-in", folder + ".csr", "-CA", "root-cert.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-extfile", folder + ".ext", "-out", folder + "/cert-chain.pem.new", cwd=pki)
    shutil.copy(os.path.join(pki, "root-cert.pem"), os.path.join(d, "root-cert.pem"))
    # Like a kubelet secret update: both files replaced (rename is atomic for each).
    os.replace(os.path.join(d, "cert-chain.pem.new"), os.path.join(d, "cert-chain.pem"))
    os.replace(os.path.join(d, "key.pem.new"), os.path.join(d, "key.pem"))


def presented_sans(port, pki):
    out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-showcerts",
                          "-cert", os.path.join(pki, "client", "cert-chain.pem"),
                          "-key", os.path.join(pki, "client", "key.pem")],
                         input="", capture_output=True, text=True, timeout=30).stdout
    pem = out[out.index("-----BEGIN CERTIFICATE-----"):out.index("-----END CERTIFICATE-----") + 25]
    return subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=pem,
                          capture_output=True, text=True, timeout=30).stdout


@unittest.skipUnless(shutil.which("openssl"), "openssl is needed")
class CertificateReloadTest(harness.MonomeshTestCase):
    def test_rotated_certificates_are_used_without_dropping_connections(self):
        import http.client
        import ssl
        pki = tempfile.mkdtemp(prefix="monomesh-pki-")
        self.addCleanup(shutil.rmtree, pki, True)
        make_pki(pki)
        issue(pki, "rotating", SERVER_ID, "before.example")
        echo = ph.PyBackend("echo")
        echo.start()
        self.addCleanup(echo.stop)
        port, admin = ph.free_port(), ph.free_port()
        proxy = ph.Proxy(ph.bootstrap([listener("strict", port, [
            dict(ph.http_filter_chain(routes_to("echo"), "inbound"),
                 transport_socket=downstream_tls(os.path.join(pki, "rotating"), CLIENT_ID))])],
            [ph.cluster("echo", [echo.port])], admin_port=admin))
        proxy.start()
        self.addCleanup(proxy.stop)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.load_verify_locations(os.path.join(pki, "root-cert.pem"))
        ctx.load_cert_chain(os.path.join(pki, "client", "cert-chain.pem"), os.path.join(pki, "client", "key.pem"))
        kept = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        kept.request("GET", "/before")
        self.assertEqual(kept.getresponse().read() and 200, 200)
        self.assertIn("DNS:before.example", presented_sans(port, pki))

        issue(pki, "rotating", SERVER_ID, "after.example")
        ph.wait_for(lambda: proxy.stat("server.tls_reload") >= 1, what="server.tls_reload after the rotation")
        self.assertIn("DNS:after.example", presented_sans(port, pki))
        kept.request("GET", "/after")  # the connection made before the rotation still works
        response = kept.getresponse()
        self.assertEqual(response.status, 200)
        response.read()
        kept.close()

        # A broken set (key of another certificate) is refused; the current certificates stay.
        shutil.copy(os.path.join(pki, "client", "key.pem"), os.path.join(pki, "rotating", "key.pem"))
        ph.wait_for(lambda: proxy.stat("server.tls_reload_rejected") >= 1, what="the broken set to be rejected")
        self.assertIn("DNS:after.example", presented_sans(port, pki))


def ph_json(body):
    import json
    return json.loads(body)


if __name__ == "__main__":
    unittest.main()
