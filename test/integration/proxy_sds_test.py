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


ENVOY_GRPC = {"envoy_grpc": {"cluster_name": "sds-grpc"}}


def sds_config(service=None):
    return {"api_config_source": {"api_type": "GRPC", "grpc_services": [service or ENVOY_GRPC]}}


def uds_service(path):
    """Istio 1.1's sidecar SDS service: Google gRPC to the node agent's Unix socket."""
    return {"google_grpc": {"target_uri": "unix:" + path, "stat_prefix": "sdsstat",
                            "channel_credentials": {"local_credentials": {}}}}


def sds_tls(service=None):
    """Istio 1.1's SDS shape: the certificate and the roots from SDS, the peer check inline."""
    sds_config_ = sds_config(service)
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": DOWNSTREAM_TLS, "require_client_certificate": True, "common_tls_context": {
            "tls_certificate_sds_secret_configs": [{"name": "default", "sds_config": sds_config_}],
            "combined_validation_context": {
                "default_validation_context": {"match_typed_subject_alt_names": [
                    {"san_type": "URI", "matcher": {"exact": CLIENT_ID}}]},
                "validation_context_sds_secret_config": {"name": "ROOTCA", "sds_config": sds_config_}},
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
        self.uds = os.path.join(self.pki, "uds_path")  # the SDS server answers there too
        self.sds = subprocess.Popen([SDS_SERVER, os.path.join(self.pki, "sds"), "--unix", self.uds],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.sds.wait, 10)
        self.addCleanup(self.sds.stdin.close)
        self.sds_port = int(self.sds.stdout.readline())
        self.echo = ph.PyBackend("echo")
        self.echo.start()
        self.addCleanup(self.echo.stop)
        self.proxy = self.make_proxy(*self.sds_service())
        self.proxy.start()  # returns once /ready is 200: the secrets have arrived
        self.addCleanup(self.proxy.stop)

    def sds_service(self):
        """The SDS grpc_service and the cluster it names (if any)."""
        return ENVOY_GRPC, ph.cluster("sds-grpc", [self.sds_port], http2_protocol_options={})

    def make_proxy(self, service, sds_cluster=None):
        self.port, admin = ph.free_port(), ph.free_port()
        clusters = [ph.cluster("echo", [self.echo.port])] + ([sds_cluster] if sds_cluster else [])
        config = ph.bootstrap(
            [listener("strict", self.port, [dict(ph.http_filter_chain(routes_to("echo"), "inbound"),
                                                 transport_socket=sds_tls(service))])],
            clusters, admin_port=admin)
        config["node"] = {"id": "sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local", "cluster": "reviews"}
        proxy = ph.Proxy(config)
        self.addCleanup(proxy.cleanup)
        return proxy

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


class ProxySdsUnixSocketTest(ProxySdsTest):
    """The same over a Unix domain socket, as Istio 1.1's sidecars reached the node agent:
    google_grpc with target_uri unix:/var/run/sds/uds_path and local channel credentials."""

    def sds_service(self):
        return uds_service(self.uds), None

    def test_an_sds_agent_that_is_not_there_yet_is_waited_for(self):
        late = os.path.join(self.pki, "late_uds")
        proxy = self.make_proxy(uds_service(late))
        proxy.launch()
        ph.wait_for(lambda: "cannot connect to unix:" + late in proxy.log(), timeout=10,
                    what="the failed connect to be logged")
        self.assertNotEqual(proxy.admin("/ready").status, 200)
        # The agent starts: the secrets arrive and the listener serves.
        os.symlink(self.uds, late)
        ph.wait_for(lambda: proxy.admin("/ready").status == 200, timeout=15, what="the proxy to become ready")

    def test_bad_sds_services_are_start_up_errors(self):
        long_path = "/tmp/" + "x" * 120
        cases = [
            ({"google_grpc": {"target_uri": "unix:", "stat_prefix": "s"}}, "google_grpc.target_uri: the Unix socket path is empty"),
            ({"google_grpc": {"target_uri": "unix:" + long_path, "stat_prefix": "s"}}, "longer than 107 bytes"),
            ({"google_grpc": {"target_uri": "unix://agent/path", "stat_prefix": "s"}}, "names a host"),
            ({"google_grpc": {"target_uri": "unix-abstract:sds", "stat_prefix": "s"}}, "abstract Unix sockets"),
            ({"google_grpc": {"target_uri": "sds-agent", "stat_prefix": "s"}}, "needs a port"),
            ({"google_grpc": {"target_uri": "unix:" + self.uds, "stat_prefix": "s",
                              "channel_credentials": {"ssl_credentials": {}}}},
             "google_grpc.channel_credentials: only local_credentials are supported"),
            ({"google_grpc": {"target_uri": "unix:" + self.uds, "stat_prefix": "s",
                              "call_credentials": [{"access_token": "t"}]}}, "google_grpc.call_credentials"),
        ]
        for service, message in cases:
            with self.subTest(message=message):
                proxy = self.make_proxy(service)
                proxy.launch()
                self.assertEqual(proxy.wait(), 1, proxy.log())
                self.assertIn(message, proxy.log())


class ProxySdsPipeClusterTest(ProxySdsTest):
    """envoy_grpc to a static cluster whose endpoint is a pipe (the Unix socket)."""

    def sds_service(self):
        cluster = {"name": "sds-grpc", "type": "STATIC", "connect_timeout": "1s", "http2_protocol_options": {},
                   "load_assignment": {"cluster_name": "sds-grpc", "endpoints": [{"lb_endpoints": [
                       {"endpoint": {"address": {"pipe": {"path": self.uds}}}}]}]}}
        return ENVOY_GRPC, cluster


if __name__ == "__main__":
    unittest.main()
