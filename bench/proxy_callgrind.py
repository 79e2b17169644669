#!/usr/bin/env python3
"""CPU cost of one proxied HTTP/1.1 request, counted by callgrind (deterministic, so it can be
measured on a busy machine where wall-clock ratios cannot).

`monomesh proxy --concurrency 1` runs under valgrind's callgrind in front of an nginx backend
(keep-alive both sides; HCM + router + upstream pool, no filters). A client sends --warmup
requests, the counters are zeroed (callgrind_control -z), it sends --requests more over
--connections keep-alive connections (a GET with curl's three headers, or a browser's eleven),
and the profile is dumped.
Printed: instructions per request, heap allocations (malloc/calloc/realloc/memalign calls) per
request, and the top functions by exclusive instructions (--top).

Usage: proxy_callgrind.py [--requests N] [--warmup N] [--connections C] [--headers curl|browser]
                          [--top K] [--keep DIR]
"""
import argparse
import collections
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

from proxy_bench import BIN, free_port, stop_all, wait_port, write_backend_config, write_monomesh_config

ALLOCATORS = {"malloc", "calloc", "realloc", "memalign", "posix_memalign", "aligned_alloc"}


def read_response(sock, pending):
    """Reads one Content-Length response; returns the bytes left over."""
    buf = pending
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("unexpected response: %r" % head[:80])
    length = int(re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head).group(1))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed in body")
        rest += chunk
    return rest[length:]


# The request's headers after Host: curl's, or a browser's (eleven headers in all).
HEADERS = {
    "curl": "User-Agent: curl/7.88.1\r\nAccept: */*\r\n",
    "browser": ("User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
                "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
                "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n"
                "Referer: http://example.com/catalogue/items?page=2\r\nUpgrade-Insecure-Requests: 1\r\n"
                "Cache-Control: max-age=0\r\nX-Forwarded-For: 10.1.2.3\r\n"),
}


def drive(port, conns, n, headers="curl"):
    request = ("GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" % (port, HEADERS[headers])).encode()
    for i in range(n):
        sock, pending = conns[i % len(conns)]
        sock.sendall(request)
        conns[i % len(conns)] = (sock, read_response(sock, pending))


def profile_totals(path):
    """Total instructions, allocator calls and each function's own instructions, from a callgrind
    output file (compressed names; a `calls=` line is followed by the call's inclusive cost, which
    is not the caller's own)."""
    names = {}
    total = 0
    allocs = collections.Counter()
    own = collections.Counter()
    fn = callee = None
    skip_cost = False
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
                continue
            m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if m:
                kind, ident, name = m.groups()
                if name is not None:
                    names[ident] = name
                if kind == "fn":
                    fn = names[ident]
                else:
                    callee = names[ident]
                continue
            if line.startswith("calls="):
                # memalign calls malloc: count the outermost allocator call only.
                inner = fn in ALLOCATORS or (fn or "").startswith(("_mid_memalign", "_int_"))
                if callee in ALLOCATORS and not inner:
                    allocs[callee] += int(line[6:].split()[0])
                skip_cost = True
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if skip_cost:
                    skip_cost = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and fn is not None:
                    own[fn] += int(parts[1])
    return total, allocs, own


def start_proxy(work, config):
    """`monomesh proxy -c config --concurrency 1` under callgrind; dumps go to work/callgrind.out.<pid>.*"""
    out = os.path.join(work, "callgrind.out")
    return subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out + ".%p",
                             BIN, "proxy", "-c", config, "--concurrency", "1", "--log_output_level", "default:warn"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "valgrind.log"), "w"))


def zero_counters(proxy):
    subprocess.run(["callgrind_control", "-z", str(proxy.pid)], check=True, capture_output=True)


def dump_profile(proxy, work):
    """Dumps the counters since the last zeroing; returns the dump's path."""
    subprocess.run(["callgrind_control", "-d", "measured", str(proxy.pid)], check=True, capture_output=True)
    dumps = [os.path.join(work, f) for f in os.listdir(work) if f.startswith("callgrind.out.") and "." in f[14:]]
    return max(dumps, key=os.path.getmtime)


@contextlib.contextmanager
def work_folder(keep, prefix):
    """A work folder and a list for the processes started in it; at the end they are stopped and the
    folder is removed unless it is `keep`."""
    work = keep or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(work, exist_ok=True)
    procs = []
    try:
        yield work, procs
    finally:
        stop_all(procs)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def report(dump, n, top, keep):
    """Prints a dump's instructions and allocations per request and its top functions."""
    total, allocs, by_fn = profile_totals(dump)
    print("instructions per request: %.0f" % (total / n))
    print("allocations per request: %.1f (%s)" % (sum(allocs.values()) / n,
          ", ".join("%s %.1f" % (k, v / n) for k, v in allocs.most_common())))
    print("top functions by own instructions per request:")
    for name, ir in by_fn.most_common(top):
        print("  %7.0f  %s" % (ir / n, name[:150]))
    if keep:
        print("profile: %s" % dump)


def require_tools(script, *tools):
    for tool in tools:
        if shutil.which(tool) is None:
            sys.exit("%s: %s is missing" % (script, tool))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--headers", choices=sorted(HEADERS), default="curl", help="the request's headers")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--keep", help="keep the work folder (callgrind.out.*) here")
    args = ap.parse_args()
    require_tools("proxy_callgrind", "nginx", "valgrind", "callgrind_control")
    with work_folder(args.keep, "monomesh-callgrind-") as (work, procs):
        backend_port = free_port()
        procs.append(subprocess.Popen(["nginx", "-c", write_backend_config(work, backend_port), "-p", work],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(backend_port)
        port, admin = free_port(), free_port()
        config = write_monomesh_config(work, admin, port, backend_port)
        proxy = start_proxy(work, config)
        procs.append(proxy)
        wait_port(port, timeout=120)  # valgrind starts slowly
        conns = [(socket.create_connection(("127.0.0.1", port)), b"") for _ in range(args.connections)]
        drive(port, conns, args.warmup, args.headers)
        zero_counters(proxy)
        drive(port, conns, args.requests, args.headers)
        dump = dump_profile(proxy, work)
        for sock, _ in conns:
            sock.close()
        print("requests %d over %d connections" % (args.requests, args.connections))
        report(dump, args.requests, args.top, args.keep)


if __name__ == "__main__":
    main()
