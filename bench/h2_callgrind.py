#!/usr/bin/env python3
"""CPU cost of one proxied HTTP/2 request, counted by callgrind: proxy_callgrind.py's method on
h2_bench.py's path (deterministic, so it can be measured on a busy machine).

`monomesh proxy --concurrency 1` runs under valgrind's callgrind in front of nginx; h2load is the
client (h2c prior knowledge, --connections x --streams concurrent streams, a GET of "/"). A first
h2load run of --warmup requests warms the proxy (its upstream pool stays warm), the counters are
zeroed, a second run of --requests is counted, and the profile is dumped. The counted run opens
its own client connections: their set-up is spread over the requests (a few hundred instructions
per request at the defaults).
  --upstream h1   HTTP/1.1 to the backend (h2_bench.py's (a), the default)
  --upstream h2   HTTP/2 (h2c) to an nginx `listen ... http2` backend (cluster with
                  http2_protocol_options): the receiving half of the sidecar pair's hop
  --downstream h1 HTTP/1.1 clients (h2load --h1, one request at a time per connection): with
                  --upstream h2, the sending sidecar of the pair (without its TLS)
Printed: instructions per request, heap allocations (malloc/calloc/realloc/memalign calls) per
request, and the top functions by exclusive instructions (--top).

Usage: h2_callgrind.py [--requests N] [--warmup N] [--connections C] [--streams S]
                       [--upstream h1|h2] [--downstream h2|h1] [--top K] [--keep DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h2_bench import cluster, hcm_chain, listener  # noqa: E402
from proxy_bench import free_port, wait_port  # noqa: E402
from proxy_callgrind import dump_profile, report, require_tools, start_proxy, work_folder, zero_counters  # noqa: E402


def write_backend(work, port, http2):
    """nginx answering every request with a short body; HTTP/1.1 or h2c (prior knowledge)."""
    path = os.path.join(work, "backend.conf")
    with open(path, "w") as f:
        f.write("daemon off; master_process off; worker_processes 1; pid %(w)s/backend.pid;\n"
                "error_log %(w)s/backend-error.log;\nevents { worker_connections 4096; }\n"
                "http { access_log off; keepalive_requests 1000000;\n"
                "  server { listen 127.0.0.1:%(p)d%(h2)s; location / { return 200 \"hello from the backend\\n\"; } } }\n"
                % {"w": work, "p": port, "h2": " http2" if http2 else ""})
    return path


def h2load(port, n, connections, streams, h1):
    cmd = ["h2load", "-n", str(n), "-c", str(connections), "-m", str(streams)]
    if h1:
        cmd.append("--h1")
    out = subprocess.run(cmd + ["http://127.0.0.1:%d/" % port], capture_output=True, text=True, timeout=900).stdout
    m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded", out)
    if not m or int(m.group(2)) != n:
        raise RuntimeError("h2load: not every request succeeded:\n" + out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--streams", type=int, default=10, help="concurrent streams per connection (HTTP/2 clients)")
    ap.add_argument("--upstream", choices=("h1", "h2"), default="h1")
    ap.add_argument("--downstream", choices=("h2", "h1"), default="h2")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--keep", help="keep the work folder (callgrind.out.*) here")
    args = ap.parse_args()
    require_tools("h2_callgrind", "nginx", "h2load", "valgrind", "callgrind_control")
    h1_clients = args.downstream == "h1"
    streams = 1 if h1_clients else args.streams
    with work_folder(args.keep, "monomesh-h2callgrind-") as (work, procs):
        backend_port = free_port()
        procs.append(subprocess.Popen(["nginx", "-c", write_backend(work, backend_port, args.upstream == "h2"),
                                       "-p", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(backend_port)
        port = free_port()
        extra = {"http2_protocol_options": {}} if args.upstream == "h2" else {}
        config = os.path.join(work, "monomesh.json")
        with open(config, "w") as f:
            json.dump({"static_resources": {"listeners": [listener(port, hcm_chain("backend", "bench"))],
                                            "clusters": [cluster("backend", backend_port, **extra)]}}, f)
        proxy = start_proxy(work, config)
        procs.append(proxy)
        wait_port(port, timeout=120)  # valgrind starts slowly
        h2load(port, args.warmup, args.connections, streams, h1_clients)
        zero_counters(proxy)
        h2load(port, args.requests, args.connections, streams, h1_clients)
        dump = dump_profile(proxy, work)
        print("requests %d over %d %s connections x %d streams, upstream %s" % (
            args.requests, args.connections, "HTTP/1.1" if h1_clients else "HTTP/2", streams,
            "HTTP/2" if args.upstream == "h2" else "HTTP/1.1"))
        report(dump, args.requests, args.top, args.keep)


if __name__ == "__main__":
    main()
