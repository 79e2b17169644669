"""Config distribution over mutual TLS: `monomesh galley` without --insecure serves MCP over
mutual TLS with its certificate files, and `monomesh pilot` follows it with mesh config
configSources[].tlsSettings (MUTUAL, with subjectAltNames too); the access list lets in only the
SPIFFE ids it names. A Pilot trusting the wrong CA logs why, retries with backoff and does not
crash, and catches up once its CA file is right; a client the CA did not sign is refused."""
import os
import re
import shutil
import socket
import subprocess
import time
import unittest

import harness
from galley_harness import Galley
from galley_test import REVIEWS_RULES, reviews_clusters, sidecar_routes
from pilot_harness import BOOKINFO_REGISTRY, Pilot, reviews_endpoints
from proxy_harness import wait_for
import xds_client
from xds_client import RDS

GALLEY_ID = "spiffe://cluster.local/ns/istio-system/sa/istio-galley-service-account"
PILOT_ID = "spiffe://cluster.local/ns/istio-system/sa/istio-pilot-service-account"
V1 = "outbound|9080|v1|reviews.default.svc.cluster.local"


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=30)


def make_ca(directory, name):
    os.makedirs(directory, exist_ok=True)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=directory)
    openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=" + name, "-days", "2", "-out", "ca.pem",
            cwd=directory)
    return directory


def issue(ca_dir, directory, sans):
    """A workload certificate signed by the CA in `ca_dir`, in Istio's /etc/certs layout."""
    os.makedirs(directory, exist_ok=True)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem", cwd=directory)
    openssl("req", "-new", "-key", "key.pem", "-subj", "/CN=workload", "-out", "leaf.csr", cwd=directory)
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=%s\n" % ",".join(sans))
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", os.path.join(ca_dir, "ca.pem"), "-CAkey",
            os.path.join(ca_dir, "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
            "-out", "cert-chain.pem", cwd=directory)
    shutil.copy(os.path.join(ca_dir, "ca.pem"), os.path.join(directory, "root-cert.pem"))
    return directory


@unittest.skipUnless(shutil.which("openssl"), "openssl is needed")
class DistributionTls(unittest.TestCase):
    def setUp(self):
        xds_client.protos()
        self.dir = harness.TempDir(self)
        self.dir.write("config/registry.yaml", BOOKINFO_REGISTRY)
        self.dir.write("config/reviews-endpoints.yaml", reviews_endpoints("10.1.0.11", "10.1.0.12"))
        self.dir.write("config/reviews.yaml", REVIEWS_RULES % "v1")
        self.mesh_ca = make_ca(self.dir.join("mesh-ca"), "Mesh CA")
        self.other_ca = make_ca(self.dir.join("other-ca"), "Other CA")
        self.galley_certs = issue(self.mesh_ca, self.dir.join("galley"),
                                  ["DNS:istio-galley.istio-system.svc", "IP:127.0.0.1", "URI:" + GALLEY_ID])
        self.pilot_certs = issue(self.mesh_ca, self.dir.join("pilot"), ["URI:" + PILOT_ID])

    def start_galley(self, *extra):
        galley = Galley(self.dir.join("config"), distribution_certs=self.galley_certs, extra_args=list(extra)).start()
        self.addCleanup(galley.stop)
        return galley

    def pilot(self, galley, certs=None, ca=None, extra_tls="", wait=True):
        certs = certs or self.pilot_certs
        mesh = self.dir.write("mesh-%d.yaml" % time.monotonic_ns(), """configSources:
- address: %s
  tlsSettings:
    mode: MUTUAL
    clientCertificate: %s
    privateKey: %s
    caCertificates: %s
%s""" % (galley.target, os.path.join(certs, "cert-chain.pem"), os.path.join(certs, "key.pem"),
         ca or os.path.join(self.mesh_ca, "ca.pem"), extra_tls))
        pilot = Pilot(None, extra_args=["--meshConfig", mesh])
        self.addCleanup(pilot.stop)
        return pilot.start() if wait else pilot.launch()

    def test_pilot_follows_galley_over_mutual_tls(self):
        access = self.dir.write("accesslist.yaml", "allowed:\n- %s\n" % PILOT_ID)
        galley = self.start_galley("--accessListFile", access)
        self.assertIn("mutual TLS", galley.log())
        pilot = self.pilot(galley)
        c, rds = sidecar_routes(self, pilot)
        self.assertEqual(reviews_clusters(rds), [V1])
        self.assertIn("MUTUAL", pilot.log())
        self.dir.write("config/reviews.yaml", REVIEWS_RULES % "v2")
        self.assertEqual(reviews_clusters(c.next_of(RDS, 10)), ["outbound|9080|v2|reviews.default.svc.cluster.local"])
        # Plaintext and junk on the distribution port are refused and logged; Galley goes on.
        with socket.create_connection(("127.0.0.1", galley.server_port), timeout=5) as s:
            s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            s.recv(100)
        wait_for(lambda: "distribution: TLS handshake with 127.0.0.1" in galley.log(), what="the refusal logged")
        self.assertEqual(galley.get("/ready")[0], 200)

    def test_subject_alt_names_name_galley(self):
        galley = self.start_galley()
        pilot = self.pilot(galley, extra_tls="    subjectAltNames: [%s]\n" % GALLEY_ID)
        self.assertEqual(reviews_clusters(sidecar_routes(self, pilot)[1]), [V1])
        wrong = self.pilot(galley, extra_tls="    subjectAltNames: [spiffe://cluster.local/ns/x/sa/not-galley]\n",
                           wait=False)
        wait_for(lambda: "certificate verify failed" in wrong.log(), timeout=15, what="the SAN mismatch logged")
        self.assertEqual(wrong.get("/ready")[0], 503)

    def test_wrong_ca_is_logged_retried_with_backoff_and_recovers(self):
        galley = self.start_galley()
        ca = self.dir.join("pilot-ca.pem")
        shutil.copy(os.path.join(self.other_ca, "ca.pem"), ca)
        pilot = self.pilot(galley, ca=ca, wait=False)
        wait_for(lambda: "certificate verify failed" in pilot.log(), timeout=15, what="the bad CA logged")
        time.sleep(6)
        attempts = len(re.findall(r"config source .*: TLS handshake failed", pilot.log()))
        # Exponential backoff from 0.5 s: a handful of attempts in ~6 s, not a busy loop.
        self.assertGreaterEqual(attempts, 2, pilot.log())
        self.assertLessEqual(attempts, 8, pilot.log())
        self.assertIsNone(pilot.process.poll(), "pilot keeps running")
        self.assertEqual(pilot.get("/ready")[0], 503, "not ready without its config")
        self.assertIn("unable to get local issuer certificate", pilot.log())
        self.assertIn("TLS handshake with 127.0.0.1", galley.log(), "galley saw the failed handshakes")
        # The right CA file in place: the next attempt reads it and Pilot catches up.
        shutil.copy(os.path.join(self.mesh_ca, "ca.pem"), ca)
        wait_for(lambda: pilot.get("/ready")[0] == 200, timeout=60, what="pilot ready with the right CA")
        self.assertEqual(reviews_clusters(sidecar_routes(self, pilot)[1]), [V1])

    def test_clients_the_ca_did_not_sign_or_the_list_does_not_name_are_refused(self):
        stranger = issue(self.other_ca, self.dir.join("stranger"), ["URI:" + PILOT_ID])
        galley = self.start_galley()
        pilot = self.pilot(galley, certs=stranger, wait=False)
        wait_for(lambda: "distribution: TLS handshake with" in galley.log(), timeout=15,
                 what="galley refusing the stranger")
        self.assertEqual(pilot.get("/ready")[0], 503)
        galley.stop()

        access = self.dir.write("accesslist.yaml", "allowed:\n- spiffe://cluster.local/ns/istio-system/sa/istio-mixer-service-account\n")
        listed = self.start_galley("--accessListFile", access)
        unlisted = self.pilot(listed, wait=False)
        wait_for(lambda: listed.metric("galley_mcp_source_clients_refused_total"), timeout=15,
                 what="the unlisted pilot refused")
        self.assertIn("refused %s: not in the access list" % PILOT_ID, listed.log())
        self.assertEqual(unlisted.get("/ready")[0], 503)

    def test_bad_certificates_or_access_list_fail_the_start(self):
        for name, extra, text in [
            ("missing certificates", dict(distribution_certs=self.dir.join("nowhere")), "nowhere/cert-chain.pem"),
            ("bad access list", dict(distribution_certs=self.galley_certs,
                                     extra_args=["--accessListFile", self.dir.write("bad-list.yaml", "allowed: [pilot]\n")]),
             "bad-list.yaml:1:11: access list: allowed[0]: \"pilot\" is not a SPIFFE id"),
        ]:
            with self.subTest(case=name):
                g = Galley(self.dir.join("config"), **extra)
                self.addCleanup(g.stop)
                g.launch().process.wait(10)
                self.assertEqual(g.process.returncode, 1, g.log())
                self.assertIn("serve distribution", g.log())
                self.assertIn(text, g.log())


if __name__ == "__main__":
    unittest.main()
