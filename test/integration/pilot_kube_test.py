"""`monomesh pilot --kubeconfig` against a Kubernetes API-server double that speaks the real
LIST/WATCH protocol over TLS (test/config/kube/kube_api_server.py): services, endpoints, pods and
Istio CRDs from the API server become xDS, and watch events become pushes."""
import json
import os
import subprocess
import sys
import unittest

import harness
from pilot_harness import PRODUCTPAGE_NODE, Pilot
from proxy_harness import wait_for
import xds_client
from xds_client import CDS, EDS, RDS, AdsClient, unpack

DOUBLE = os.path.join(harness.SOURCE_DIR, "test", "config", "kube", "kube_api_server.py")

OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews", "namespace": "default"},
     "spec": {"clusterIP": "10.0.0.11", "ports": [{"name": "http", "port": 9080}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "productpage", "namespace": "default"},
     "spec": {"clusterIP": "10.0.0.10", "ports": [{"name": "http", "port": 9080}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "productpage-v1-1", "namespace": "default",
                                                     "labels": {"app": "productpage"}},
     "spec": {"containers": [{"name": "app", "image": "x"}]}, "status": {"podIP": "10.1.0.1"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reviews-v2-1", "namespace": "default",
                                                     "labels": {"app": "reviews", "version": "v2"}},
     "spec": {"containers": [{"name": "app", "image": "x"}]}, "status": {"podIP": "10.1.0.12"}},
    {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "reviews", "namespace": "default"},
     "subsets": [{"addresses": [{"ip": "10.1.0.12"}], "ports": [{"name": "http", "port": 9080}]}]},
    {"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
     "metadata": {"name": "reviews", "namespace": "default"},
     "spec": {"host": "reviews", "subsets": [{"name": "v2", "labels": {"version": "v2"}}]}},
]


class ApiServer:
    def __init__(self, test):
        self.dir = harness.TempDir(test)
        self.process = subprocess.Popen([sys.executable, DOUBLE, "--dir", self.dir.path], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        test.addCleanup(self.stop)
        self.info = json.loads(self.process.stdout.readline())

    def command(self, **cmd):
        self.process.stdin.write(json.dumps(cmd) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def kubeconfig(self):
        return self.dir.write("kubeconfig", """apiVersion: v1
kind: Config
current-context: test
contexts: [{name: test, context: {cluster: test, user: test}}]
clusters: [{name: test, cluster: {server: "https://127.0.0.1:%d", certificate-authority: %s}}]
users: [{name: test, user: {token: test-token}}]
""" % (self.info["port"], self.info["ca"]))

    def stop(self):
        if self.process.poll() is None:
            try:
                self.command(op="quit")
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process.stdin.close()
        self.process.stdout.close()


class PilotKubernetes(unittest.TestCase):
    def setUp(self):
        xds_client.protos()
        self.api = ApiServer(self)
        for obj in OBJECTS:
            self.api.command(op="put", object=obj)
        self.pilot = Pilot(harness.TempDir(self).path, extra_args=["--kubeconfig", self.api.kubeconfig()])
        # No folder: the Istio config comes from the API server's CRDs.
        self.pilot.config_dir = ""
        self.pilot.start()
        self.addCleanup(self.pilot.stop)

    def test_registry_and_crds_from_the_api_server_and_watch_pushes(self):
        c = AdsClient(self.pilot.grpc_target, PRODUCTPAGE_NODE)
        self.addCleanup(c.close)
        cds = c.subscribe(CDS)
        self.assertIn("outbound|9080|v2|reviews.default.svc.cluster.local", {x.name for x in unpack(cds)})
        c.ack(cds)
        eds = c.subscribe(EDS, ["outbound|9080||reviews.default.svc.cluster.local"])
        c.ack(eds)
        # An Endpoints change on the API server reaches the client as an EDS push.
        self.api.command(op="put", object={
            "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "reviews", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "10.1.0.12"}, {"ip": "10.1.0.13"}], "ports": [{"name": "http", "port": 9080}]}]})
        pushed = c.next_of(EDS, 5)
        addresses = {e.endpoint.address.socket_address.address for a in unpack(pushed) for g in a.endpoints
                     for e in g.lb_endpoints}
        self.assertEqual(addresses, {"10.1.0.12", "10.1.0.13"})
        # A VirtualService created as a CRD changes the routes.
        c.ack(pushed)
        c.subscribe(RDS, ["9080"])
        self.api.command(op="put", object={
            "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
            "metadata": {"name": "reviews", "namespace": "default"},
            "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]}})
        routes = c.next_of(RDS, 5)
        clusters = [r.route.cluster for vh in unpack(routes)[0].virtual_hosts for r in vh.routes]
        self.assertIn("outbound|9080|v2|reviews.default.svc.cluster.local", clusters)
        services = [s["hostname"] for s in self.pilot.json("/debug/registryz")]
        self.assertEqual(services, ["productpage.default.svc.cluster.local", "reviews.default.svc.cluster.local"])

    def test_a_bad_kubeconfig_is_a_start_error(self):
        d = harness.TempDir(self)
        path = d.write("kubeconfig", "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n")
        r = harness.run("pilot", "--kubeconfig", path, "--grpcAddr", "127.0.0.1:0", "--httpAddr", "127.0.0.1:0",
                        "--monitoringAddr", "127.0.0.1:0")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("Kubernetes registry", r.stdout + r.stderr)
        self.assertIn(path, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
