#!/usr/bin/env python3
"""HTTP/2 and mutual-TLS benchmark: monomesh proxy beside nginx and HAProxy, in one run.

(a) HTTP/2 (h2c, prior knowledge) reverse proxying: h2load with 10 connections x 10 concurrent
    streams against each proxy (one worker pinned to core 0) in front of the same nginx HTTP/1.1
    backend; max requests/s and requests per proxy CPU-second.
(b) Two sidecars, Istio's path: client -> sidecar A (HTTP/1.1 in) -> HTTP/2 over mutual TLS with
    SPIFFE identities -> sidecar B -> backend, at a fixed 1000 requests/s (bench/latency/fixed_rate):
    p50/p99 and what the pair adds over the direct path, and the pair's CPU per 1000 req/s.
Medians over rounds interleaved across targets. Usage: h2_bench.py [--rounds N] [--seconds S]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_bench import BIN, LOAD_CPUS, PROXY_CPU, cpu_seconds, fixed_rate_latency, free_port, stop_all, wait_port  # noqa: E402

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
DTLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
UTLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"


def sh(*cmd, cwd=None):
    subprocess.run(list(cmd), cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d):
    sh("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=d)
    sh("openssl", "req", "-x509", "-new", "-key", "ca.key", "-subj", "/O=cluster.local", "-days", "2", "-out", "root-cert.pem", cwd=d)
    for name in ("a", "b"):
        sh("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name + "-key.pem", cwd=d)
        sh("openssl", "req", "-new", "-key", name + "-key.pem", "-subj", "/O=cluster.local", "-out", name + ".csr", cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=URI:spiffe://cluster.local/ns/default/sa/%s\nextendedKeyUsage=serverAuth,clientAuth\n" % name)
        sh("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "root-cert.pem", "-CAkey", "ca.key", "-CAcreateserial",
           "-days", "1", "-extfile", name + ".ext", "-out", name + "-cert.pem", cwd=d)


def tls_context(d, me, peer, alpn):
    return {"tls_certificates": [{"certificate_chain": {"filename": os.path.join(d, me + "-cert.pem")},
                                  "private_key": {"filename": os.path.join(d, me + "-key.pem")}}],
            "validation_context": {"trusted_ca": {"filename": os.path.join(d, "root-cert.pem")},
                                   "match_typed_subject_alt_names": [{"san_type": "URI", "matcher": {
                                       "exact": "spiffe://cluster.local/ns/default/sa/" + peer}}]},
            "alpn_protocols": alpn}


def hcm_chain(cluster, prefix):
    return {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": HCM, "stat_prefix": prefix, "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
            {"match": {"prefix": "/"}, "route": {"cluster": cluster}}]}]},
        "http_filters": [{"name": "envoy.filters.http.router"}]}}]}


def listener(port, chain):
    return {"name": "l%d" % port, "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [chain]}


def cluster(name, port, **extra):
    c = {"name": name, "type": "STATIC", "connect_timeout": "1s", "load_assignment": {"cluster_name": name, "endpoints": [
        {"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}]}}
    c.update(extra)
    return c


def h2load(args, seconds):
    out = subprocess.run(["taskset", "-c", LOAD_CPUS, "h2load", "-D", str(seconds)] + args,
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    line = [l for l in out.splitlines() if l.startswith("finished in")][0]
    return float(line.split(",")[1].split()[0])  # req/s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="monomesh-h2bench-")
    procs = []

    def spawn(cmd, cpus):
        p = subprocess.Popen(["taskset", "-c", cpus] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    try:
        make_certs(work)
        backend = free_port()
        with open(os.path.join(work, "backend.conf"), "w") as f:
            f.write("daemon off; master_process off; worker_processes 1; pid %s/b.pid; error_log %s/b.log;\n"
                    "events { worker_connections 4096; }\nhttp { access_log off; keepalive_requests 1000000;\n"
                    "  server { listen 127.0.0.1:%d; location / { return 200 \"hello from the backend\\n\"; } } }\n"
                    % (work, work, backend))
        spawn(["nginx", "-c", os.path.join(work, "backend.conf"), "-p", work], LOAD_CPUS)
        wait_port(backend)

        # (a) h2c proxies, one worker each on core 0.
        mm = free_port()
        with open(os.path.join(work, "mm.json"), "w") as f:
            json.dump({"static_resources": {"listeners": [listener(mm, hcm_chain("backend", "h2"))],
                                            "clusters": [cluster("backend", backend)]}}, f)
        targets = {"monomesh": (spawn([BIN, "proxy", "-c", os.path.join(work, "mm.json"), "--concurrency", "1",
                                       "--log_output_level", "default:warn"], PROXY_CPU), mm)}
        ng = free_port()
        with open(os.path.join(work, "ng.conf"), "w") as f:
            f.write("daemon off; master_process off; worker_processes 1; pid %s/n.pid; error_log %s/n.log;\n"
                    "events { worker_connections 4096; }\nhttp { access_log off; keepalive_requests 1000000;\n"
                    "  upstream b { server 127.0.0.1:%d; keepalive 64; }\n"
                    "  server { listen 127.0.0.1:%d http2; location / { proxy_pass http://b; proxy_http_version 1.1;"
                    " proxy_set_header Connection \"\"; } } }\n" % (work, work, backend, ng))
        targets["nginx"] = (spawn(["nginx", "-c", os.path.join(work, "ng.conf"), "-p", work], PROXY_CPU), ng)
        hp = free_port()
        with open(os.path.join(work, "hp.cfg"), "w") as f:
            f.write("global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n"
                    "  timeout server 30s\nfrontend f\n  bind 127.0.0.1:%d proto h2\n  default_backend b\n"
                    "backend b\n  http-reuse always\n  server s1 127.0.0.1:%d\n" % (hp, backend))
        targets["haproxy"] = (spawn(["haproxy", "-f", os.path.join(work, "hp.cfg")], PROXY_CPU), hp)
        for _, (_, port) in targets.items():
            wait_port(port)

        # (b) the sidecar pair: A (HTTP/1.1 in) -> mTLS HTTP/2 -> B -> backend.
        a, b = free_port(), free_port()
        with open(os.path.join(work, "b.json"), "w") as f:
            chain = hcm_chain("backend", "inbound")
            chain["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": {
                "@type": DTLS, "require_client_certificate": True, "common_tls_context": tls_context(work, "b", "a", ["h2"])}}
            json.dump({"static_resources": {"listeners": [listener(b, chain)], "clusters": [cluster("backend", backend)]}}, f)
        with open(os.path.join(work, "a.json"), "w") as f:
            up = cluster("to-b", b, http2_protocol_options={}, transport_socket={
                "name": "envoy.transport_sockets.tls", "typed_config": {
                    "@type": UTLS, "common_tls_context": tls_context(work, "a", "b", ["h2"])}})
            json.dump({"static_resources": {"listeners": [listener(a, hcm_chain("to-b", "outbound"))], "clusters": [up]}}, f)
        pair = [spawn([BIN, "proxy", "-c", os.path.join(work, n + ".json"), "--concurrency", "1",
                       "--log_output_level", "default:warn"], PROXY_CPU) for n in ("a", "b")]
        wait_port(a)
        wait_port(b)

        rps = {n: [] for n in targets}
        per_cpu = {n: [] for n in targets}
        lat = {"direct": {"p50": [], "p99": []}, "pair": {"p50": [], "p99": []}}
        pair_cpu = []
        for rnd in range(args.rounds):
            for name, (proc, port) in targets.items():
                c0 = cpu_seconds(proc.pid)
                r = h2load(["-c", "10", "-m", "10", "http://127.0.0.1:%d/" % port], args.seconds)
                cpu = cpu_seconds(proc.pid) - c0
                rps[name].append(r)
                per_cpu[name].append(r * args.seconds / max(cpu, 1e-6))
            for name, port in (("direct", backend), ("pair", a)):
                c0 = sum(cpu_seconds(p.pid) for p in pair)
                p50, p99 = fixed_rate_latency(work, port, 1000, args.seconds)
                if name == "pair":
                    pair_cpu.append((sum(cpu_seconds(p.pid) for p in pair) - c0) / args.seconds)
                lat[name]["p50"].append(p50)
                lat[name]["p99"].append(p99)
            print("round %d/%d done" % (rnd + 1, args.rounds), file=sys.stderr)

        med = lambda v: statistics.median(v)
        print("| HTTP/2 (h2c), median of %d rounds | monomesh | nginx | haproxy | monomesh/nginx | monomesh/haproxy |" % args.rounds)
        print("|---|---|---|---|---|---|")
        for label, table in (("max req/s (10 conns x 10 streams)", rps), ("req per proxy CPU-second", per_cpu)):
            m, n, h = med(table["monomesh"]), med(table["nginx"]), med(table["haproxy"])
            print("| %s | %.0f | %.0f | %.0f | %.2f | %.2f |" % (label, m, n, h, m / n, m / h))
        print()
        print("| two sidecars, mutual TLS + HTTP/2 between them, 1000 req/s | direct | through the pair | added |")
        print("|---|---|---|---|")
        for q in ("p50", "p99"):
            d, p = med(lat["direct"][q]), med(lat["pair"][q])
            print("| %s ms | %.3f | %.3f | %.3f |" % (q, d, p, p - d))
        print("| pair CPU (vCPU) at 1000 req/s | - | %.3f | (Istio 1.1: 0.5-0.6 per sidecar) |" % med(pair_cpu))
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
