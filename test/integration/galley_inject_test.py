"""Galley's /inject mutating webhook over HTTPS with curl and real AdmissionReview JSON: the
JSONPatch it answers, applied here by a small RFC 6902 applier, turns the pod into exactly what
`monomesh kube-inject` makes of it; opt-outs, hostNetwork, injected pods and other kinds are
allowed unchanged; the injector config is read at start and followed; bad requests get 4xx."""
import base64
import copy
import json
import os
import shutil
import unittest

import harness
from galley_harness import Galley, admission_review, make_certs
from kube_inject_test import parse_block
from proxy_harness import wait_for

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "details-v1-abc12", "namespace": "default",
                    "labels": {"app": "details", "version": "v1"}},
       "spec": {"serviceAccountName": "bookinfo-details",
                "containers": [{"name": "details", "image": "istio/examples-bookinfo-details-v1:1.10.1",
                                "ports": [{"containerPort": 9080, "protocol": "TCP"}]}],
                "volumes": [{"name": "token", "secret": {"secretName": "t"}}]}}


def pointer(path):
    """RFC 6901 reference tokens of a JSON pointer."""
    assert path.startswith("/"), path
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def apply_patch(document, patch):
    """RFC 6902 add, remove, replace and test, as the API server applies the webhook's answer."""
    doc = copy.deepcopy(document)
    for op in patch:
        *parents, last = pointer(op["path"])
        target = doc
        for token in parents:
            target = target[int(token)] if isinstance(target, list) else target[token]
        if op["op"] == "add":
            if isinstance(target, list):
                target.insert(len(target) if last == "-" else int(last), op["value"])
            else:
                target[last] = op["value"]
        elif op["op"] == "remove":
            del target[int(last) if isinstance(target, list) else last]
        elif op["op"] == "replace":
            target[int(last) if isinstance(target, list) else last] = op["value"]
        elif op["op"] == "test":
            assert target[int(last) if isinstance(target, list) else last] == op["value"], op
        else:
            raise AssertionError("unexpected op %r" % op)
    return doc


@unittest.skipUnless(shutil.which("openssl") and shutil.which("curl"), "openssl and curl are needed")
class GalleyInject(unittest.TestCase):
    def setUp(self):
        self.dir = harness.TempDir(self)
        self.certs = make_certs(self.dir.join("certs"))
        os.makedirs(self.dir.join("config"))

    def start(self, *extra):
        galley = Galley(self.dir.join("config"), certs=self.certs, extra_args=list(extra)).start()
        self.addCleanup(galley.stop)
        return galley

    def inject(self, galley, obj, api_version="admission.k8s.io/v1", namespace="default"):
        """The /inject answer for `obj`: (response, the patched object or None without a patch)."""
        r = galley.curl("/inject", json.dumps(admission_review(obj, api_version=api_version, namespace=namespace)))
        self.assertEqual(r.status, 200, r)
        answer = r.json()
        self.assertEqual((answer["apiVersion"], answer["kind"]), (api_version, "AdmissionReview"))
        response = answer["response"]
        self.assertEqual(response["uid"], "6f1a-uid")
        if "patch" not in response:
            return response, None
        self.assertEqual(response["patchType"], "JSONPatch")
        return response, apply_patch(obj, json.loads(base64.b64decode(response["patch"])))

    def kube_inject(self, obj, *flags):
        path = self.dir.write("pod.json", json.dumps(obj))
        r = harness.run("kube-inject", "-f", path, *flags)
        self.assertEqual(r.returncode, 0, r)
        return parse_block(r.stdout)

    def test_the_patch_makes_what_kube_inject_makes(self):
        galley = self.start()
        expected = self.kube_inject(POD)
        for version in ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]:
            with self.subTest(version=version):
                response, patched = self.inject(galley, POD, api_version=version)
                self.assertTrue(response["allowed"])
                self.assertIsNotNone(patched, response)
                self.assertEqual(patched, expected)
        self.assertEqual([c["name"] for c in patched["spec"]["containers"]], ["details", "istio-proxy"])
        self.assertEqual([c["name"] for c in patched["spec"]["initContainers"]], ["istio-init"])
        self.assertIn("sidecar.istio.io/status", patched["metadata"]["annotations"])
        # A pod made by a controller has no namespace yet: the request's stands in.
        nameless = copy.deepcopy(POD)
        del nameless["metadata"]["namespace"]
        _, patched = self.inject(galley, nameless, namespace="bookinfo")
        proxy = next(c for c in patched["spec"]["containers"] if c["name"] == "istio-proxy")
        self.assertIn("details.bookinfo", proxy["args"])
        wait_for(lambda: galley.metric("sidecar_injection_success_total") == 3, what="successes counted")

    def test_pods_left_alone_are_allowed_unchanged(self):
        galley = self.start()
        opted_out = copy.deepcopy(POD)
        opted_out["metadata"]["annotations"] = {"sidecar.istio.io/inject": "false"}
        host = copy.deepcopy(POD)
        host["spec"]["hostNetwork"] = True
        injected = self.kube_inject(POD)
        deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                      "spec": {"template": copy.deepcopy({"metadata": POD["metadata"], "spec": POD["spec"]})}}
        for name, obj in [("annotation false", opted_out), ("hostNetwork", host), ("already injected", injected),
                          ("not a pod", deployment)]:
            with self.subTest(case=name):
                response, patched = self.inject(galley, obj)
                self.assertTrue(response["allowed"])
                self.assertIsNone(patched, response)
        self.assertEqual(galley.metric("sidecar_injection_skip_total"), 4)

    def test_policy_comes_from_the_inject_config_and_is_followed(self):
        config = self.dir.write("inject-config.yaml", "policy: disabled\n")
        galley = self.start("--injectConfig", config)
        self.assertIsNone(self.inject(galley, POD)[1], "policy disabled: no annotation, no sidecar")
        asked = copy.deepcopy(POD)
        asked["metadata"]["annotations"] = {"sidecar.istio.io/inject": "true"}
        self.assertIsNotNone(self.inject(galley, asked)[1], "policy disabled: the annotation asks for it")
        self.dir.write("inject-config.yaml", "policy: enabled\n")
        wait_for(lambda: self.inject(galley, POD)[1] is not None, timeout=15, what="the enabled policy followed")
        self.dir.write("inject-config.yaml", "policy: sometimes\n")
        wait_for(lambda: galley.metric("sidecar_injection_config_reload_errors_total") == 1, timeout=15,
                 what="the broken config reported")
        self.assertIn("policy", galley.log())
        self.assertIsNotNone(self.inject(galley, POD)[1], "the last good config stays")

    def test_requests_that_are_not_reviews_get_http_errors(self):
        galley = self.start()
        review = json.dumps(admission_review(POD))
        cases = [
            ("malformed JSON", dict(body="{\"apiVersion\": "), 400, "could not decode body"),
            ("not a review", dict(body="{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"), 400, "apiVersion must be"),
            ("empty body", dict(body=""), 400, "no body"),
            ("binary garbage", dict(body=os.urandom(4096)), 400, "could not decode body"),
            ("deep nesting", dict(body="[" * 100000 + "]" * 100000), 400, "could not decode body"),
            ("wrong content type", dict(body=review, content_type="application/yaml"), 415, "want application/json"),
            ("GET", dict(body="", method="GET"), 405, "POST"),
            ("oversized body", dict(body=b"{" + b" " * (5 << 20) + b"}"), 413, "larger than"),
        ]
        for name, kwargs, status, text in cases:
            with self.subTest(case=name):
                r = galley.curl("/inject", **kwargs)
                self.assertEqual(r.status, status, r)
                self.assertIn(text, r.body)
        self.assertIsNotNone(self.inject(galley, POD)[1], "it still answers")
        self.assertGreaterEqual(galley.metric("sidecar_injection_failure_total"), 5)

    def test_injection_can_be_turned_off_and_bad_config_fails_the_start(self):
        galley = self.start("--enable-injection=false")
        self.assertEqual(galley.curl("/inject", json.dumps(admission_review(POD))).status, 404)
        self.assertEqual(galley.curl("/admitpilot", "{}").status, 400, "validation still served")
        bad = self.dir.write("bad-inject.yaml", "policy: enabled\nbogus: 1\n")
        g = Galley(self.dir.join("config"), certs=self.certs, extra_args=["--injectConfig", bad])
        self.addCleanup(g.stop)
        g.launch().process.wait(10)
        self.assertEqual(g.process.returncode, 1)
        self.assertIn("serve webhooks", g.log())
        self.assertIn(bad + ":2:1", g.log())


if __name__ == "__main__":
    unittest.main()
