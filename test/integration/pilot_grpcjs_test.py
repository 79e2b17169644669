"""`monomesh pilot` against an xDS client of another gRPC implementation: @grpc/grpc-js (pure
JavaScript, nothing shared with Monomesh or with gRPC's C core) with stubs that @grpc/proto-loader
builds from third_party/'s Envoy protos. State of the world: CDS, EDS, LDS and RDS each ACKed with
their version and nonce, a pushed response NACKed (counted, shown, not re-sent, the ACKed version
kept), and recovery on the next change; incremental: subscriptions by name, an endpoint push
NACKed. Skipped, saying why, without node or the client's npm packages (scripts/setup.sh)."""
import unittest

from pilot_harness import PRODUCTPAGE_NODE, REVIEWS_V1, reviews_endpoints, start_bookinfo_pilot
from proxy_harness import wait_for
import xds_client_js
from xds_client_js import JsAdsClient

REVIEWS = "outbound|9080||reviews.default.svc.cluster.local"
REVIEWS_V2 = "outbound|9080|v2|reviews.default.svc.cluster.local"
# What pilot-agent put into an Istio 1.1 sidecar's node metadata.
SIDECAR_METADATA = {"ISTIO_VERSION": "1.1.0", "CONFIG_NAMESPACE": "default", "INTERCEPTION_MODE": "REDIRECT",
                    "app": "productpage", "version": "v1"}
HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"


def names(response):
    return sorted(r["name"] if "name" in r else r["cluster_name"] for r in response["resources"])


def addresses(assignment):
    return sorted(e["endpoint"]["address"]["socket_address"]["address"]
                  for group in assignment.get("endpoints", []) for e in group.get("lb_endpoints", []))


def route_names(listeners):
    """The RDS names the listeners' HTTP connection managers ask for (typed_config decoded)."""
    out = set()
    for listener in listeners:
        for chain in listener.get("filter_chains", []):
            for f in chain.get("filters", []):
                config = f.get("typed_config", {})
                if config.get("@type") == HCM and "rds" in config:
                    out.add(config["rds"]["route_config_name"])
    return sorted(out)


class PilotGrpcJs(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        why = xds_client_js.missing()
        if why:
            raise unittest.SkipTest("grpc-js xDS client: " + why)

    def setUp(self):
        self.dir, self.pilot = start_bookinfo_pilot(self)

    def client(self, mode="sotw", node=PRODUCTPAGE_NODE):
        c = JsAdsClient(self.pilot.grpc_target, node, SIDECAR_METADATA, mode)
        self.addCleanup(c.close)
        return c

    def syncz(self):
        return [s for s in self.pilot.json("/debug/syncz") if s["proxy"] == PRODUCTPAGE_NODE]

    def test_state_of_the_world_with_ack_and_nack(self):
        c = self.client()
        self.assertGreater(c.info["types"], 300, "proto-loader loaded every message of third_party/")
        cds = c.subscribe("CDS")
        self.assertTrue(cds["version_info"] and cds["nonce"])
        clusters = {x["name"]: x for x in cds["resources"]}
        for name in [REVIEWS, REVIEWS_V2, "inbound|9080|http|productpage.default.svc.cluster.local",
                     "BlackHoleCluster", "PassthroughCluster"]:
            self.assertIn(name, clusters)
        self.assertEqual(clusters[REVIEWS]["@type"], "type.googleapis.com/envoy.config.cluster.v3.Cluster")
        sent = c.ack("CDS")
        self.assertEqual((sent["version_info"], sent["response_nonce"]), (cds["version_info"], cds["nonce"]))

        eds_names = sorted(n for n, x in clusters.items() if x.get("type") == "EDS")
        eds = c.subscribe("EDS", eds_names)
        self.assertEqual(names(eds), eds_names)
        by_name = {a["cluster_name"]: a for a in eds["resources"]}
        self.assertEqual(addresses(by_name[REVIEWS_V2]), ["10.1.0.12"])
        self.assertEqual(addresses(by_name[REVIEWS]), ["10.1.0.11", "10.1.0.12"])
        c.ack("EDS")

        lds = c.subscribe("LDS")
        self.assertIn("virtual", names(lds))
        self.assertIn("0.0.0.0_9080", names(lds))
        routes = route_names(lds["resources"])
        self.assertIn("9080", routes)
        c.ack("LDS")

        rds = c.subscribe("RDS", routes)
        self.assertEqual(names(rds), routes)
        c.ack("RDS")
        self.assertEqual(c.quiet(0.5), [], "everything is ACKed: nothing more comes")
        synced = wait_for(lambda: [s for s in self.syncz() if s.get("route_acked") == rds["version_info"]],
                          what="syncz shows the RDS ACK")[0]
        for t, response in (("cluster", cds), ("endpoint", eds), ("listener", lds)):
            self.assertEqual(synced[t + "_acked"], response["version_info"], t)

        # A pushed route change, NACKed: counted, shown, the ACKed version kept, nothing re-sent.
        self.dir.write("reviews.yaml", REVIEWS_V1 % "v2")
        pushed = c.next(5)
        self.assertEqual(pushed["type_url"], "type.googleapis.com/envoy.config.route.v3.RouteConfiguration")
        self.assertNotEqual(pushed["version_info"], rds["version_info"])
        sent = c.nack("RDS", "route 9080: rejected by the grpc-js client")
        self.assertEqual((sent["version_info"], sent["response_nonce"]), (rds["version_info"], pushed["nonce"]))
        self.assertEqual(sent["error_detail"]["code"], 3)
        wait_for(lambda: self.pilot.metric("pilot_total_xds_rejects") == 1, what="the NACK counted")
        self.assertEqual(self.pilot.metric("pilot_xds_rds_reject"), 1)
        self.assertEqual(self.pilot.metric("pilot_xds_cds_reject"), 0)
        shown = wait_for(lambda: [s for s in self.syncz() if s.get("route_nack")], what="syncz shows the NACK")[0]
        self.assertIn("rejected by the grpc-js client", shown["route_nack"])
        self.assertEqual(shown["route_acked"], rds["version_info"], "the proxy still runs what it ACKed")
        self.assertEqual(c.quiet(1.0), [], "a NACK must not make pilot send the same thing again")

        # The next change is sent and ACKed; the NACK is cleared.
        self.dir.write("reviews.yaml", REVIEWS_V1 % "v1")
        again = c.next(5)
        self.assertEqual(names(again), ["9080"])
        c.ack("RDS")
        wait_for(lambda: [s for s in self.syncz()
                          if s.get("route_acked") == again["version_info"] and "route_nack" not in s],
                 what="the new routes ACKed")
        status = c.close()
        self.assertEqual(status["code"], 0, "a half-close ends the stream cleanly: %r" % status)

    def test_incremental_exchange_with_ack_and_nack(self):
        c = self.client("delta")
        c.delta("CDS")
        cds = c.next()
        self.assertTrue(cds["nonce"])
        self.assertIn(REVIEWS_V2, [r["name"] for r in cds["resources"]])
        self.assertTrue(all(r["version"] for r in cds["resources"]))
        self.assertEqual(cds["resources"][0]["resource"]["@type"], "type.googleapis.com/envoy.config.cluster.v3.Cluster")
        c.ack("CDS")
        c.delta("EDS", subscribe=[REVIEWS])
        eds = c.next()
        self.assertEqual([r["name"] for r in eds["resources"]], [REVIEWS])
        self.assertEqual(addresses(eds["resources"][0]["resource"]), ["10.1.0.11", "10.1.0.12"])
        c.ack("EDS")
        c.delta("LDS")
        lds = c.next()
        c.ack("LDS")
        c.delta("RDS", subscribe=route_names([r["resource"] for r in lds["resources"]]))
        rds = c.next()
        self.assertEqual([r["name"] for r in rds["resources"]], ["9080"])
        c.ack("RDS")
        self.assertEqual(c.quiet(0.5), [])

        # An endpoint change sends only that assignment; NACKed, it is counted and not re-sent.
        self.dir.write("reviews-endpoints.yaml", reviews_endpoints("10.1.0.11", "10.1.0.12", "10.1.0.13"))
        pushed = c.next(5)
        self.assertEqual([r["name"] for r in pushed["resources"]], [REVIEWS])
        self.assertEqual(addresses(pushed["resources"][0]["resource"]), ["10.1.0.11", "10.1.0.12", "10.1.0.13"])
        c.nack("EDS", "endpoints rejected by the grpc-js client")
        wait_for(lambda: self.pilot.metric("pilot_total_xds_rejects") == 1, what="the delta NACK counted")
        self.assertEqual(self.pilot.metric("pilot_xds_eds_reject"), 1)
        self.assertEqual(c.quiet(1.0), [])
        # Unsubscribed, a name is not sent again.
        c.delta("EDS", unsubscribe=[REVIEWS])
        self.dir.write("reviews-endpoints.yaml", reviews_endpoints("10.1.0.12"))
        self.assertEqual(c.quiet(1.0), [])

    def test_a_node_id_not_in_istio_form_ends_the_stream_with_its_reason(self):
        c = self.client(node="just-a-name")
        c.run(op="subscribe", type="CDS", names=[])
        ended = c.run(op="next", timeout_ms=5000)
        self.assertEqual(ended["ended"]["code"], 3, ended)  # INVALID_ARGUMENT
        self.assertIn("<type>~<ip>~<pod>.<namespace>~<domain>", ended["ended"]["details"])


if __name__ == "__main__":
    unittest.main()
