"""`monomesh pilot` end to end, as a standard xDS client sees it: python3-grpcio (gRPC's C core)
speaking Envoy's v3 ADS — subscriptions, ACK and NACK, pushes on config and endpoint changes,
bad nodes and bad config — plus the debug endpoints and pilot_* metrics."""
import time
import unittest

import harness
from pilot_harness import PRODUCTPAGE_NODE, REVIEWS_V1, reviews_endpoints, start_bookinfo_pilot
from proxy_harness import wait_for
import xds_client
from xds_client import CDS, EDS, LDS, RDS, AdsClient, DeltaAdsClient, unpack


class PilotCase(unittest.TestCase):
    """A pilot following a folder with the bookinfo registry and a reviews rule."""

    def setUp(self):
        xds_client.protos()
        self.dir, self.pilot = start_bookinfo_pilot(self)

    def client(self, node=PRODUCTPAGE_NODE):
        c = AdsClient(self.pilot.grpc_target, node)
        self.addCleanup(c.close)
        return c

    def full_sync(self, c):
        cds = c.subscribe(CDS)
        clusters = {x.name: x for x in unpack(cds)}
        c.ack(cds)
        eds_names = sorted(n for n, x in clusters.items() if x.type == 3)  # EDS
        eds = c.subscribe(EDS, eds_names)
        c.ack(eds)
        lds = c.subscribe(LDS)
        c.ack(lds)
        rds = c.subscribe(RDS, ["9080"])
        c.ack(rds)
        return clusters, unpack(eds), unpack(lds), unpack(rds)


class PilotAds(PilotCase):

    def test_a_standard_client_gets_istio_named_resources_and_acks(self):
        c = self.client()
        clusters, assignments, listeners, routes = self.full_sync(c)
        for name in ["outbound|9080||reviews.default.svc.cluster.local",
                     "outbound|9080|v1|reviews.default.svc.cluster.local",
                     "outbound|9080|v2|reviews.default.svc.cluster.local",
                     "inbound|9080|http|productpage.default.svc.cluster.local",
                     "BlackHoleCluster", "PassthroughCluster"]:
            self.assertIn(name, clusters)
        by_name = {a.cluster_name: a for a in assignments}
        v2 = by_name["outbound|9080|v2|reviews.default.svc.cluster.local"]
        self.assertEqual([e.endpoint.address.socket_address.address for g in v2.endpoints for e in g.lb_endpoints],
                         ["10.1.0.12"])
        self.assertIn("virtual", [l.name for l in listeners])
        self.assertIn("0.0.0.0_9080", [l.name for l in listeners])
        self.assertEqual(routes[0].name, "9080")
        syncz = wait_for(lambda: [s for s in self.pilot.json("/debug/syncz")
                                  if s["proxy"] == PRODUCTPAGE_NODE and s.get("route_acked")], what="syncz shows ACKs")
        self.assertEqual(syncz[0]["cluster_acked"], syncz[0]["cluster_sent"])

    def test_nack_is_counted_and_shown_and_nothing_is_resent(self):
        c = self.client()
        cds = c.subscribe(CDS)
        c.nack(cds, "cluster outbound|9080||reviews: lb_policy: unsupported")
        wait_for(lambda: self.pilot.metric("pilot_total_xds_rejects") == 1, what="the reject counted")
        wait_for(lambda: self.pilot.metric("pilot_xds_cds_reject") == 1, what="the CDS reject counted")
        syncz = self.pilot.json("/debug/syncz")
        self.assertIn("lb_policy: unsupported", syncz[0]["cluster_nack"])
        self.assertEqual(c.quiet(0.5), [], "a NACK must not make pilot resend the same thing")

    def test_virtual_service_change_pushes_routes_only(self):
        c = self.client()
        self.full_sync(c)
        before = self.pilot.metric("pilot_xds_pushes")
        self.dir.write("reviews.yaml", REVIEWS_V1 % "v2")
        start = time.monotonic()
        response = c.next(5)
        self.assertEqual(response.type_url, RDS, "only the routes changed")
        self.assertLess(time.monotonic() - start, 2.0)
        clusters = [r.route.cluster for vh in unpack(response)[0].virtual_hosts for r in vh.routes if r.route.cluster]
        self.assertIn("outbound|9080|v2|reviews.default.svc.cluster.local", clusters)
        c.ack(response)
        self.assertEqual(c.quiet(0.5), [])
        self.assertGreater(self.pilot.metric("pilot_xds_pushes"), before)

    def test_endpoint_change_pushes_endpoints_only(self):
        c = self.client()
        self.full_sync(c)
        self.dir.write("reviews-endpoints.yaml", reviews_endpoints("10.1.0.11", "10.1.0.12", "10.1.0.13"))
        response = c.next(5)
        self.assertEqual(response.type_url, EDS)
        addresses = {e.endpoint.address.socket_address.address
                     for a in unpack(response) if a.cluster_name == "outbound|9080||reviews.default.svc.cluster.local"
                     for g in a.endpoints for e in g.lb_endpoints}
        self.assertEqual(addresses, {"10.1.0.11", "10.1.0.12", "10.1.0.13"})
        c.ack(response)
        self.assertEqual([r.type_url for r in c.quiet(0.5)], [])

    def test_invalid_config_is_not_applied_and_is_logged(self):
        c = self.client()
        self.full_sync(c)
        self.dir.write("broken.yaml", "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\n"
                                      "metadata: {name: broken, namespace: default}\nspec: {hosts: [x], tcp: 3}\n")
        wait_for(lambda: "broken.yaml" in self.pilot.log(), what="the rejected file logged")
        self.assertEqual(c.quiet(0.5), [], "nothing changed, nothing is pushed")
        names = [x["metadata"]["name"] for x in self.pilot.json("/debug/configz")]
        self.assertNotIn("broken", names)

    def test_a_node_id_not_in_istio_form_is_refused(self):
        c = self.client(node="just-a-name")
        with self.assertRaises(AssertionError) as e:
            c.subscribe(CDS, timeout=5)
        self.assertIn("<type>~<ip>~<pod>.<namespace>~<domain>", str(e.exception))

    def test_unparsable_request_ends_only_that_stream(self):
        import grpc
        channel = grpc.insecure_channel(self.pilot.grpc_target)
        self.addCleanup(channel.close)
        call = channel.stream_stream(xds_client.ADS_METHOD)
        with self.assertRaises(grpc.RpcError) as e:
            list(call(iter([b"\xff\xff\xff garbage"]), timeout=5))
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        good = self.client()
        self.assertTrue(unpack(good.subscribe(CDS)))

    def test_debug_endpoints(self):
        services = {s["hostname"]: s for s in self.pilot.json("/debug/registryz")}
        self.assertEqual(services["reviews.default.svc.cluster.local"]["ports"][0]["protocol"], "HTTP")
        endpoints = self.pilot.json("/debug/endpointz")
        self.assertIn({"service": "reviews.default.svc.cluster.local", "address": "10.1.0.12"},
                      [{"service": e["service"], "address": e["address"]} for e in endpoints])
        configz = self.pilot.json("/debug/configz")
        self.assertIn("VirtualService", [x["kind"] for x in configz])
        dump = self.pilot.json("/debug/config_dump?proxyID=" + PRODUCTPAGE_NODE)
        types = [c["@type"].rsplit(".", 1)[1] for c in dump["configs"]]
        self.assertEqual(types, ["ClustersConfigDump", "ListenersConfigDump", "RoutesConfigDump", "EndpointsConfigDump"])
        status, _ = self.pilot.get("/debug/config_dump")
        self.assertEqual(status, 400)
        status, body = self.pilot.get("/debug/config_dump?proxyID=nonsense")
        self.assertEqual(status, 404)
        push = self.pilot.json("/debug/push_status")
        self.assertEqual(push["virtualServices"], 1)
        self.assertEqual(push["services"], 2)
        self.assertIsNotNone(self.pilot.metric("pilot_services"))


class PilotPushMetrics(PilotCase):
    """Istio 1.1's push metrics on the monitoring port: conflicts counted per push."""

    def test_listener_conflicts_are_counted_and_shown_and_reset_by_a_full_push(self):
        # A headless TCP service takes 0.0.0.0:9080 before reviews and productpage (HTTP) can.
        self.dir.write("tcp.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a-tcp, namespace: default}\n"
                                   "spec: {clusterIP: None, ports: [{name: tcp, port: 9080}]}\n")
        c = self.client()
        wait_for(lambda: self.pilot.json("/debug/registryz") and
                 "a-tcp.default.svc.cluster.local" in [s["hostname"] for s in self.pilot.json("/debug/registryz")],
                 what="a-tcp in the registry")
        listeners = {l.name: l for l in unpack(c.subscribe(LDS))}
        self.assertIn("0.0.0.0_9080", listeners)
        metric = "pilot_conflict_outbound_listener_http_over_current_tcp"
        wait_for(lambda: self.pilot.metric(metric) == 1, what=metric)
        status = self.pilot.json("/debug/push_status")["ProxyStatus"]
        event = status[metric]["0.0.0.0:9080"]
        self.assertEqual(event["proxy"], PRODUCTPAGE_NODE)
        self.assertIn("AcceptedTCP=a-tcp.default.svc.cluster.local RejectedHTTP=", event["message"])
        self.assertEqual(self.pilot.metric("pilot_no_ip"), 0)
        # Without the TCP service the next full push has no conflict.
        import os
        os.unlink(self.dir.join("tcp.yaml"))
        wait_for(lambda: self.pilot.metric(metric) == 0, what="the gauge reset by the next push")


class PilotDeltaAds(PilotCase):
    """DeltaAggregatedResources: only what changed, removals by name, resumption by version."""

    def delta(self, initial=None):
        c = DeltaAdsClient(self.pilot.grpc_target, PRODUCTPAGE_NODE, initial)
        self.addCleanup(c.close)
        return c

    def test_wildcard_clusters_then_only_changes(self):
        c = self.delta()
        c.request(CDS)
        first = c.next()
        names = {r.name for r in first.resources}
        self.assertIn("outbound|9080|v1|reviews.default.svc.cluster.local", names)
        self.assertTrue(all(r.version for r in first.resources))
        c.ack(first)
        # A new subset adds exactly its clusters; nothing else is re-sent.
        self.dir.write("reviews.yaml", (REVIEWS_V1 % "v1").replace(
            "{name: v2, labels: {version: v2}}]", "{name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}]"))
        added = c.next(5)
        self.assertEqual([r.name for r in added.resources], ["outbound|9080|v3|reviews.default.svc.cluster.local"])
        self.assertEqual(list(added.removed_resources), [])
        c.ack(added)
        # Removing the rule removes the subset clusters, by name.
        import os
        os.unlink(self.dir.join("reviews.yaml"))
        removed = c.next(5)
        self.assertEqual(removed.type_url, CDS)
        self.assertEqual(sorted(removed.removed_resources), sorted(
            "outbound|9080|%s|reviews.default.svc.cluster.local" % s for s in ("v1", "v2", "v3")))
        c.ack(removed)

    def test_named_endpoints_subscribe_and_unsubscribe(self):
        c = self.delta()
        reviews = "outbound|9080||reviews.default.svc.cluster.local"
        c.request(EDS, subscribe=[reviews])
        r = c.next()
        self.assertEqual([x.name for x in r.resources], [reviews])
        c.ack(r)
        self.dir.write("reviews-endpoints.yaml", reviews_endpoints("10.1.0.11"))
        r = c.next(5)
        self.assertEqual([x.name for x in r.resources], [reviews])
        c.ack(r)
        c.request(EDS, unsubscribe=[reviews])
        self.dir.write("reviews-endpoints.yaml", reviews_endpoints("10.1.0.12"))
        self.assertEqual(c.quiet(0.6), [], "nothing is sent for an unsubscribed name")

    def test_reconnect_with_initial_versions_gets_nothing_new(self):
        c = self.delta()
        c.request(CDS)
        first = c.next()
        c.ack(first)
        c.close()
        again = self.delta(initial={CDS: c.have[CDS]})
        again.request(CDS, initial=True)
        response = again.next()
        self.assertEqual(len(response.resources), 0, "the proxy already has every cluster at these versions")
        self.assertEqual(len(response.removed_resources), 0)

    def test_delta_nack_is_counted(self):
        c = self.delta()
        c.request(CDS)
        first = c.next()
        c.request(CDS, nonce=first.nonce, error="no thanks")
        wait_for(lambda: self.pilot.metric("pilot_total_xds_rejects") == 1, what="the delta NACK counted")


class PilotTools(PilotCase):
    """proxy-status and proxy-config against a running Pilot (istioctl's commands)."""

    def tool(self, *args):
        return harness.run(*args, "--pilot", "127.0.0.1:%d" % self.pilot.http_port)

    def test_proxy_status_shows_synced_types(self):
        c = self.client()
        self.full_sync(c)
        r = wait_for(lambda: (lambda r: r if r.stdout.count("SYNCED") == 4 else None)(self.tool("proxy-status")),
                     what="four SYNCED types")
        self.assertIn(PRODUCTPAGE_NODE, r.stdout)
        self.assertEqual(r.returncode, 0, r)
        r = self.tool("proxy-status", "productpage-v1-1.default")
        self.assertIn("SYNCED", r.stdout)
        r = self.tool("proxy-status", "nobody.default")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("no proxy nobody.default", r.stderr)

    def test_proxy_status_shows_a_nack(self):
        c = self.client()
        c.nack(c.subscribe(CDS), "bad cluster")
        wait_for(lambda: "NACKED" in self.tool("proxy-status").stdout, what="NACKED shown")

    def test_proxy_config_tables(self):
        r = self.tool("proxy-config", "cluster", PRODUCTPAGE_NODE, "--fqdn", "reviews.default.svc.cluster.local")
        self.assertEqual(r.returncode, 0, r)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["SERVICE", "FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE"])
        self.assertIn(["reviews.default.svc.cluster.local", "9080", "v1", "outbound", "EDS"], [l.split() for l in lines])
        self.assertEqual(len(lines), 4)  # the header, no subset, v1, v2
        r = self.tool("proxy-config", "listener", PRODUCTPAGE_NODE, "--port", "15001")
        self.assertEqual(r.stdout.splitlines()[1].split(), ["0.0.0.0", "15001", "TCP"])
        r = self.tool("proxy-config", "route", PRODUCTPAGE_NODE)
        self.assertIn("9080", r.stdout)
        r = self.tool("proxy-config", "endpoint", PRODUCTPAGE_NODE, "--cluster",
                      "outbound|9080|v2|reviews.default.svc.cluster.local")
        self.assertIn("10.1.0.12:9080", r.stdout)
        r = self.tool("proxy-config", "cluster", PRODUCTPAGE_NODE, "-o", "json")
        self.assertIn('"dynamic_active_clusters"', r.stdout)

    def test_proxy_config_errors(self):
        r = self.tool("proxy-config", "secrets", PRODUCTPAGE_NODE)
        self.assertEqual(r.returncode, 2, r)
        r = self.tool("proxy-config", "cluster", "not-a-node")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("404", r.stderr)
        r = harness.run("proxy-config", "cluster", PRODUCTPAGE_NODE, "--pilot", "127.0.0.1:%d" % harness.free_port())
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("cannot connect", r.stderr)
        r = harness.run("proxy-status", "--pilot", "nonsense")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("not an address", r.stderr)


class PilotFlags(unittest.TestCase):
    def test_busy_grpc_port_is_named(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        self.addCleanup(s.close)
        port = s.getsockname()[1]
        r = harness.run("pilot", "--grpcAddr", "127.0.0.1:%d" % port, "--httpAddr", "127.0.0.1:0",
                        "--monitoringAddr", "127.0.0.1:0")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("serve ADS", r.stderr + r.stdout)
        self.assertIn(str(port), r.stderr + r.stdout)

    def test_missing_config_dir_is_a_start_error(self):
        r = harness.run("pilot", "--configDir", "/nonexistent/monomesh", "--grpcAddr", "127.0.0.1:0",
                        "--httpAddr", "127.0.0.1:0", "--monitoringAddr", "127.0.0.1:0")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("start config sources", r.stderr + r.stdout)

    def test_explicit_mesh_config_must_exist(self):
        r = harness.run("pilot", "--meshConfig", "/nonexistent/mesh", "--grpcAddr", "127.0.0.1:0",
                        "--httpAddr", "127.0.0.1:0", "--monitoringAddr", "127.0.0.1:0")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("load mesh config", r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main()
