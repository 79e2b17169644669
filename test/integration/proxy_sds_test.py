"""`monomesh proxy` taking its certificates from an SDS server (SecretDiscoveryService over gRPC),
as Istio's sidecars do with secrets named "default" and "ROOTCA": the listener waits for them,
rotations reach new connections, and a broken secret is refused while the last good one stays.
The SDS server is the test program sds_test_server (test/net), serving a certificate folder."""
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
import proxy_harness as ph
from proxy_tls_test import CLIENT_ID, DOWNSTREAM_TLS, SERVER_ID, issue, listener, make_pki, presented_sans, routes_to

SDS_SERVER = os.environ.get("SDS_TEST_SERVER", "")


def sds_config():
    return {"api_config_source": {"api_type": "GRPC", "grpc_services": [{"envoy_grpc": {"cluster_name": "sds-grpc"}}]}}


def sds_tls():
    """Istio 1.1's SDS shape: the certificate and the roots from SDS, the peer check inline."""
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": DOWNSTREAM_TLS, "require_client_certificate": True, "common_tls_context": {
            "tls_certificate_sds_secret_configs": [{"name": "default", "sds_config": sds_config()}],
            "combined_validation_context": {
                "default_validation_context": {"match_typed_subject_alt_names": [
                    {"san_type": "URI", "matcher": {"exact": CLIENT_ID}}]},
                "validation_context_sds_secret_config": {"name": "ROOTCA", "sds_config": sds_config()}},
            "alpn_protocols": ["http/1.1"]}}}


@unittest.skipUnless(shutil.which("openssl") and shutil.which("curl"), "openssl and curl are needed")
class ProxySdsTest(harness.MonomeshTestCase):
    def setUp(self):
        if not os.path.isfile(SDS_SERVER):
            raise AssertionError("sds_test_server not built (SDS_TEST_SERVER=%r)" % SDS_SERVER)
        self.pki = tempfile.mkdtemp(prefix="monomesh-pki-")
        self.addCleanup(shutil.rmtree, self.pki, True)
        make_pki(self.pki)
        issue(self.pki, "sds", SERVER_ID, "before.example")
        self.sds = subprocess.Popen([SDS_SERVER, os.path.join(self.pki, "sds")], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.sds.wait, 10)
        self.addCleanup(self.sds.stdin.close)
        sds_port = int(self.sds.stdout.readline())
        self.echo = ph.PyBackend("echo")
        self.echo.start()
        self.addCleanup(self.echo.stop)
        self.port, admin = ph.free_port(), ph.free_port()
        config = ph.bootstrap(
            [listener("strict", self.port, [dict(ph.http_filter_chain(routes_to("echo"), "inbound"), transport_socket=sds_tls())])],
            [ph.cluster("echo", [self.echo.port]), ph.cluster("sds-grpc", [sds_port], http2_protocol_options={})],
            admin_port=admin)
        config["node"] = {"id": "sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local", "cluster": "reviews"}
        self.proxy = ph.Proxy(config)
        self.proxy.start()  # returns once /ready is 200: the secrets have arrived
        self.addCleanup(self.proxy.stop)

    def curl(self, who="client"):
        d = os.path.join(self.pki, who)
        out = subprocess.run(["curl", "-sS", "-k", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                              "--cert", os.path.join(d, "cert-chain.pem"), "--key", os.path.join(d, "key.pem"),
                              "https://127.0.0.1:%d/sds" % self.port], capture_output=True, text=True, timeout=30)
        return out.stdout

    def test_certificates_come_from_sds(self):
        self.assertEqual(self.curl(), "200")
        self.assertNotEqual(self.curl("intruder"), "200")  # the inline SAN matcher still applies
        self.assertIn("DNS:before.example", presented_sans(self.port, self.pki))

    def test_rotation_and_a_refused_secret(self):
        issue(self.pki, "sds", SERVER_ID, "after.example")
        ph.wait_for(lambda: "DNS:after.example" in presented_sans(self.port, self.pki), timeout=10,
                    what="the rotated certificate to be presented")
        self.assertEqual(self.curl(), "200")
        # A key that belongs to another certificate: NACKed, the current certificate stays.
        shutil.copy(os.path.join(self.pki, "client", "key.pem"), os.path.join(self.pki, "sds", "key.pem"))
        ph.wait_for(lambda: "rejected" in self.proxy.log(), timeout=10, what="the broken secret to be rejected")
        self.assertIn("DNS:after.example", presented_sans(self.port, self.pki))
        self.assertEqual(self.curl(), "200")


if __name__ == "__main__":
    unittest.main()
