#!/usr/bin/env python3
"""Galley's validating webhook latency: AdmissionReview requests over HTTPS against
`monomesh galley` (pinned to core 0), a Python client on another core.

(a) one keep-alive TLS connection, a valid VirtualService (allowed);
(b) the same connection, an invalid one (denied with the rule's message);
(c) a new TLS connection per request (what an API server without connection reuse pays).
Reports median and p99 milliseconds per request, and Galley's CPU per request, over --requests
requests per round, the median of --rounds rounds. Usage: webhook_bench.py [--rounds N] [--requests N]
"""
import argparse
import http.client
import json
import os
import socket
import ssl
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
os.environ.setdefault("MONOMESH_BIN", os.path.join(HERE, "..", "build", "cmd", "monomesh", "monomesh"))
from galley_harness import WEBHOOK_HOST, Galley, admission_review, make_certs  # noqa: E402

SERVER_CPU = "0"
CLIENT_CPUS = {1} if os.cpu_count() and os.cpu_count() > 1 else {0}


def virtual_service(weights):
    route = [{"destination": {"host": "reviews", "subset": "v%d" % (i + 1)}, "weight": w} for i, w in enumerate(weights)]
    return {"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
            "metadata": {"name": "reviews", "namespace": "default"},
            "spec": {"hosts": ["reviews"], "gateways": ["mesh"],
                     "http": [{"match": [{"uri": {"prefix": "/api"}, "headers": {"end-user": {"exact": "jason"}}}],
                               "route": route, "timeout": "5s", "retries": {"attempts": 3, "perTryTimeout": "2s"}}]}}


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


class Client:
    def __init__(self, port, ca):
        self.port = port
        self.context = ssl.create_default_context(cafile=ca)
        self.conn = None

    def connect(self):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = http.client.HTTPSConnection(WEBHOOK_HOST, self.port, context=self.context, timeout=10)
        conn.sock = self.context.wrap_socket(raw, server_hostname=WEBHOOK_HOST)
        return conn

    def post(self, body, reuse=True):
        if self.conn is None or not reuse:
            if self.conn:
                self.conn.close()
            self.conn = self.connect()
        self.conn.request("POST", "/admitpilot", body=body, headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        data = response.read()
        assert response.status == 200, (response.status, data[:200])
        return json.loads(data)["response"]


def run_case(galley, client, body, requests, reuse, expect_allowed):
    client.post(body, reuse)  # warm up (and connect)
    latencies = []
    cpu_before = cpu_seconds(galley.process.pid)
    for _ in range(requests):
        start = time.perf_counter()
        response = client.post(body, reuse)
        latencies.append((time.perf_counter() - start) * 1000.0)
        assert response["allowed"] == expect_allowed, response
    cpu = cpu_seconds(galley.process.pid) - cpu_before
    return statistics.median(latencies), percentile(latencies, 99), cpu / requests * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    os.sched_setaffinity(0, CLIENT_CPUS)
    work = tempfile.mkdtemp(prefix="monomesh-webhook-bench-")
    certs = make_certs(os.path.join(work, "certs"))
    os.makedirs(os.path.join(work, "config"))
    galley = Galley(os.path.join(work, "config"), certs=certs)
    original_args = galley.args
    galley.args = lambda: ["taskset", "-c", SERVER_CPU] + original_args() + ["--log_output_level", "default:warn"]
    galley.start()
    try:
        client = Client(galley.webhook_port, os.path.join(certs, "root-cert.pem"))
        cases = [("keep-alive, allowed", json.dumps(admission_review(virtual_service([100]))), True, True),
                 ("keep-alive, denied", json.dumps(admission_review(virtual_service([40, 50]))), True, False),
                 ("new TLS connection each, allowed", json.dumps(admission_review(virtual_service([100]))), False, True)]
        results = {name: [] for name, *_ in cases}
        for _ in range(args.rounds):
            for name, body, reuse, allowed in cases:
                results[name].append(run_case(galley, client, body, args.requests // (1 if reuse else 4), reuse, allowed))
        print("galley validating webhook, %d rounds x %d requests, galley on core %s" % (args.rounds, args.requests, SERVER_CPU))
        print("| case | p50 ms | p99 ms | galley CPU us/request |")
        print("|---|---|---|---|")
        for name, rounds in results.items():
            p50, p99, cpu = (statistics.median(r[i] for r in rounds) for i in range(3))
            print("| %s | %.3f | %.3f | %.0f |" % (name, p50, p99, cpu))
    finally:
        galley.stop()


if __name__ == "__main__":
    main()
