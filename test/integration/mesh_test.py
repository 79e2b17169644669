"""The mesh end to end on loopback: `monomesh pilot` following a config folder, several
`monomesh proxy` sidecars and a gateway following Pilot over ADS, Python backends behind them.
Changing a VirtualService or an endpoint changes traffic within a second, with no failed request."""
import os
import shutil
import time
import unittest

import harness
import proxy_harness as ph
from pilot_harness import Pilot

HOST = "reviews.default.svc.cluster.local"


def service_entry(port, endpoints):
    """reviews as a mesh-internal ServiceEntry: endpoints [(backend port, version)]."""
    eps = "\n".join("  - {address: 127.0.0.1, ports: {http: %d}, labels: {app: reviews, version: %s}}" % e
                    for e in endpoints)
    return """apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [%s]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: %d, name: http, protocol: HTTP}]
  endpoints:
%s
""" % (HOST, port, eps)


SUBSETS = """apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
"""


def route(weights):
    """A VirtualService for reviews splitting by subset: {"v1": 50, "v2": 50}."""
    dests = "\n".join("    - {destination: {host: reviews, subset: %s}, weight: %d}" % kv for kv in weights.items())
    return """apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
%s
""" % dests


def gateway(port):
    return """apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: %d, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: bookinfo, namespace: default}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
""" % port


RATINGS_SIDECAR = """apiVersion: networking.istio.io/v1alpha3
kind: Sidecar
metadata: {name: ratings, namespace: default}
spec:
  workloadSelector: {labels: {app: ratings}}
  egress:
  - port: {number: %d, protocol: HTTP, name: http}
    bind: 127.0.0.21
    captureMode: NONE
    hosts: ["./*"]
"""


def bootstrap(node_id, pilot_port, admin_port, labels):
    metadata = {"INTERCEPTION_MODE": "NONE", "ISTIO_PROXY_VERSION": "1.1.0"}
    metadata.update(labels)
    return {"node": {"id": node_id, "cluster": node_id.split("~")[2].split("-")[0], "metadata": metadata},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
            "dynamic_resources": {
                "ads_config": {"api_type": "GRPC", "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}]},
                "cds_config": {"ads": {}}, "lds_config": {"ads": {}}},
            "static_resources": {"clusters": [ph.cluster("xds-grpc", [pilot_port], http2_protocol_options={})]}}


@unittest.skipUnless(shutil.which("curl"), "curl is needed")
class MeshTest(unittest.TestCase):
    def setUp(self):
        self.backends = {}
        for version in ("v1", "v2", "v3"):
            b = ph.PyBackend("reviews-" + version)
            b.start()
            self.addCleanup(b.stop)
            self.backends[version] = b
        self.service_port = ph.free_port()
        self.gateway_port = ph.free_port()
        self.dir = harness.TempDir(self)
        self.write_endpoints("v1", "v2")
        self.dir.write("subsets.yaml", SUBSETS)
        self.dir.write("route.yaml", route({"v1": 100}))
        self.dir.write("gateway.yaml", gateway(self.gateway_port))
        self.pilot = Pilot(self.dir.path).start()
        self.addCleanup(self.pilot.stop)
        # Two sidecars: productpage with the default outbound listeners (127.0.0.1 without capture),
        # ratings with a Sidecar resource binding its egress listener to its own address.
        self.dir.write("ratings-sidecar.yaml", RATINGS_SIDECAR % self.service_port)
        self.sidecars = [
            self.start_proxy("sidecar~127.0.0.20~productpage-v1-1.default~default.svc.cluster.local",
                             {"app": "productpage", "version": "v1"}),
            self.start_proxy("sidecar~127.0.0.21~ratings-v1-1.default~default.svc.cluster.local",
                             {"app": "ratings", "version": "v1"})]
        self.gateway = self.start_proxy(
            "router~127.0.0.30~istio-ingressgateway-1.istio-system~istio-system.svc.cluster.local",
            {"istio": "ingressgateway"})

    def write_endpoints(self, *versions):
        self.dir.write("reviews.yaml", service_entry(self.service_port,
                                                     [(self.backends[v].port, v) for v in versions]))

    def start_proxy(self, node_id, labels):
        proxy = ph.Proxy(bootstrap(node_id, self.pilot.grpc_port, ph.free_port(), labels))
        proxy.start()
        self.addCleanup(proxy.stop)
        return proxy

    def through(self, port, n=20, ip="127.0.0.1"):
        out = []
        for _ in range(n):
            r = ph.get(port, "/", headers={"Host": HOST}, host=ip)
            self.assertEqual(r.status, 200, r)
            out.append(r.header("x-backend-name"))
        return out

    def wait_only(self, load, backends, within=1.5):
        """Traffic reaches only `backends` within `within` seconds of now (checked on the load)."""
        start = time.monotonic()
        ph.wait_for(lambda: (lambda seen: len(seen) >= 20 and set(seen[-20:]) <= set(backends))(load.backends_since(start)),
                    timeout=5, what="traffic only to %s" % backends)
        seen = load.backends_since(start)
        switched_at = None
        for i in range(len(seen)):
            if set(seen[i:]) <= set(backends):
                switched_at = i
                break
        return seen, switched_at

    def test_sidecars_and_gateway_serve_the_routes_pilot_sends(self):
        for ip in ("127.0.0.1", "127.0.0.21"):  # productpage's sidecar, ratings' sidecar
            self.assertEqual(set(self.through(self.service_port, ip=ip)), {"reviews-v1"})
        self.assertEqual(set(self.through(self.gateway_port)), {"reviews-v2"})
        status, body = self.pilot.get("/debug/syncz")
        self.assertEqual(body.count("route_acked"), 3, body)

    def test_virtual_service_change_moves_traffic_without_failures(self):
        with ph.Load(self.service_port, host=HOST, threads=4) as load:
            ph.wait_for(lambda: len(load.backends_since(0)) > 20, what="load running")
            changed = time.monotonic()
            self.dir.write("route.yaml", route({"v2": 100}))
            ph.wait_for(lambda: "reviews-v2" in load.backends_since(changed), timeout=5, what="v2 serving")
            first_v2 = min(t for t, _, b in load.results if b == "reviews-v2" and t >= changed)
            self.assertLess(first_v2 - changed, 1.0, "the change took effect after %.2fs" % (first_v2 - changed))
            self.wait_only(load, {"reviews-v2"})
            changed = time.monotonic()
            self.dir.write("route.yaml", route({"v1": 50, "v2": 50}))
            ph.wait_for(lambda: len(load.backends_since(changed + 1.0)) >= 200, timeout=15, what="200 requests")
        split = load.backends_since(changed + 1.0)
        share = split.count("reviews-v1") / len(split)
        self.assertTrue(0.35 < share < 0.65, "v1 share %.2f of %d" % (share, len(split)))
        self.assertEqual(load.failures(), [])

    def test_endpoint_change_without_failures(self):
        with ph.Load(self.service_port, host=HOST) as load:
            self.dir.write("route.yaml", route({"v1": 50, "v2": 50}))
            ph.wait_for(lambda: "reviews-v2" in load.backends_since(0), what="both serving")
            self.dir.write("subsets.yaml", SUBSETS.replace("{name: v2, labels: {version: v2}}",
                                                           "{name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}"))
            self.write_endpoints("v1", "v2", "v3")
            self.dir.write("route.yaml", route({"v3": 100}))
            self.wait_only(load, {"reviews-v3"})
            # v1 and v2 go away as endpoints: nothing was routed to them any more, nothing fails.
            self.write_endpoints("v3")
            time.sleep(1.0)
        self.assertEqual(load.failures(), [])

    def test_gateway_https_redirect_and_method_match(self):
        redirect_port = ph.free_port()
        self.dir.write("redirect.yaml", """apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: redirect-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: %d, name: http-redirect, protocol: HTTP}, hosts: ["*"], tls: {httpsRedirect: true}}]
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: redirected, namespace: default}
spec:
  hosts: ["*"]
  gateways: [redirect-gateway]
  http:
  - route: [{destination: {host: reviews, subset: v2}}]
""" % redirect_port)
        # A method match (an Envoy :method pseudo-header on the wire) picks v1 for POST only.
        self.dir.write("route.yaml", """apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{method: {exact: POST}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews, subset: v2}}]
""")
        ph.wait_for(lambda: ph.port_accepts(redirect_port), what="the redirect server's listener")
        r = ph.get(redirect_port, "/productpage?x=1", headers={"Host": "bookinfo.example.com"})
        self.assertEqual(r.status, 301, r)
        self.assertEqual(r.header("location"), "https://bookinfo.example.com/productpage?x=1")
        ph.wait_for(lambda: set(self.through(self.service_port, 5)) == {"reviews-v2"}, what="GET to v2")
        r = ph.request(self.service_port, "POST", "/", headers={"Host": HOST}, body=b"x")
        self.assertEqual(r.header("x-backend-name"), "reviews-v1")

    def test_pilot_restart_keeps_traffic_and_proxies_reconnect(self):
        with ph.Load(self.service_port, host=HOST) as load:
            ph.wait_for(lambda: len(load.backends_since(0)) > 20, what="load running")
            self.pilot.stop()
            stopped = time.monotonic()
            time.sleep(1.0)
            self.assertGreater(len(load.backends_since(stopped)), 10, "the proxies keep serving without Pilot")
            self.pilot = Pilot(self.dir.path, grpc_port=self.pilot.grpc_port).start()
            self.addCleanup(self.pilot.stop)
            self.dir.write("route.yaml", route({"v2": 100}))
            self.wait_only(load, {"reviews-v2"}, within=10)
        self.assertEqual(load.failures(), [])


if __name__ == "__main__":
    unittest.main()
