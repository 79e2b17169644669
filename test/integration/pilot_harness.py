"""Runs `monomesh pilot` for integration tests: a config folder of Kubernetes objects and Istio
config, free loopback ports, readiness, debug JSON and metrics."""
import json
import os
import subprocess
import tempfile
import time
import urllib.request

import harness
from proxy_harness import wait_for, port_accepts

BOOKINFO_REGISTRY = """
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: default}
spec: {clusterIP: 10.0.0.10, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {clusterIP: 10.0.0.11, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: productpage-v1-1, namespace: default, labels: {app: productpage, version: v1}}
spec: {serviceAccountName: bookinfo-productpage, containers: [{name: app, image: productpage}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-1, namespace: default, labels: {app: reviews, version: v1}}
spec: {containers: [{name: app, image: reviews}]}
status: {podIP: 10.1.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2-1, namespace: default, labels: {app: reviews, version: v2}}
spec: {containers: [{name: app, image: reviews}]}
status: {podIP: 10.1.0.12}
---
apiVersion: v1
kind: Endpoints
metadata: {name: productpage, namespace: default}
subsets: [{addresses: [{ip: 10.1.0.1}], ports: [{name: http, port: 9080}]}]
"""

REVIEWS_ENDPOINTS = """
apiVersion: v1
kind: Endpoints
metadata: {name: reviews, namespace: default}
subsets: [{addresses: [%s], ports: [{name: http, port: 9080}]}]
"""

# reviews' subsets v1 and v2, and a VirtualService sending everything to the subset given by `%`.
REVIEWS_V1 = """
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: %s}}]
"""


def reviews_endpoints(*ips):
    return REVIEWS_ENDPOINTS % ", ".join("{ip: %s}" % ip for ip in ips)


PRODUCTPAGE_NODE = "sidecar~10.1.0.1~productpage-v1-1.default~default.svc.cluster.local"


def start_bookinfo_pilot(test):
    """For `test` (a unittest.TestCase): a folder with the bookinfo registry, reviews' endpoints
    (10.1.0.11 and .12) and the reviews rule to v1, and a Pilot following it, both cleaned up."""
    folder = harness.TempDir(test)
    folder.write("registry.yaml", BOOKINFO_REGISTRY)
    folder.write("reviews-endpoints.yaml", reviews_endpoints("10.1.0.11", "10.1.0.12"))
    folder.write("reviews.yaml", REVIEWS_V1 % "v1")
    pilot = Pilot(folder.path).start()
    test.addCleanup(pilot.stop)
    return folder, pilot


class Pilot:
    """`monomesh pilot` on free loopback ports, following `config_dir` (None: config from elsewhere,
    e.g. `--configSource` in extra_args)."""

    def __init__(self, config_dir, extra_args=(), grpc_port=None):
        self.config_dir = config_dir
        self.fixed_grpc_port = grpc_port
        self.extra_args = list(extra_args)
        self.process = None
        self.log_path = None

    def start(self):
        self.launch()
        wait_for(lambda: self.process.poll() is None and self.get("/ready")[0] == 200 or self._died(),
                 what="pilot ready")
        return self

    def launch(self):
        """Starts the process without waiting for it to be ready."""
        self.grpc_port, self.http_port, self.monitoring_port = (harness.free_port() for _ in range(3))
        if self.fixed_grpc_port:
            self.grpc_port = self.fixed_grpc_port  # a restart: the proxies know this one
        fd, self.log_path = tempfile.mkstemp(prefix="monomesh-pilot-", suffix=".log")
        os.close(fd)
        args = [harness.binary(), "pilot"] + (["--configDir", self.config_dir] if self.config_dir else []) + [
                "--grpcAddr", "127.0.0.1:%d" % self.grpc_port, "--httpAddr", "127.0.0.1:%d" % self.http_port,
                "--monitoringAddr", "127.0.0.1:%d" % self.monitoring_port] + self.extra_args
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        return self

    def _died(self):
        if self.process.poll() is not None:
            raise AssertionError("pilot exited %s:\n%s" % (self.process.returncode, self.log()))
        return False

    @property
    def grpc_target(self):
        return "127.0.0.1:%d" % self.grpc_port

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def get(self, path, port=None):
        url = "http://127.0.0.1:%d%s" % (port or self.http_port, path)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def json(self, path):
        status, body = self.get(path)
        assert status == 200, "%s -> %s: %s" % (path, status, body)
        return json.loads(body)

    def metric(self, name):
        _, text = self.get("/metrics", self.monitoring_port)
        total = 0.0
        found = False
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
                found = True
        return total if found else None

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.log_path and os.path.exists(self.log_path):
            os.unlink(self.log_path)
