"""Galley keeps its ValidatingWebhookConfiguration registered, as Istio 1.1's galley did with
--validation-webhook-config-file, against the Kubernetes API-server double: created with the CA
file as caBundle and an ownerReference to Galley's Deployment; a rotated CA updates it; deleted
or edited by hand, it comes back; a broken file is a clear start-up error, and a broken change
keeps the last good object."""
import base64
import os
import shutil
import time
import unittest

import harness
from galley_harness import Galley, make_certs
from proxy_harness import wait_for

VWC = dict(apiVersion="admissionregistration.k8s.io/v1beta1", kind="ValidatingWebhookConfiguration", name="istio-galley")

# The 1.1 chart's file (istio-galley-configuration ConfigMap, key validatingwebhookconfiguration.yaml).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "galley", "data",
                       "validatingwebhookconfiguration.yaml")) as f:
    CONFIG = f.read()


@unittest.skipUnless(shutil.which("openssl") and shutil.which("curl"), "openssl and curl are needed")
class WebhookRegistration(unittest.TestCase):
    def setUp(self):
        from pilot_kube_test import ApiServer
        self.api = ApiServer(self)
        self.dir = harness.TempDir(self)
        self.certs = make_certs(self.dir.join("certs"))
        os.makedirs(self.dir.join("config"))
        self.config = self.dir.write("validatingwebhookconfiguration.yaml", CONFIG)

    def deployment(self):
        self.api.command(op="put", object={"apiVersion": "apps/v1", "kind": "Deployment",
                                           "metadata": {"name": "istio-galley", "namespace": "istio-system"},
                                           "spec": {"replicas": 1}})
        return self.api.command(op="get", apiVersion="apps/v1", kind="Deployment", namespace="istio-system",
                                name="istio-galley")["object"]["metadata"]["uid"]

    def galley(self, *extra):
        return Galley(self.dir.join("config"), certs=self.certs,
                      extra_args=["--kubeconfig", self.api.kubeconfig(),
                                  "--validation-webhook-config-file", self.config] + list(extra))

    def start(self, *extra):
        g = self.galley(*extra).start()
        self.addCleanup(g.stop)
        return g

    def registered(self):
        return self.api.command(op="get", **VWC)["object"]

    def ca_bundle(self):
        with open(os.path.join(self.certs, "root-cert.pem"), "rb") as f:
            return base64.b64encode(f.read()).decode()

    def writes(self):
        return self.api.command(op="stats")["writes"]

    def test_created_with_ca_bundle_and_owner_then_follows_the_ca_file(self):
        uid = self.deployment()
        galley = self.start()
        vwc = wait_for(self.registered, timeout=15, what="the configuration created")
        self.assertEqual([w["name"] for w in vwc["webhooks"]], ["pilot.validation.istio.io", "mixer.validation.istio.io"])
        self.assertEqual([w["clientConfig"]["caBundle"] for w in vwc["webhooks"]], [self.ca_bundle()] * 2)
        self.assertEqual([w["failurePolicy"] for w in vwc["webhooks"]], ["Fail", "Fail"])
        self.assertEqual(vwc["webhooks"][1]["namespaceSelector"], {})
        self.assertEqual(vwc["webhooks"][0]["clientConfig"]["service"]["path"], "/admitpilot")
        self.assertEqual(vwc["metadata"]["ownerReferences"],
                         [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "istio-galley", "uid": uid,
                           "controller": True, "blockOwnerDeletion": True}])
        self.assertNotIn("namespace", vwc["metadata"])
        self.assertEqual(vwc["metadata"]["labels"], {"app": "galley"})
        self.assertEqual(self.writes(), [["POST", "/apis/admissionregistration.k8s.io/v1beta1/"
                                                  "validatingwebhookconfigurations/istio-galley"]])
        time.sleep(2.5)
        self.assertEqual(len(self.writes()), 1, "nothing to change: no more writes")

        # The CA is rotated (the secret volume swaps the file): the caBundle follows.
        rotated = make_certs(self.dir.join("rotated"), ca_name="Rotated CA")
        shutil.copy(os.path.join(rotated, "root-cert.pem"), os.path.join(self.certs, "root-cert.pem.tmp"))
        os.replace(os.path.join(self.certs, "root-cert.pem.tmp"), os.path.join(self.certs, "root-cert.pem"))
        wait_for(lambda: self.registered()["webhooks"][0]["clientConfig"]["caBundle"] == self.ca_bundle(), timeout=15,
                 what="the rotated CA registered")
        self.assertEqual(self.writes()[-1][0], "PUT")
        self.assertGreaterEqual(galley.metric("galley_validation_config_updates"), 2)

    def test_deleted_or_edited_by_hand_it_comes_back(self):
        self.deployment()
        self.start()
        wait_for(self.registered, timeout=15, what="the configuration created")
        self.api.command(op="delete", **VWC)
        wait_for(self.registered, timeout=15, what="the configuration re-created")
        edited = self.registered()
        edited["webhooks"][0]["failurePolicy"] = "Ignore"
        edited["metadata"]["labels"]["owner"] = "someone"
        self.api.command(op="put", object=edited)
        wait_for(lambda: self.registered()["webhooks"][0]["failurePolicy"] == "Fail", timeout=15,
                 what="the webhook restored")
        self.assertEqual(self.registered()["metadata"]["labels"], {"app": "galley", "owner": "someone"},
                         "what Galley does not own is kept")

    def test_without_the_deployment_it_registers_without_an_owner(self):
        galley = self.start()
        vwc = wait_for(self.registered, timeout=15, what="the configuration created")
        self.assertNotIn("ownerReferences", vwc["metadata"])
        self.assertIn("must be deleted manually", galley.log())

    def test_broken_files_fail_the_start_and_broken_changes_keep_the_last_good(self):
        self.dir.write("broken.yaml", CONFIG.replace("kind: ValidatingWebhookConfiguration", "kind: Mutating"))
        g = Galley(self.dir.join("config"), certs=self.certs,
                   extra_args=["--kubeconfig", self.api.kubeconfig(),
                               "--validation-webhook-config-file", self.dir.join("broken.yaml")])
        self.addCleanup(g.stop)
        g.launch().process.wait(15)
        self.assertEqual(g.process.returncode, 1, g.log())
        self.assertIn("register validating webhook", g.log())
        self.assertIn(self.dir.join("broken.yaml") + ":4:7: ValidatingWebhookConfiguration: kind: must be "
                      "ValidatingWebhookConfiguration", g.log())
        self.assertIsNone(self.registered(), "nothing registered")

        galley = self.start()
        wait_for(self.registered, timeout=15, what="the configuration created")
        self.dir.write("validatingwebhookconfiguration.yaml", "webhooks: [")
        wait_for(lambda: galley.metric("galley_validation_config_load_error") == 1, timeout=15,
                 what="the broken change reported")
        self.assertIn("not reloaded (keeping the last good one)", galley.log())
        self.assertEqual(len(self.registered()["webhooks"]), 2)
        self.dir.write("validatingwebhookconfiguration.yaml", CONFIG)
        with open(os.path.join(self.certs, "root-cert.pem"), "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        wait_for(lambda: galley.metric("galley_validation_config_load_error") == 2, timeout=15,
                 what="the broken CA reported")
        self.assertIn("not a CERTIFICATE", galley.log())

    def test_it_needs_kubernetes(self):
        g = Galley(self.dir.join("config"), certs=self.certs, extra_args=["--validation-webhook-config-file", self.config])
        self.addCleanup(g.stop)
        g.launch().process.wait(15)
        self.assertEqual(g.process.returncode, 1, g.log())
        self.assertIn("register validating webhook", g.log())
        self.assertIn("needs the Kubernetes API (--kubeconfig, or run in a pod)", g.log())


if __name__ == "__main__":
    unittest.main()
