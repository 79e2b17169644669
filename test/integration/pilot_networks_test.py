"""`monomesh pilot --networksConfig`: Istio 1.1's MeshNetworks and split-horizon EDS end to end.
Two networks (by CIDR) with a gateway each; sidecars on each network (node metadata NETWORK) get
their own network's endpoints and the other's gateway weighted by the endpoints behind it. The
file is followed: a change re-pushes EDS, a broken file keeps the last good networks; a broken
or missing file at start-up stops Pilot with an error naming the flag and the line."""
import os
import unittest

import harness
from pilot_harness import Pilot
from proxy_harness import wait_for
import xds_client
from xds_client import CDS, EDS, AdsClient, unpack

REGISTRY = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {clusterIP: 10.0.0.11, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: reviews, namespace: default}
subsets:
- addresses: [{ip: 10.1.0.11}, {ip: 10.1.0.12}, {ip: 10.2.0.21}, {ip: 10.2.0.22}, {ip: 10.2.0.23}]
  ports: [{name: http, port: 9080}]
"""

NETWORKS = """networks:
  net1:
    endpoints: [{fromCidr: 10.1.0.0/16}]
    gateways: [{address: 192.0.2.1, port: 15443}]
  net2:
    endpoints: [{fromCidr: 10.2.0.0/16}]
    gateways: [{address: %s, port: %d}]
"""

REVIEWS = "outbound|9080||reviews.default.svc.cluster.local"
NET1_NODE = "sidecar~10.1.0.1~productpage-v1-1.default~default.svc.cluster.local"
NET2_NODE = "sidecar~10.2.0.1~productpage-v1-2.default~default.svc.cluster.local"


def reached(response):
    """{address:port: weight} of the reviews assignment in an EDS response."""
    out = {}
    for cla in unpack(response):
        if cla.cluster_name != REVIEWS:
            continue
        for group in cla.endpoints:
            for e in group.lb_endpoints:
                a = e.endpoint.address.socket_address
                out["%s:%d" % (a.address, a.port_value)] = e.load_balancing_weight.value or 1
    return out


class PilotNetworks(unittest.TestCase):

    def setUp(self):
        xds_client.protos()
        self.dir = harness.TempDir(self)
        self.dir.write("config/registry.yaml", REGISTRY)
        self.networks = self.dir.write("meshNetworks", NETWORKS % ("192.0.2.2", 15443))
        self.pilot = Pilot(self.dir.join("config"), ["--networksConfig", self.networks]).start()
        self.addCleanup(self.pilot.stop)

    def sidecar(self, node, network):
        c = AdsClient(self.pilot.grpc_target, node, {"NETWORK": network, "ISTIO_VERSION": "1.1.0"})
        self.addCleanup(c.close)
        c.ack(c.subscribe(CDS))
        eds = c.subscribe(EDS, [REVIEWS])
        c.ack(eds)
        return c, eds

    def test_each_network_gets_its_endpoints_and_the_other_networks_gateway(self):
        _, net1 = self.sidecar(NET1_NODE, "net1")
        self.assertEqual(reached(net1), {"10.1.0.11:9080": 1, "10.1.0.12:9080": 1, "192.0.2.2:15443": 3})
        _, net2 = self.sidecar(NET2_NODE, "net2")
        self.assertEqual(reached(net2), {"10.2.0.21:9080": 1, "10.2.0.22:9080": 1, "10.2.0.23:9080": 1,
                                         "192.0.2.1:15443": 2})
        networks = {e["address"]: e["network"] for e in self.pilot.json("/debug/endpointz")}
        self.assertEqual(networks["10.1.0.11"], "net1")
        self.assertEqual(networks["10.2.0.23"], "net2")

    def test_a_changed_file_is_pushed_and_a_broken_one_keeps_the_last_good_networks(self):
        c, _ = self.sidecar(NET1_NODE, "net1")
        self.dir.write("meshNetworks", NETWORKS % ("192.0.2.9", 443))
        pushed = c.next_of(EDS, timeout=5)
        self.assertEqual(reached(pushed), {"10.1.0.11:9080": 1, "10.1.0.12:9080": 1, "192.0.2.9:443": 3})
        c.ack(pushed)
        self.assertEqual(self.pilot.metric("monomesh_pilot_networks_config_invalid"), 0)

        self.dir.write("meshNetworks", NETWORKS.replace("10.2.0.0/16", "10.2.0.0/40") % ("192.0.2.2", 15443))
        wait_for(lambda: self.pilot.metric("monomesh_pilot_networks_config_invalid") == 1, what="the file rejected")
        self.assertIn("%s:6:" % self.networks, self.pilot.log())
        self.assertIn("is not a valid CIDR block", self.pilot.log())
        self.assertEqual(c.quiet(0.5), [], "a rejected file changes nothing")

        os.unlink(self.networks)
        self.assertEqual(c.quiet(1.5), [], "a vanished file changes nothing")
        self.dir.write("meshNetworks", NETWORKS % ("192.0.2.2", 15443))
        pushed = c.next_of(EDS, timeout=5)
        self.assertEqual(reached(pushed)["192.0.2.2:15443"], 3)
        wait_for(lambda: self.pilot.metric("monomesh_pilot_networks_config_invalid") == 0, what="the flag cleared")


class PilotNetworksFlags(unittest.TestCase):

    def run_pilot(self, *args):
        return harness.run("pilot", "--grpcAddr", "127.0.0.1:0", "--httpAddr", "127.0.0.1:0",
                           "--monitoringAddr", "127.0.0.1:0", *args)

    def test_a_broken_file_at_start_up_names_the_flag_and_the_line(self):
        d = harness.TempDir(self)
        path = d.write("meshNetworks", "networks:\n  net1:\n    gateways:\n    - {address: gw.example.com, port: 443}\n")
        r = self.run_pilot("--networksConfig", path)
        self.assertEqual(r.returncode, 1, r)
        out = r.stdout + r.stderr
        self.assertIn("load mesh networks", out)
        self.assertIn("--networksConfig %s: %s:4:" % (path, path), out)
        self.assertIn("gateways[0].address", out)

    def test_a_missing_file_is_an_error_only_when_named(self):
        r = self.run_pilot("--networksConfig", "/nonexistent/monomesh/meshNetworks")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("cannot read /nonexistent/monomesh/meshNetworks", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
