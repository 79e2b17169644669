"""`monomesh proxy` following a control plane over ADS (bootstrap dynamic_resources), as Envoy
follows Pilot: clusters, endpoints, listeners and routes come from xds_test_server (test/proxy),
which serves them from a JSON file this test rewrites while traffic flows. Checked: the first
fetch gates readiness; route, weight, endpoint and listener changes apply without a failed
request; invalid resources are NACKed with a precise message while the old config stays; losing
the control plane keeps traffic flowing and the proxy reconnects when it returns."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
import proxy_harness as ph
from proxy_h2_test import IDENTITY, FlakyEcho, grpc

XDS_SERVER = os.environ.get("XDS_TEST_SERVER", "")
HCM_TYPE = ph.HCM_TYPE
LDS = "type.googleapis.com/envoy.config.listener.v3.Listener"
RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
NODE_ID = "sidecar~127.0.0.1~productpage-v1.default~default.svc.cluster.local"


class XdsServer:
    """xds_test_server serving `resources` (a dict: clusters, endpoints, listeners, routes) from a
    JSON file; write() replaces the file (the server notices within 100 ms)."""

    def __init__(self, resources, port=None, tls_dir=None):
        if not os.path.isfile(XDS_SERVER):
            raise AssertionError("xds_test_server not built (XDS_TEST_SERVER=%r)" % XDS_SERVER)
        self.dir = tempfile.mkdtemp(prefix="monomesh-xds-")
        self.path = os.path.join(self.dir, "xds.json")
        self.status_path = os.path.join(self.dir, "status.json")
        self.log_path = os.path.join(self.dir, "server.log")
        self.port = port
        self.tls_dir = tls_dir
        self.process = None
        self.write(resources)

    def write(self, resources):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(resources, f, indent=1)
        os.replace(tmp, self.path)

    def start(self):
        args = [XDS_SERVER, self.path, "--status", self.status_path]
        if self.port:
            args += ["--port", str(self.port)]
        if self.tls_dir:
            args += ["--tls", self.tls_dir]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError("xds_test_server did not start: %s" % self.log())
        self.port = int(line)
        return self

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        if self.process:
            self.process.stdin.close()
            self.process.stdout.close()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-5000:]
        except OSError:
            return ""

    def status(self):
        """The server's last status file ({"streams": []} before the first one is written)."""
        try:
            with open(self.status_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"streams": []}

    def type_status(self, type_url):
        """The state of `type_url` on the (last) stream: names, sent_version, acked_version, last_nack."""
        streams = self.status()["streams"]
        return streams[-1]["types"].get(type_url, {}) if streams else {}


def eds_cluster(name):
    return {"name": name, "type": "EDS", "connect_timeout": "1s",
            "eds_cluster_config": {"service_name": name + ".svc", "eds_config": {"ads": {}}}}


def assignment(name, *ports, weights=None):
    endpoints = []
    for i, port in enumerate(ports):
        e = {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}
        if weights:
            e["load_balancing_weight"] = weights[i]
        endpoints.append(e)
    return {"cluster_name": name + ".svc",
            "endpoints": [{"locality": {"region": "r1", "zone": "z1"}, "lb_endpoints": endpoints}]}


def rds_listener(name, port, route_name):
    return {"name": name, "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
                "@type": HCM_TYPE, "stat_prefix": name, "codec_type": "AUTO",
                "rds": {"route_config_name": route_name, "config_source": {"ads": {}}},
                "http_filters": [ph.ROUTER]}}]}]}


def route_config(name, clusters):
    """All paths to `clusters`: a name, or {name: weight}."""
    if isinstance(clusters, str):
        action = {"cluster": clusters}
    else:
        action = {"weighted_clusters": {"clusters": [{"name": c, "weight": w} for c, w in clusters.items()]}}
    return {"name": name, "virtual_hosts": [{"name": "all", "domains": ["*"],
                                             "routes": [{"match": {"prefix": "/"}, "route": action}]}]}


def ads_bootstrap(xds_port, admin_port, extra_dynamic=None, xds_transport_socket=None):
    dynamic = {"ads_config": {"api_type": "GRPC", "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}]},
               "cds_config": {"ads": {}}, "lds_config": {"ads": {}}}
    dynamic.update(extra_dynamic or {})
    xds_cluster = ph.cluster("xds-grpc", [xds_port], http2_protocol_options={})
    if xds_transport_socket:
        xds_cluster["transport_socket"] = xds_transport_socket
    return {"node": {"id": NODE_ID, "cluster": "productpage", "locality": {"region": "r1", "zone": "z1"},
                     "metadata": {"ISTIO_VERSION": "1.1.0"}},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
            "dynamic_resources": dynamic,
            "static_resources": {"clusters": [xds_cluster]}}


@unittest.skipUnless(shutil.which("curl"), "curl is needed")
class ProxyAdsTest(harness.MonomeshTestCase):
    def setUp(self):
        self.backends = {}
        for name in ("a", "b", "c"):
            b = ph.PyBackend(name)
            b.start()
            self.addCleanup(b.stop)
            self.backends[name] = b
        self.port = ph.free_port()
        self.route_name = "http.%d" % self.port
        self.resources = {
            "clusters": [eds_cluster("a"), eds_cluster("b")],
            "endpoints": [assignment("a", self.backends["a"].port), assignment("b", self.backends["b"].port)],
            "listeners": [rds_listener("http", self.port, self.route_name)],
            "routes": [route_config(self.route_name, "a")],
        }
        self.xds = XdsServer(self.resources)
        self.addCleanup(self.xds.cleanup)
        self.xds.start()
        self.admin_port = ph.free_port()
        self.proxy = ph.Proxy(ads_bootstrap(self.xds.port, self.admin_port))
        self.addCleanup(self.proxy.cleanup)

    def start_proxy(self):
        try:
            self.proxy.start()
        except AssertionError as e:
            raise AssertionError("%s\n--- xds server ---\n%s" % (e, self.xds.log())) from None
        self.addCleanup(self.proxy.stop)

    def update(self, **changes):
        self.resources.update(changes)
        self.xds.write(self.resources)

    def backend_of(self, port=None):
        r = ph.get(port or self.port, "/")
        self.assertEqual(r.status, 200, r)
        return r.header("x-backend-name")

    def config_dump(self, include_eds=False):
        r = self.proxy.admin("/config_dump" + ("?include_eds" if include_eds else ""))
        self.assertEqual(r.status, 200)
        return {c["@type"].rsplit(".", 1)[-1]: c for c in json.loads(r.body)["configs"]}

    def wait_for_switch(self, load, started, wanted, what):
        """Waits until the load's requests since `started` reach only backends in `wanted`."""
        def switched():
            seen = load.backends_since(started)
            return len(seen) >= 4 and set(seen[-4:]) <= set(wanted)
        ph.wait_for(switched, timeout=10, what=what)
        delay = next(t for t, _, b in load.results if t >= started and b in wanted) - started
        print("%s after %.2f s" % (what, delay))

    # -------------------------------------------------------------------------------------------

    def test_initial_config_serves_traffic_and_is_dumped(self):
        self.start_proxy()
        self.assertEqual(self.backend_of(), "a")
        dump = self.config_dump(include_eds=True)
        clusters = dump["ClustersConfigDump"]
        self.assertEqual([c["cluster"]["name"] for c in clusters["static_clusters"]], ["xds-grpc"])
        self.assertEqual(sorted(c["cluster"]["name"] for c in clusters["dynamic_active_clusters"]), ["a", "b"])
        cds_version = ph.wait_for(lambda: self.xds.type_status(CDS).get("acked_version"), what="the CDS ACK")
        self.assertEqual(clusters["version_info"], cds_version)
        self.assertTrue(all(c["version_info"] == cds_version and c["last_updated"]
                            for c in clusters["dynamic_active_clusters"]))
        listeners = dump["ListenersConfigDump"]
        self.assertEqual(listeners["dynamic_listeners"][0]["name"], "http")
        self.assertIn("active_state", listeners["dynamic_listeners"][0])
        routes = dump["RoutesConfigDump"]["dynamic_route_configs"]
        self.assertEqual(routes[0]["route_config"]["name"], self.route_name)
        self.assertEqual(routes[0]["version_info"],
                         ph.wait_for(lambda: self.xds.type_status(RDS).get("acked_version"), what="the RDS ACK"))
        endpoints = dump["EndpointsConfigDump"]["dynamic_endpoint_configs"]
        self.assertEqual(sorted(e["endpoint_config"]["cluster_name"] for e in endpoints), ["a.svc", "b.svc"])
        stats = self.proxy.stats()
        self.assertGreaterEqual(stats["cluster_manager.cds.update_success"], 1)
        self.assertGreaterEqual(stats["listener_manager.lds.update_success"], 1)
        self.assertEqual(stats["control_plane.connected_state"], 1)
        self.assertGreaterEqual(stats["http.http.rds.%s.config_reload" % self.route_name], 1)
        # The node went out on the stream.
        ph.wait_for(lambda: self.xds.status()["streams"][-1]["node_id"] == NODE_ID, what="the node id on the stream")
        self.assertIn("a::127.0.0.1:%d::zone::r1/z1/" % self.backends["a"].port, self.proxy.clusters_text())

    def test_route_changes_apply_under_load_without_a_failed_request(self):
        self.start_proxy()
        with ph.Load(self.port) as load:
            ph.wait_for(lambda: len(load.backends_since(0)) > 10, what="load to flow")
            started = time.monotonic()
            self.update(routes=[route_config(self.route_name, "b")])
            self.wait_for_switch(load, started, {"b"}, "traffic moved to cluster b")
            started = time.monotonic()
            self.update(routes=[route_config(self.route_name, {"a": 50, "b": 50})])
            ph.wait_for(lambda: {"a", "b"} <= set(load.backends_since(started)[-20:]), timeout=10,
                        what="traffic split between a and b")
            # A new cluster, make-before-break: the cluster and its endpoints, then the route.
            self.update(clusters=self.resources["clusters"] + [eds_cluster("c")],
                        endpoints=self.resources["endpoints"] + [assignment("c", self.backends["c"].port)])
            ph.wait_for(lambda: any(c["cluster"]["name"] == "c" for c in
                                    self.config_dump()["ClustersConfigDump"].get("dynamic_active_clusters", [])),
                        timeout=10, what="cluster c to be active")
            started = time.monotonic()
            self.update(routes=[route_config(self.route_name, "c")])
            self.wait_for_switch(load, started, {"c"}, "traffic moved to the new cluster c")
        self.assertEqual(load.failures(), [])
        self.assertGreater(len(load.results), 20)

    def test_endpoint_changes_apply_under_load(self):
        self.start_proxy()
        with ph.Load(self.port) as load:
            ph.wait_for(lambda: len(load.backends_since(0)) > 10, what="load to flow")
            started = time.monotonic()
            # Cluster a's endpoints move to backend c, then spread over a and c by weight.
            self.update(endpoints=[assignment("a", self.backends["c"].port), self.resources["endpoints"][1]])
            self.wait_for_switch(load, started, {"c"}, "cluster a's traffic moved to backend c")
            started = time.monotonic()
            self.update(endpoints=[assignment("a", self.backends["a"].port, self.backends["c"].port, weights=[1, 1]),
                                   self.resources["endpoints"][1]])
            ph.wait_for(lambda: {"a", "c"} <= set(load.backends_since(started)[-20:]), timeout=10,
                        what="traffic over both endpoints")
        self.assertEqual(load.failures(), [])
        clusters = self.proxy.clusters_text()
        self.assertIn("a::127.0.0.1:%d::weight::1" % self.backends["c"].port, clusters)

    def test_locality_weights_share_traffic(self):
        # Istio's locality `distribute` as Envoy gets it: localities weighted 1 and 3, used only
        # because the cluster asks for locality weighted balancing.
        self.start_proxy()

        def endpoint(port):
            return {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}
        weighted = dict(eds_cluster("a"), common_lb_config={"locality_weighted_lb_config": {}})
        self.update(clusters=[weighted, eds_cluster("b")], endpoints=[
            {"cluster_name": "a.svc", "endpoints": [
                {"locality": {"region": "r1", "zone": "z1"}, "load_balancing_weight": 1,
                 "lb_endpoints": [endpoint(self.backends["a"].port)]},
                {"locality": {"region": "r1", "zone": "z2"}, "load_balancing_weight": 3,
                 "lb_endpoints": [endpoint(self.backends["c"].port)]}]},
            self.resources["endpoints"][1]])
        ph.wait_for(lambda: self.backend_of() == "c", timeout=10, what="the weighted localities")
        with ph.Client(self.port) as client:
            seen = [client.get("/").header("x-backend-name") for _ in range(120)]
        share = seen.count("c") / len(seen)
        self.assertTrue(0.7 <= share <= 0.8, "zone z2 (weight 3 of 4) got %.2f" % share)
        self.assertEqual(set(seen), {"a", "c"})

    def test_listeners_are_added_and_removed_at_runtime(self):
        self.start_proxy()
        extra_port = ph.free_port()
        extra = ph.http_listener("extra", extra_port, {"virtual_hosts": [
            {"name": "all", "domains": ["*"], "routes": [ph.route("/", "b")]}]})
        self.update(listeners=self.resources["listeners"] + [extra])
        ph.wait_for(lambda: ph.port_accepts(extra_port), timeout=10, what="the new listener to be bound")
        self.assertEqual(self.backend_of(extra_port), "b")
        self.assertIn("extra::127.0.0.1:%d" % extra_port, self.proxy.admin("/listeners").text)
        with ph.Client(extra_port) as idle:
            self.assertEqual(idle.get("/").status, 200)
            self.update(listeners=[rds_listener("http", self.port, self.route_name)])
            ph.wait_for(lambda: not ph.port_accepts(extra_port), timeout=10, what="the removed listener to stop accepting")
            # A connection that was open finishes its next request and is closed (draining).
            r = idle.get("/")
            self.assertEqual(r.status, 200)
            self.assertEqual((r.header("connection") or "").lower(), "close")
        self.assertNotIn("extra::", self.proxy.admin("/listeners").text)
        self.assertEqual(self.backend_of(), "a")  # the other listener is untouched
        stats = self.proxy.stats()
        self.assertEqual(stats["listener_manager.listener_removed"], 1)
        self.assertEqual(stats["listener_manager.total_listeners_active"], 1)

    def test_listener_replacements_under_keep_alive_load_fail_no_request(self):
        # Each push replaces the listener (a new server_name), so its keep-alive connections drain
        # while clients keep sending on them: a response already promised keep-alive must not be
        # followed by a close, and the drain time (1 s) ends with idle connections closed.
        self.proxy = ph.Proxy(ads_bootstrap(self.xds.port, self.admin_port), drain_time_s=1)
        self.addCleanup(self.proxy.cleanup)
        self.start_proxy()
        generations = 25
        with ph.Load(self.port, threads=6) as load:
            ph.wait_for(lambda: len(load.backends_since(0)) > 20, what="load to flow")
            for i in range(1, generations + 1):
                listener = rds_listener("http", self.port, self.route_name)
                listener["filter_chains"][0]["filters"][0]["typed_config"]["server_name"] = "generation-%d" % i
                self.update(listeners=[listener])
                ph.wait_for(lambda: self.proxy.stat("listener_manager.listener_modified") >= i, timeout=10,
                            what="listener generation %d" % i)
                time.sleep(0.05 * (i % 4))  # replacements at varying points of the drains before
            time.sleep(1.5)  # the last drains end under load too
        self.assertEqual(load.failures(), [])
        self.assertGreater(len(load.results), 200)
        self.assertEqual(ph.get(self.port, "/").header("server"), "generation-%d" % generations)

    def test_a_backend_closing_keep_alive_connections_unannounced_fails_no_request(self):
        # The backend closes every connection right after its response without saying so: each
        # pooled connection the proxy picks next is dead, and the request goes again on a fresh one.
        closing = ph.PyBackend("closing", close_after_response=True).start()
        self.addCleanup(closing.stop)
        self.start_proxy()
        self.update(endpoints=[assignment("a", closing.port), self.resources["endpoints"][1]])
        ph.wait_for(lambda: self.backend_of() == "closing", timeout=10, what="cluster a on the closing backend")
        with ph.Load(self.port, threads=4) as load:
            ph.wait_for(lambda: len(load.backends_since(0)) > 300, timeout=30, what="300 requests")
        self.assertEqual(load.failures(), [])
        self.assertEqual(set(load.backends_since(0)), {"closing"})
        self.assertGreater(self.proxy.stat("cluster.a.upstream_cx_total"), 300)  # each connection served one

    def test_a_removed_listener_drains_its_tcp_connections_then_closes_them(self):
        # tcp_proxy bytes never say "close": the drain time (2 s) is all they get, as in Envoy.
        # Meanwhile /config_dump shows the listener's draining_state.
        self.proxy = ph.Proxy(ads_bootstrap(self.xds.port, self.admin_port), drain_time_s=2)
        self.addCleanup(self.proxy.cleanup)
        self.start_proxy()
        tcp_port = ph.free_port()
        self.update(listeners=self.resources["listeners"] + [ph.tcp_listener("tcp", tcp_port, "b")])
        ph.wait_for(lambda: ph.port_accepts(tcp_port), timeout=10, what="the tcp_proxy listener")
        active = {d["name"]: d for d in self.config_dump()["ListenersConfigDump"]["dynamic_listeners"]}
        lds_version = active["tcp"]["active_state"]["version_info"]
        with ph.RawConnection(tcp_port) as conn:
            def exchange():
                conn.send(b"GET /through-tcp HTTP/1.1\r\nHost: b\r\n\r\n")
                return conn.read_response().header("x-backend-name")
            self.assertEqual(exchange(), "b")
            self.update(listeners=[rds_listener("http", self.port, self.route_name)])
            ph.wait_for(lambda: not ph.port_accepts(tcp_port), timeout=10, what="the removed listener to stop accepting")
            removed = time.monotonic()
            dumped = {d["name"]: d for d in self.config_dump()["ListenersConfigDump"]["dynamic_listeners"]}
            self.assertNotIn("active_state", dumped["tcp"])
            self.assertEqual(dumped["tcp"]["draining_state"]["version_info"], lds_version)
            self.assertEqual(dumped["tcp"]["draining_state"]["listener"]["name"], "tcp")
            self.assertIn("last_updated", dumped["tcp"]["draining_state"])
            self.assertEqual(self.proxy.stat("listener_manager.total_listeners_draining"), 1)
            self.assertEqual(exchange(), "b")  # still served while it drains
            self.assertTrue(conn.is_closed_by_peer(timeout=10), "the tcp_proxy connection outlived the drain")
            self.assertGreater(time.monotonic() - removed, 1.0, "closed before the drain time ended")
        ph.wait_for(lambda: "tcp" not in {d["name"] for d in
                                          self.config_dump()["ListenersConfigDump"]["dynamic_listeners"]},
                    what="the drained listener to leave /config_dump")
        self.assertEqual(self.proxy.stat("listener_manager.total_listeners_draining"), 0)
        self.assertEqual(self.backend_of(), "a")  # the other listener is untouched

    def test_invalid_resources_are_nacked_and_the_old_config_stays(self):
        self.start_proxy()
        before = self.config_dump()["ListenersConfigDump"]["version_info"]
        broken = rds_listener("broken", ph.free_port(), "other")
        broken["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"] = [{"name": "envoy.filters.http.no_such"}]
        self.update(listeners=self.resources["listeners"] + [broken])
        ph.wait_for(lambda: self.xds.type_status(LDS).get("last_nack"), timeout=10, what="the LDS NACK")
        nack = self.xds.type_status(LDS)["last_nack"]
        self.assertIn('listener "broken"', nack)
        self.assertIn("http_filters[0] (envoy.filters.http.no_such): unknown HTTP filter", nack)
        self.assertEqual(self.config_dump()["ListenersConfigDump"]["version_info"], before)
        ph.wait_for(lambda: self.xds.type_status(LDS)["acked_version"] == before, what="the LDS ACK to stay at %r" % before)
        self.assertEqual(self.backend_of(), "a")
        self.assertGreaterEqual(self.proxy.stat("listener_manager.lds.update_rejected"), 1)

        # An invalid route configuration: NACKed, the old routes keep serving.
        route_before = ph.wait_for(lambda: self.xds.type_status(RDS).get("acked_version"), what="the RDS ACK")
        bad = route_config(self.route_name, "b")
        bad["virtual_hosts"][0]["routes"][0] = {"match": {"prefix": "/"}, "direct_response": {"status": 700}}
        self.update(listeners=[rds_listener("http", self.port, self.route_name)], routes=[bad])
        ph.wait_for(lambda: self.xds.type_status(RDS).get("last_nack"), timeout=10, what="the RDS NACK")
        nack = self.xds.type_status(RDS)["last_nack"]
        self.assertIn('route configuration "%s": virtual_hosts[0] (all).routes[0]' % self.route_name, nack)
        self.assertEqual(self.backend_of(), "a")
        dumped = self.config_dump()["RoutesConfigDump"]["dynamic_route_configs"][0]
        self.assertEqual(dumped["version_info"], route_before)
        self.assertGreaterEqual(self.proxy.stat("http.http.rds.%s.update_rejected" % self.route_name), 1)

        # An invalid cluster: NACKed too.
        bad_cluster = dict(eds_cluster("z"), lb_policy="LOAD_BALANCING_POLICY_CONFIG")
        self.update(clusters=self.resources["clusters"] + [bad_cluster], routes=[route_config(self.route_name, "b")])
        ph.wait_for(lambda: self.xds.type_status(CDS).get("last_nack"), timeout=10, what="the CDS NACK")
        self.assertIn('cluster "z": lb_policy', self.xds.type_status(CDS)["last_nack"])
        # The good route change in the same push still applies (RDS was fine).
        ph.wait_for(lambda: self.backend_of() == "b", timeout=10, what="the valid route change")
        self.assertGreaterEqual(self.proxy.stat("cluster_manager.cds.update_rejected"), 1)

        # Fixed: ACKed again.
        self.update(clusters=self.resources["clusters"][:2])
        ph.wait_for(lambda: not self.xds.type_status(CDS).get("last_nack"), timeout=10, what="the CDS ACK")

    def test_losing_the_control_plane_keeps_traffic_flowing(self):
        self.start_proxy()
        with ph.Load(self.port) as load:
            ph.wait_for(lambda: len(load.backends_since(0)) > 10, what="load to flow")
            self.xds.kill()
            ph.wait_for(lambda: self.proxy.stat("control_plane.connected_state") == 0, timeout=10,
                        what="the proxy to notice the control plane is gone")
            gone = time.monotonic()
            ph.wait_for(lambda: len(load.backends_since(gone)) > 20, what="traffic without a control plane")
            self.assertEqual(set(load.backends_since(gone)), {"a"})
            # It comes back on the same port, with a change made meanwhile.
            self.resources["routes"] = [route_config(self.route_name, "b")]
            back = XdsServer(self.resources, port=self.xds.port)
            self.addCleanup(back.cleanup)
            back.start()
            ph.wait_for(lambda: self.proxy.stat("control_plane.connected_state") == 1, timeout=30,
                        what="the proxy to reconnect")
            started = time.monotonic()
            self.wait_for_switch(load, started, {"b"}, "the change made while disconnected to apply")
            ph.wait_for(lambda: back.type_status(RDS).get("acked_version"), timeout=10, what="the new server's ACK")
        self.assertEqual(load.failures(), [])
        ph.wait_for(lambda: back.status()["streams"][-1]["node_id"] == NODE_ID, what="the node id on the new stream")

    def test_not_ready_before_the_first_fetch(self):
        self.xds.kill()
        port = self.xds.port
        # --service-node overrides the bootstrap's node.id (as Istio's pilot-agent passes it).
        node = "router~127.0.0.2~gateway.default~default.svc.cluster.local"
        proxy = ph.Proxy(ads_bootstrap(port, self.admin_port), extra_args=["--service-node", node, "--service-cluster", "gw"])
        self.addCleanup(proxy.cleanup)
        proxy.launch()
        ph.wait_for(lambda: proxy.alive() and proxy.admin("/ready", timeout=1).status == 503, what="/ready to answer 503")
        self.assertEqual(proxy.admin("/healthz/ready").status, 503)
        self.assertFalse(ph.port_accepts(self.port))
        late = XdsServer(self.resources, port=port)
        self.addCleanup(late.cleanup)
        late.start()
        ph.wait_for(lambda: proxy.admin("/ready", timeout=1).status == 200, timeout=30, what="/ready after the first fetch")
        self.assertEqual(proxy.admin("/healthz/ready").status, 200)
        self.assertEqual(self.backend_of(), "a")
        ph.wait_for(lambda: late.status()["streams"][-1]["node_id"] == node, what="the node id on the stream")
        info = json.loads(proxy.admin("/server_info").body)
        self.assertEqual(info["node"]["cluster"], "gw")
        proxy.stop()

    @unittest.skipUnless(shutil.which("openssl"), "openssl is needed")
    def test_a_control_plane_over_mutual_tls(self):
        # Pilot's 15011: the proxy verifies the control plane's identity and presents its own.
        from proxy_tls_test import SERVER_ID, UPSTREAM_TLS, common_tls, make_pki
        pki = tempfile.mkdtemp(prefix="monomesh-pki-")
        self.addCleanup(shutil.rmtree, pki, True)
        make_pki(pki)
        xds = XdsServer(self.resources, tls_dir=os.path.join(pki, "server"))
        self.addCleanup(xds.cleanup)
        xds.start()
        tls = {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": UPSTREAM_TLS, "sni": "istio-pilot.istio-system",
            "common_tls_context": common_tls(os.path.join(pki, "client"), SERVER_ID, alpn=("h2",))}}
        self.proxy = ph.Proxy(ads_bootstrap(xds.port, self.admin_port, xds_transport_socket=tls))
        self.addCleanup(self.proxy.cleanup)
        self.start_proxy()
        self.assertEqual(self.backend_of(), "a")
        # The intruder's certificate is not the control plane's identity: no config from it.
        wrong = {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": UPSTREAM_TLS, "common_tls_context": common_tls(os.path.join(pki, "client"), "spiffe://other", alpn=("h2",))}}
        proxy = ph.Proxy(ads_bootstrap(xds.port, ph.free_port(), xds_transport_socket=wrong))
        self.addCleanup(proxy.cleanup)
        proxy.launch()
        ph.wait_for(lambda: "TLS handshake with the control plane failed" in proxy.log(), timeout=10,
                    what="the refused control plane")
        self.assertEqual(proxy.admin("/ready").status, 503)
        proxy.stop()

    def test_clusters_and_listeners_from_files_moved_into_place(self):
        # Envoy's config_source.path, without a control plane: each file holds a DiscoveryResponse
        # (JSON here, YAML in the unit tests); a new file moved into place applies, a broken one
        # is counted and the previous config stays.
        folder = tempfile.mkdtemp(prefix="monomesh-files-")
        self.addCleanup(shutil.rmtree, folder, True)
        cds, lds = os.path.join(folder, "cds.json"), os.path.join(folder, "lds.json")

        def put(path, version, type_url, resources):
            with open(path + ".tmp", "w") as f:
                json.dump({"version_info": version, "resources": [dict(r, **{"@type": type_url}) for r in resources]}, f)
            os.replace(path + ".tmp", path)

        def static(name):
            return ph.cluster(name, [self.backends[name].port])
        port = ph.free_port()

        def listener(cluster):
            return ph.http_listener("files", port, {"virtual_hosts": [
                {"name": "all", "domains": ["*"], "routes": [ph.route("/", cluster)]}]})
        put(cds, "c1", CDS, [static("a")])
        put(lds, "l1", LDS, [listener("a")])
        admin_port = ph.free_port()
        proxy = ph.Proxy({"node": {"id": NODE_ID, "cluster": "files"},
                          "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
                          "dynamic_resources": {"cds_config": {"path": cds},
                                                "lds_config": {"path_config_source": {"path": lds}}}})
        self.addCleanup(proxy.cleanup)
        proxy.start()
        self.assertEqual(self.backend_of(port), "a")
        put(cds, "c2", CDS, [static("a"), static("b")])  # make before break: the cluster first
        ph.wait_for(lambda: proxy.stat("cluster_manager.cluster_added") == 2, timeout=10, what="cluster b")
        put(lds, "l2", LDS, [listener("b")])
        ph.wait_for(lambda: self.backend_of(port) == "b", timeout=10, what="the listener from the new file")
        with open(lds + ".tmp", "w") as f:
            f.write("{\"resources\": [")
        os.replace(lds + ".tmp", lds)
        ph.wait_for(lambda: proxy.stat("listener_manager.lds.update_rejected") == 1, timeout=10, what="the broken file")
        self.assertEqual(self.backend_of(port), "b")
        self.assertIn("a changed file is not applied", proxy.log())
        dump = {c["@type"].rsplit(".", 1)[-1]: c for c in json.loads(proxy.admin("/config_dump").body)["configs"]}
        self.assertEqual(dump["ClustersConfigDump"]["version_info"], "c2")
        self.assertEqual(dump["ListenersConfigDump"]["version_info"], "l2")
        proxy.stop()

    def test_unsupported_config_sources_are_start_up_errors(self):
        cases = [
            ({"lds_config": {"path": "/etc/envoy/lds.yaml"}}, "dynamic_resources.lds_config.path"),
            ({"cds_config": {"api_config_source": {"api_type": "REST", "cluster_names": ["xds-grpc"]}}},
             "dynamic_resources.cds_config.api_config_source"),
            ({"ads_config": {"api_type": "DELTA_GRPC", "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}]}},
             "dynamic_resources.ads_config.api_type: incremental (delta) xDS is not supported"),
            ({"ads_config": {"api_type": "GRPC", "grpc_services": [{"envoy_grpc": {"cluster_name": "nope"}}]}},
             '"nope" is not a static cluster'),
        ]
        for dynamic, message in cases:
            with self.subTest(message=message):
                proxy = ph.Proxy(ads_bootstrap(self.xds.port, ph.free_port(), dynamic))
                self.addCleanup(proxy.cleanup)
                proxy.launch()
                self.assertEqual(proxy.wait(), 1, proxy.log())
                self.assertIn(message, proxy.log())


@unittest.skipIf(grpc is None, "python3-grpcio is not installed (scripts/setup.sh installs it)")
class Http2PoolSweepTest(harness.MonomeshTestCase):
    """Upstream HTTP/2 connections are swept: closed after the cluster's idle_timeout
    (common_http_protocol_options), and drained (GOAWAY, open streams finish, then closed) when
    their host leaves the cluster through EDS. gRPC servers a and b behind an EDS cluster."""

    def setUp(self):
        self.servers = {}
        for name in ("a", "b"):
            server = FlakyEcho(name=name)
            server.server.start()
            self.addCleanup(server.server.stop, 0)
            self.servers[name] = server
        self.port = ph.free_port()
        self.route_name = "http.%d" % self.port
        self.resources = {
            "clusters": [],
            "endpoints": [assignment("g", self.servers["a"].port)],
            "listeners": [rds_listener("grpc", self.port, self.route_name)],
            "routes": [route_config(self.route_name, "g")],
        }

    def start(self, **cluster_extra):
        cluster = dict(eds_cluster("g"), http2_protocol_options={}, **cluster_extra)
        self.resources["clusters"] = [cluster]
        self.xds = XdsServer(self.resources)
        self.addCleanup(self.xds.cleanup)
        self.xds.start()
        self.proxy = ph.Proxy(ads_bootstrap(self.xds.port, ph.free_port()))
        self.addCleanup(self.proxy.cleanup)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.port)
        self.addCleanup(self.channel.close)

    def served_by(self):
        method = self.channel.unary_unary("/test.Echo/Unary", request_serializer=IDENTITY,
                                          response_deserializer=IDENTITY)
        _, call = method.with_call(b"hi", timeout=10)
        return dict(call.trailing_metadata())["x-served-by"]

    def test_idle_connections_close_after_the_idle_timeout(self):
        self.start(common_http_protocol_options={"idle_timeout": "1s"})
        self.assertEqual(self.served_by(), "a")
        self.assertEqual(self.proxy.stat("cluster.g.upstream_cx_active"), 1)
        ph.wait_for(lambda: self.proxy.stat("cluster.g.upstream_cx_active") == 0, timeout=10,
                    what="the idle upstream connection to close")
        self.assertEqual(self.proxy.stat("cluster.g.upstream_cx_destroy"), 1)
        # The next request connects again.
        self.assertEqual(self.served_by(), "a")
        self.assertEqual(self.proxy.stat("cluster.g.upstream_cx_total"), 2)

    def test_the_default_idle_timeout_keeps_connections(self):
        self.start()
        self.assertEqual(self.served_by(), "a")
        time.sleep(2.5)  # more than two sweeps
        self.assertEqual(self.proxy.stat("cluster.g.upstream_cx_active"), 1)
        self.assertEqual(self.served_by(), "a")
        self.assertEqual(self.proxy.stat("cluster.g.upstream_cx_total"), 1)

    def test_a_removed_host_drains_letting_its_streams_finish(self):
        self.start()
        slow = self.channel.unary_unary("/test.Echo/Slow", request_serializer=IDENTITY,
                                        response_deserializer=IDENTITY)
        pending = slow.future(b"4", timeout=20)  # a 4 s call on the connection to a
        ph.wait_for(lambda: self.proxy.stat("cluster.g.upstream_cx_active") == 1, what="the connection to a")
        self.resources["endpoints"] = [assignment("g", self.servers["b"].port)]
        self.xds.write(self.resources)
        ph.wait_for(lambda: self.served_by() == "b", timeout=10, what="requests to go to b")
        self.assertFalse(pending.done(), "the slow call ended before its host was removed")
        self.assertEqual(pending.result(), b"4")  # its stream finished on the draining connection
        ph.wait_for(lambda: self.proxy.stat("cluster.g.upstream_cx_destroy") == 1, timeout=10,
                    what="the connection to a to close")
        self.assertEqual(self.proxy.stat("cluster.g.upstream_cx_active"), 1)  # the one to b
        self.assertEqual(self.served_by(), "b")


if __name__ == "__main__":
    unittest.main()
