"""`monomesh galley` end to end: the validating webhook over HTTPS with real AdmissionReview JSON
(curl), the folder source and distribution to a python3-grpcio xDS client (MCP-wrapped
resources), and Pilot following Galley (`monomesh pilot --configSource`) with a sidecar's RDS:
a valid change reaches it, an invalid one is refused by Galley and the routes stay."""
import json
import os
import shutil
import time
import unittest

import harness
from galley_harness import Galley, make_certs
from pilot_harness import BOOKINFO_REGISTRY, PRODUCTPAGE_NODE, Pilot, reviews_endpoints
from pilot_test import REVIEWS_V1
from proxy_harness import wait_for
import xds_client
from xds_client import RDS, AdsClient, unpack, unpack_mcp

VS_URL = "type.googleapis.com/istio.networking.v1alpha3.VirtualService"
DR_URL = "type.googleapis.com/istio.networking.v1alpha3.DestinationRule"
SERVICE_URL = "type.googleapis.com/k8s.io.api.core.v1.Service"
POD_URL = "type.googleapis.com/k8s.io.api.core.v1.Pod"
MESH_POLICY_URL = "istio/authentication/v1alpha1/meshpolicies"
GALLEY_NODE = "pilot~test"


def virtual_service(name="reviews", subset="v1", weights=None):
    route = [{"destination": {"host": "reviews", "subset": subset}}]
    if weights:
        route = [{"destination": {"host": "reviews", "subset": "v%d" % (i + 1)}, "weight": w}
                 for i, w in enumerate(weights)]
    return {"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "reviews"}},
            "spec": {"hosts": ["reviews"], "http": [{"route": route}]}}


# The reviews DestinationRule (subsets v1, v2) and a VirtualService routing to subset %s.
REVIEWS_RULES = REVIEWS_V1

# Weights summing to 90: only Istio 1.1's semantic rules catch it.
REVIEWS_BROKEN = """
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 40}
    - {destination: {host: reviews, subset: v3}, weight: 50}
"""


def sidecar_routes(test, pilot):
    """A productpage sidecar's ADS stream to `pilot` with CDS and LDS acked: (client, its RDS)."""
    c = AdsClient(pilot.grpc_target, PRODUCTPAGE_NODE)
    test.addCleanup(c.close)
    for type_url in [xds_client.CDS, xds_client.LDS]:
        c.ack(c.subscribe(type_url))
    rds = c.subscribe(RDS, ["9080"])
    c.ack(rds)
    return c, rds


def reviews_clusters(rds):
    """The reviews clusters the routes of an RDS response send to."""
    return sorted({r.route.cluster for rc in unpack(rds) for vh in rc.virtual_hosts for r in vh.routes
                   if r.route.cluster and "reviews" in r.route.cluster})


@unittest.skipUnless(shutil.which("openssl") and shutil.which("curl"), "openssl and curl are needed")
class GalleyWebhook(unittest.TestCase):
    """The validating webhook: AdmissionReview v1 and v1beta1 over HTTPS."""

    def setUp(self):
        self.dir = harness.TempDir(self)
        self.certs = make_certs(self.dir.join("certs"))
        os.makedirs(self.dir.join("config"))
        self.galley = Galley(self.dir.join("config"), certs=self.certs).start()
        self.addCleanup(self.galley.stop)

    def test_valid_resources_are_allowed_in_both_api_versions(self):
        for api_version in ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]:
            with self.subTest(api_version=api_version):
                response = self.galley.review(virtual_service(), api_version=api_version, uid="uid-" + api_version)
                self.assertEqual(response["uid"], "uid-" + api_version)
                self.assertTrue(response["allowed"], response)
        self.assertEqual(self.galley.metric("galley_validation_passed", 'resource="virtualservices"'), 2)

    def test_invalid_resources_are_denied_with_the_rule(self):
        for path in ["/admitpilot", "/validate"]:
            with self.subTest(path=path):
                response = self.galley.review(virtual_service(weights=[40, 50]), path=path)
                self.assertFalse(response["allowed"])
                self.assertEqual(response["status"]["code"], 400)
                self.assertIn("VirtualService default/reviews: spec.http[0].route: weights sum to 90, must be 100",
                              response["status"]["message"])
        self.assertEqual(self.galley.metric("galley_validation_failed", 'reason="invalid_resource"'), 2)
        self.assertIn("weights sum to 90", self.galley.log())

    def test_schema_errors_and_unknown_kinds_are_denied(self):
        bad_field = virtual_service()
        bad_field["spec"]["tcp"] = 3
        response = self.galley.review(bad_field, api_version="admission.k8s.io/v1beta1")
        self.assertFalse(response["allowed"])
        self.assertIn("spec.tcp", response["status"]["message"])
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}}
        self.assertIn("unrecognized type Pod", self.galley.review(pod)["status"]["message"])
        self.assertIn("unrecognized type VirtualService",
                      self.galley.review(virtual_service(), path="/admitmixer")["status"]["message"])
        rule = {"apiVersion": "config.istio.io/v1alpha2", "kind": "rule",
                "metadata": {"name": "r", "namespace": "istio-system"},
                "spec": {"actions": [{"handler": "h.denier", "instances": ["i.checknothing"]}]}}
        self.assertTrue(self.galley.review(rule, path="/admitmixer")["allowed"])
        self.assertFalse(self.galley.review(rule, path="/admitpilot")["allowed"])

    def test_delete_is_always_allowed(self):
        response = self.galley.review(virtual_service(weights=[40, 50]), operation="DELETE")
        self.assertTrue(response["allowed"])

    def test_requests_that_are_not_reviews_get_http_errors(self):
        review = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                             "request": {"uid": "u", "operation": "CREATE", "object": virtual_service()}})
        cases = [
            ("malformed JSON", dict(body="{\"apiVersion\": "), 400, "could not decode body"),
            ("not a review", dict(body="{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"), 400, "apiVersion must be"),
            ("empty body", dict(body=""), 400, "no body"),
            ("binary garbage", dict(body=os.urandom(4096)), 400, "could not decode body"),
            ("wrong content type", dict(body=review, content_type="application/yaml"), 415, "want application/json"),
            ("GET", dict(body="", method="GET"), 405, "POST"),
            ("oversized body", dict(body=b"{" + b" " * (5 << 20) + b"}"), 413, "larger than"),
        ]
        for name, kwargs, status, text in cases:
            with self.subTest(case=name):
                r = self.galley.curl(kwargs.pop("path", "/admitpilot"), **kwargs)
                self.assertEqual(r.status, status, r)
                self.assertIn(text, r.body)
        self.assertEqual(self.galley.curl("/nowhere", review).status, 404)
        # After all that it still answers.
        self.assertTrue(self.galley.review(virtual_service())["allowed"])
        self.assertGreaterEqual(self.galley.metric("galley_validation_http_error", 'status="400"'), 4)

    def test_plain_http_and_broken_handshakes_do_not_hurt_it(self):
        import socket
        with socket.create_connection(("127.0.0.1", self.galley.webhook_port), timeout=5) as s:
            s.sendall(b"POST /admitpilot HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            s.recv(100)  # a TLS alert or nothing, then the close
        with socket.create_connection(("127.0.0.1", self.galley.webhook_port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x00\x05hello")
        self.assertTrue(self.galley.review(virtual_service())["allowed"])

    def test_certificate_rotation_is_picked_up(self):
        rotated = make_certs(self.dir.join("rotated"), ca_name="Rotated CA")
        new_ca = os.path.join(rotated, "root-cert.pem")
        self.assertIsNone(self.galley.curl("/admitpilot", "{}", ca=new_ca).status, "the new CA is not trusted yet")
        # Replace both files, as a secret volume update does.
        for name in ["key.pem", "cert-chain.pem"]:
            shutil.copy(os.path.join(rotated, name), os.path.join(self.certs, name + ".tmp"))
            os.replace(os.path.join(self.certs, name + ".tmp"), os.path.join(self.certs, name))
        wait_for(lambda: self.galley.curl("/admitpilot", "{}", ca=new_ca).status == 400, timeout=15,
                 what="the rotated certificate served")
        self.assertEqual(self.galley.metric("galley_validation_cert_key_updates"), 1)
        # A broken key keeps the current certificate.
        with open(os.path.join(self.certs, "key.pem"), "w") as f:
            f.write("not a key")
        wait_for(lambda: self.galley.metric("galley_validation_cert_key_update_errors") == 1, timeout=15,
                 what="the broken key reported")
        self.assertEqual(self.galley.curl("/admitpilot", "{}", ca=new_ca).status, 400)

    def test_missing_certificates_fail_the_start_step(self):
        g = Galley(self.dir.join("config"), certs=self.dir.join("nowhere"))
        self.addCleanup(g.stop)
        g.launch().process.wait(10)
        self.assertEqual(g.process.returncode, 1)
        self.assertIn("serve webhooks", g.log())
        self.assertIn("nowhere/cert-chain.pem", g.log())


class GalleyDistribution(unittest.TestCase):
    """A folder distributed as MCP over xDS to a python3-grpcio client."""

    def setUp(self):
        xds_client.protos()
        self.dir = harness.TempDir(self)
        self.dir.write("registry.yaml", BOOKINFO_REGISTRY)
        self.dir.write("reviews.yaml", REVIEWS_RULES % "v1")
        self.dir.write("mesh-policy.yaml", "apiVersion: authentication.istio.io/v1alpha1\nkind: MeshPolicy\n"
                                           "metadata: {name: default}\nspec: {peers: [{mtls: {}}]}\n")
        self.galley = Galley(self.dir.path).start()
        self.addCleanup(self.galley.stop)

    def client(self):
        c = AdsClient(self.galley.target, GALLEY_NODE)
        self.addCleanup(c.close)
        return c

    def test_every_kind_arrives_wrapped_with_its_metadata(self):
        c = self.client()
        vs = c.subscribe(VS_URL)
        c.ack(vs)
        resources = unpack_mcp(vs)
        self.assertEqual(list(resources), ["default/reviews"])
        body = resources["default/reviews"][1]
        self.assertEqual(list(body.hosts), ["reviews"])
        self.assertEqual(body.http[0].route[0].destination.subset, "v1")
        metadata, pod = unpack_mcp(c.subscribe(POD_URL))["default/reviews-v2-1"]
        self.assertEqual(dict(metadata.labels), {"app": "reviews", "version": "v2"})
        self.assertEqual(pod.status.podIP, "10.1.0.12")
        services = unpack_mcp(c.subscribe(SERVICE_URL))
        self.assertEqual(sorted(services), ["default/productpage", "default/reviews"])
        policies = c.subscribe(MESH_POLICY_URL)
        self.assertEqual(policies.type_url, MESH_POLICY_URL)
        self.assertEqual(list(unpack_mcp(policies)), ["default"])
        self.assertEqual(unpack_mcp(c.subscribe(DR_URL))["default/reviews"][1].host, "reviews")
        wait_for(lambda: self.galley.metric("galley_mcp_source_request_acks_total",
                                            'collection="istio/networking/v1alpha3/virtualservices"') == 1,
                 what="the ACK counted")
        self.assertEqual(self.galley.metric("galley_mcp_source_clients_total"), 1)

    def test_changes_are_pushed_and_unchanged_content_is_not(self):
        c = self.client()
        first = c.subscribe(VS_URL)
        c.ack(first)
        dr = c.subscribe(DR_URL)
        c.ack(dr)
        self.dir.write("reviews.yaml", REVIEWS_RULES % "v2")
        pushed = c.next(5)
        self.assertEqual(pushed.type_url, VS_URL, "only the kind that changed")
        self.assertNotEqual(pushed.version_info, first.version_info)
        self.assertEqual(unpack_mcp(pushed)["default/reviews"][1].http[0].route[0].destination.subset, "v2")
        c.ack(pushed)
        self.dir.write("reviews.yaml", REVIEWS_RULES % "v2")  # rewritten, same content
        self.assertEqual(c.quiet(1.0), [])
        os.unlink(self.dir.join("reviews.yaml"))
        removed = [r for r in c.quiet(1.5)]
        self.assertEqual(sorted(r.type_url for r in removed), sorted([VS_URL, DR_URL]))
        self.assertTrue(all(len(r.resources) == 0 for r in removed))

    def test_invalid_config_is_listed_and_never_distributed(self):
        c = self.client()
        c.ack(c.subscribe(VS_URL))
        self.dir.write("reviews.yaml", REVIEWS_BROKEN)
        wait_for(lambda: self.galley.json("/debug/invalid")["invalid"], what="the invalid file listed")
        entry = self.galley.json("/debug/invalid")["invalid"][0]
        self.assertEqual(entry["source"], "file")
        self.assertTrue(entry["name"].endswith("reviews.yaml"))
        self.assertEqual(entry["errors"][0]["path"], "spec.http[0].route")
        self.assertIn("weights sum to 90", entry["errors"][0]["message"])
        self.assertIn("weights sum to 90", self.galley.log())
        self.assertEqual(self.galley.metric("galley_source_invalid", 'source="file"'), 1)
        self.assertEqual(c.quiet(1.0), [], "the last good version stays; nothing is pushed")
        # A new client still gets the last good version.
        again = AdsClient(self.galley.target, "pilot~other")
        self.addCleanup(again.close)
        self.assertEqual(unpack_mcp(again.subscribe(VS_URL))["default/reviews"][1].http[0].route[0].destination.subset,
                         "v1")
        self.dir.write("reviews.yaml", REVIEWS_RULES % "v2")
        self.assertEqual(unpack_mcp(c.next(5))["default/reviews"][1].http[0].route[0].destination.subset, "v2")
        wait_for(lambda: self.galley.json("/debug/invalid")["invalid"] == [], what="the listing cleared")

    def test_unknown_types_get_nothing_and_nacks_are_counted(self):
        c = self.client()
        c._request("type.googleapis.com/envoy.config.cluster.v3.Cluster")
        self.assertEqual(c.quiet(0.5), [])
        vs = c.subscribe(VS_URL)
        c.nack(vs, "cannot apply")
        wait_for(lambda: self.galley.metric("galley_mcp_source_request_nacks_total") == 1, what="the NACK counted")
        self.assertEqual(c.quiet(0.5), [], "a NACK is not answered with the same thing again")

    def test_monitoring_endpoints(self):
        self.assertEqual(self.galley.get("/ready")[0], 200)
        self.assertEqual(self.galley.get("/healthz/ready")[0], 200)
        self.assertIn("version", self.galley.json("/version"))
        self.assertEqual(self.galley.json("/debug/invalid"), {"invalid": []})


class GalleyKubernetes(unittest.TestCase):
    """Istio config from a folder, the Kubernetes objects from an API server (the LIST/WATCH double
    of test/config/kube): both distributed; an object the API server holds that is invalid is
    listed and not distributed."""

    def setUp(self):
        from pilot_kube_test import ApiServer
        xds_client.protos()
        self.api = ApiServer(self)
        self.api.command(op="put", object={"apiVersion": "v1", "kind": "Service",
                                           "metadata": {"name": "reviews", "namespace": "default"},
                                           "spec": {"ports": [{"name": "http", "port": 9080}]}})
        self.dir = harness.TempDir(self)
        self.dir.write("reviews.yaml", REVIEWS_RULES % "v1")
        self.galley = Galley(self.dir.path, extra_args=["--kubeconfig", self.api.kubeconfig()]).start()
        self.addCleanup(self.galley.stop)

    def test_objects_from_the_api_server_are_distributed_and_followed(self):
        c = AdsClient(self.galley.target, GALLEY_NODE)
        self.addCleanup(c.close)
        first = c.subscribe(SERVICE_URL)
        c.ack(first)
        self.assertEqual(list(unpack_mcp(first)), ["default/reviews"])
        self.assertEqual(list(unpack_mcp(c.subscribe(VS_URL))), ["default/reviews"])
        self.api.command(op="put", object={"apiVersion": "v1", "kind": "Service",
                                           "metadata": {"name": "ratings", "namespace": "default"},
                                           "spec": {"ports": [{"name": "http", "port": 9080}]}})
        pushed = c.next_of(SERVICE_URL, 10)
        self.assertEqual(sorted(unpack_mcp(pushed)), ["default/ratings", "default/reviews"])
        c.ack(pushed)
        self.api.command(op="put", object={"apiVersion": "v1", "kind": "Service",
                                           "metadata": {"name": "Bad_Name", "namespace": "default"},
                                           "spec": {"ports": [{"port": 80}]}})
        invalid = wait_for(lambda: self.galley.json("/debug/invalid")["invalid"], what="the invalid Service listed")
        self.assertEqual(invalid[0]["source"], "kubernetes")
        self.assertIn("Bad_Name", invalid[0]["name"])
        self.assertEqual([r for r in c.quiet(1.0) if r.type_url == SERVICE_URL], [])


class PilotFollowsGalley(unittest.TestCase):
    """`monomesh galley` -> `monomesh pilot --configSource` -> a sidecar's RDS."""

    def setUp(self):
        xds_client.protos()
        self.dir = harness.TempDir(self)
        self.dir.write("registry.yaml", BOOKINFO_REGISTRY)
        self.dir.write("reviews-endpoints.yaml", reviews_endpoints("10.1.0.11", "10.1.0.12"))
        self.dir.write("reviews.yaml", REVIEWS_RULES % "v1")

    def start_galley(self, **kwargs):
        galley = Galley(self.dir.path, **kwargs).start()
        self.addCleanup(galley.stop)
        return galley

    def start_pilot(self, galley_target, wait=True, extra=()):
        pilot = Pilot(None, extra_args=["--configSource", galley_target] + list(extra))
        self.addCleanup(pilot.stop)
        return pilot.start() if wait else pilot.launch()

    def test_valid_changes_reach_the_sidecar_and_invalid_ones_are_refused(self):
        galley = self.start_galley()
        pilot = self.start_pilot(galley.target)
        c, rds = sidecar_routes(self, pilot)
        self.assertEqual(reviews_clusters(rds), ["outbound|9080|v1|reviews.default.svc.cluster.local"])

        self.dir.write("reviews.yaml", REVIEWS_RULES % "v2")
        pushed = c.next_of(RDS, 10)
        c.ack(pushed)
        self.assertEqual(reviews_clusters(pushed), ["outbound|9080|v2|reviews.default.svc.cluster.local"])

        self.dir.write("reviews.yaml", REVIEWS_BROKEN)
        wait_for(lambda: galley.json("/debug/invalid")["invalid"], what="galley listing the invalid rule")
        self.assertIn("weights sum to 90", galley.log())
        self.assertEqual([r.type_url for r in c.quiet(1.5)], [], "the sidecar keeps its routes")
        configz = [x for x in pilot.json("/debug/configz") if x["kind"] == "VirtualService"]
        self.assertEqual(configz[0]["spec"]["http"][0]["route"][0]["destination"]["subset"], "v2")
        _, metrics = pilot.get("/metrics", pilot.monitoring_port)
        self.assertIn('monomesh_config_mcp_synced{source="%s"} 1' % galley.target, metrics)
        self.assertNotIn('result="rejected"', metrics, "galley never sent pilot the invalid rule")

    def test_pilot_waits_for_galley_and_reconnects(self):
        port = harness.free_port()
        pilot = self.start_pilot("127.0.0.1:%d" % port, wait=False)
        wait_for(lambda: pilot.get("/ready")[0] == 503, what="pilot answering, not ready")
        time.sleep(1.0)
        self.assertEqual(pilot.get("/ready")[0], 503, "not ready before Galley's first full sync")
        galley = self.start_galley(server_port=port)
        wait_for(lambda: pilot.get("/ready")[0] == 200, timeout=20, what="pilot ready once galley synced")
        _, rds = sidecar_routes(self, pilot)
        self.assertEqual(reviews_clusters(rds), ["outbound|9080|v1|reviews.default.svc.cluster.local"])
        # Galley restarts with a changed rule: Pilot reconnects and takes the new state.
        galley.stop()
        self.dir.write("reviews.yaml", REVIEWS_RULES % "v2")
        self.start_galley(server_port=port)
        wait_for(lambda: [x for x in pilot.json("/debug/configz") if x["kind"] == "VirtualService"
                          and x["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v2"],
                 timeout=40, what="pilot following the restarted galley")

    def test_mesh_config_config_sources(self):
        galley = self.start_galley()
        mesh_dir = harness.TempDir(self)  # not galley's folder: a mesh config is not an object
        mesh = mesh_dir.write("mesh.yaml", "configSources:\n- address: %s\n" % galley.target)
        pilot = Pilot(None, extra_args=["--meshConfig", mesh])
        self.addCleanup(pilot.stop)
        pilot.start()
        _, rds = sidecar_routes(self, pilot)
        self.assertEqual(reviews_clusters(rds), ["outbound|9080|v1|reviews.default.svc.cluster.local"])

    def test_config_dir_and_config_source_together_is_a_start_error(self):
        r = harness.run("pilot", "--configDir", self.dir.path, "--configSource", "127.0.0.1:1",
                        "--grpcAddr", "127.0.0.1:0", "--httpAddr", "127.0.0.1:0", "--monitoringAddr", "127.0.0.1:0")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("--configDir and --configSource", r.stdout + r.stderr)
        r = harness.run("pilot", "--configSource", "nonsense", "--grpcAddr", "127.0.0.1:0",
                        "--httpAddr", "127.0.0.1:0", "--monitoringAddr", "127.0.0.1:0")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("expected host:port", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
