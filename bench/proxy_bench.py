#!/usr/bin/env python3
"""HTTP/1.1 reverse-proxy benchmark: monomesh proxy beside nginx and HAProxy, all in front of the
same nginx backend, measured in one run with rounds interleaved across targets.

Each proxy under test runs with one worker pinned to core 0; the backend and load generators run
on the other cores. Reported per target, as medians over rounds:
  (a) max requests/s with 32 keep-alive connections (wrk) and requests per proxy CPU-second
  (b) p50/p99 latency at fixed 1000 and 5000 requests/s (bench/latency/fixed_rate: open loop, a clock
      read per request; h2load --h1 --rps when it is not built),
      and the latency each proxy adds over the direct path
  (c) proxy CPU per 1000 requests/s (from the fixed-rate runs)
  (d) peak RSS
and the ratios of monomesh to nginx and to HAProxy. Usage: proxy_bench.py [--rounds N] [--seconds S]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("MONOMESH_BIN", os.path.join(ROOT, "build/cmd/monomesh/monomesh"))
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 2
PROXY_CPU = "0"
LOAD_CPUS = ",".join(str(c) for c in range(1, CORES)) if CORES > 1 else "0"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open" % port)


def write_backend_config(work, port):
    """nginx answering every request with a short body, one worker, keep-alive without limit."""
    path = os.path.join(work, "backend.conf")
    with open(path, "w") as f:
        f.write("""daemon off; master_process off; worker_processes 1; pid %(w)s/backend.pid;
error_log %(w)s/backend-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:%(p)d; location / { return 200 "hello from the backend\\n"; } } }
""" % {"w": work, "p": port})
    return path


def write_monomesh_config(work, admin_port, port, backend_port):
    """The proxy under test: one listener, HCM + router, one STATIC cluster of the backend."""
    path = os.path.join(work, "monomesh.json")
    with open(path, "w") as f:
        f.write("""{"admin":{"address":{"socket_address":{"address":"127.0.0.1","port_value":%d}}},
"static_resources":{"listeners":[{"name":"l","address":{"socket_address":{"address":"127.0.0.1","port_value":%d}},
"filter_chains":[{"filters":[{"name":"envoy.filters.network.http_connection_manager","typed_config":{
"@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
"stat_prefix":"bench","route_config":{"virtual_hosts":[{"name":"all","domains":["*"],
"routes":[{"match":{"prefix":"/"},"route":{"cluster":"backend"}}]}]},
"http_filters":[{"name":"envoy.filters.http.router"}]}}]}]}],
"clusters":[{"name":"backend","type":"STATIC","connect_timeout":"1s","load_assignment":{"cluster_name":"backend",
"endpoints":[{"lb_endpoints":[{"endpoint":{"address":{"socket_address":{"address":"127.0.0.1","port_value":%d}}}}]}]}}]}}
""" % (admin_port, port, backend_port))
    return path


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def bench_tool(name, env):
    """A bench/ program built beside the binary under test (build/bench/NAME), or $env."""
    return os.environ.get(env, os.path.join(os.path.dirname(BIN), "../../bench", name))


FIXED_RATE = bench_tool("fixed_rate", "MONOMESH_FIXED_RATE")


def fixed_rate_latency(work, port, rate, seconds, clients=10):
    """p50 and p99 in ms at a fixed request rate over `clients` keep-alive connections: with
    bench/latency/fixed_rate when built (a clock read per request), else h2load --rps, whose
    cached event-loop clock quantises sub-millisecond latencies."""
    if os.access(FIXED_RATE, os.X_OK):
        out = subprocess.run(["taskset", "-c", LOAD_CPUS, FIXED_RATE, str(port), str(rate), str(seconds), str(clients)],
                             capture_output=True, text=True, timeout=seconds + 30).stdout.split()
        fields = dict(zip(out[::2], out[1::2]))
        return float(fields["p50"]), float(fields["p99"])
    log = os.path.join(work, "h2load.log")
    subprocess.run(["taskset", "-c", LOAD_CPUS, "h2load", "--h1", "-D", str(seconds), "-c", str(clients),
                    "--rps", str(rate // clients), "--log-file", log, "http://127.0.0.1:%d/" % port],
                   capture_output=True, text=True, timeout=seconds + 30)
    lat = sorted(int(l.split("\t")[2]) / 1000.0 for l in open(log) if l.strip())
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def stop_all(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()
    for tool in ("nginx", "haproxy", "wrk", "h2load", "taskset"):
        if shutil.which(tool) is None:
            sys.exit("bench: %s is missing (run scripts/setup.sh)" % tool)
    work = tempfile.mkdtemp(prefix="monomesh-bench-")
    procs = []

    def spawn(cmd, **kw):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
        procs.append(p)
        return p

    try:
        backend_port = free_port()
        spawn(["taskset", "-c", LOAD_CPUS, "nginx", "-c", write_backend_config(work, backend_port), "-p", work])
        wait_port(backend_port)

        targets = {"direct": (None, backend_port)}
        # monomesh proxy, one worker.
        mm_port, mm_admin = free_port(), free_port()
        mm = spawn(["taskset", "-c", PROXY_CPU, BIN, "proxy", "-c", write_monomesh_config(work, mm_admin, mm_port, backend_port),
                    "--concurrency", "1", "--log_output_level", "default:warn"])
        wait_port(mm_port)
        targets["monomesh"] = (mm, mm_port)
        # nginx as a reverse proxy, one worker, upstream keep-alive.
        ng_port = free_port()
        with open(os.path.join(work, "proxy.conf"), "w") as f:
            f.write("""daemon off; master_process off; worker_processes 1; pid %(w)s/proxy.pid;
error_log %(w)s/proxy-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:%(b)d; keepalive 64; }
  server { listen 127.0.0.1:%(p)d;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
""" % {"w": work, "p": ng_port, "b": backend_port})
        ng = spawn(["taskset", "-c", PROXY_CPU, "nginx", "-c", os.path.join(work, "proxy.conf"), "-p", work])
        wait_port(ng_port)
        targets["nginx"] = (ng, ng_port)
        # HAProxy, one thread, keep-alive both sides.
        hp_port = free_port()
        with open(os.path.join(work, "haproxy.cfg"), "w") as f:
            f.write("""global
  nbthread 1
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend f
  bind 127.0.0.1:%d
  default_backend b
backend b
  http-reuse always
  server s1 127.0.0.1:%d
""" % (hp_port, backend_port))
        hp = spawn(["taskset", "-c", PROXY_CPU, "haproxy", "-f", os.path.join(work, "haproxy.cfg")])
        wait_port(hp_port)
        targets["haproxy"] = (hp, hp_port)
        # The floor: what the kernel's TCP path alone costs a proxied request (bench/floor).
        floor_bin = bench_tool("floor_proxy", "MONOMESH_FLOOR_PROXY")
        if os.access(floor_bin, os.X_OK):
            fl_port = free_port()
            fl = spawn(["taskset", "-c", PROXY_CPU, floor_bin, str(fl_port), str(backend_port)])
            wait_port(fl_port)
            targets["floor"] = (fl, fl_port)
        else:
            print("bench: %s not built (ninja floor_proxy); the floor column is left out" % floor_bin, file=sys.stderr)

        results = {name: {"rps": [], "rps_per_cpu": [], "p50_1000": [], "p99_1000": [], "p50_5000": [],
                          "p99_5000": [], "cpu_per_krps": []} for name in targets}
        for rnd in range(args.rounds):
            for name, (proc, port) in targets.items():
                url = "http://127.0.0.1:%d/" % port
                # (a) max throughput
                c0 = cpu_seconds(proc.pid) if proc else 0
                out = subprocess.run(["taskset", "-c", LOAD_CPUS, "wrk", "-t1", "-c32", "-d%ds" % args.seconds, url],
                                     capture_output=True, text=True, timeout=args.seconds + 30).stdout
                rps = float([l for l in out.splitlines() if l.startswith("Requests/sec")][0].split()[1])
                results[name]["rps"].append(rps)
                if proc:
                    cpu = cpu_seconds(proc.pid) - c0
                    results[name]["rps_per_cpu"].append(rps * args.seconds / max(cpu, 1e-6))
                # (b)+(c) fixed rates
                for rate in (1000, 5000):
                    c0 = cpu_seconds(proc.pid) if proc else 0
                    p50, p99 = fixed_rate_latency(work, port, rate, args.seconds)
                    if proc:
                        cpu = cpu_seconds(proc.pid) - c0
                        if rate == 1000:
                            results[name]["cpu_per_krps"].append(cpu / args.seconds)
                    results[name]["p50_%d" % rate].append(p50)
                    results[name]["p99_%d" % rate].append(p99)
            print("round %d/%d done" % (rnd + 1, args.rounds), file=sys.stderr)

        med = {n: {k: (statistics.median(v) if v else None) for k, v in r.items()} for n, r in results.items()}
        rss = {n: peak_rss_kb(p.pid) / 1024.0 for n, (p, _) in targets.items() if p}

        def added(name, key):
            return med[name][key] - med["direct"][key]

        rows = [
            ("max req/s (32 conns)", "rps", "%.0f"),
            ("req per proxy CPU-second", "rps_per_cpu", "%.0f"),
            ("proxy CPU (vCPU) at 1000 req/s", "cpu_per_krps", "%.3f"),
            ("p50 ms at 1000 req/s", "p50_1000", "%.3f"),
            ("p99 ms at 1000 req/s", "p99_1000", "%.3f"),
            ("p50 ms at 5000 req/s", "p50_5000", "%.3f"),
            ("p99 ms at 5000 req/s", "p99_5000", "%.3f"),
        ]
        names = ["monomesh", "nginx", "haproxy"] + (["floor"] if "floor" in targets else [])

        def ratio(a, b):
            return "%.2f" % (a / b) if a is not None and b else "-"

        lines = ["| metric (median of %d rounds) | direct | %s | monomesh/nginx | monomesh/haproxy |" % (args.rounds, " | ".join(names)),
                 "|---|---|%s---|---|" % ("---|" * len(names))]
        for label, key, fmt in rows:
            cells = [(fmt % v) if v is not None else "-" for v in [med["direct"][key]] + [med[n][key] for n in names]]
            lines.append("| %s | %s | %s | %s |" % (label, " | ".join(cells), ratio(med["monomesh"][key], med["nginx"][key]),
                                                    ratio(med["monomesh"][key], med["haproxy"][key])))
        for key, label in (("p50_1000", "added p50 ms at 1000 req/s"), ("p99_1000", "added p99 ms at 1000 req/s")):
            vals = {n: added(n, key) for n in names}
            lines.append("| %s | - | %s | %s | %s |" % (label, " | ".join("%.3f" % vals[n] for n in names),
                                                      ratio(vals["monomesh"], vals["nginx"]), ratio(vals["monomesh"], vals["haproxy"])))
        lines.append("| peak RSS MB | - | %s | %s | %s |" % (" | ".join("%.1f" % rss[n] for n in names),
                                                           ratio(rss["monomesh"], rss["nginx"]), ratio(rss["monomesh"], rss["haproxy"])))
        if "floor" in targets:
            lines.append("")
            lines.append("floor (an epoll forwarder doing only the 4 system calls, bench/floor): %s x nginx's req per CPU-second, "
                         "%s x its CPU at 1000 req/s; monomesh is %s x the floor's req per CPU-second"
                         % (ratio(med["floor"]["rps_per_cpu"], med["nginx"]["rps_per_cpu"]),
                            ratio(med["floor"]["cpu_per_krps"], med["nginx"]["cpu_per_krps"]),
                            ratio(med["monomesh"]["rps_per_cpu"], med["floor"]["rps_per_cpu"])))
        print("\n".join(lines))
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
