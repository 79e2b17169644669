#!/usr/bin/env python3
"""Pilot at scale: a synthetic mesh and thousands of simulated sidecars (bench/pilot/ads_load_client).

The mesh is written to a temporary config folder: namespaces of 10 Services (an http port 8080,
every 10th also a TCP port 3306 with its own VIP listener), 2 Pods per Service (v1, v2) with IPs
and labels, their Endpoints, and in every namespace a DestinationRule (subsets v1/v2) and a
VirtualService (90/10 split) for 2 of the services. Optionally a Sidecar per namespace, as
Istio's scaling advice has it: egress to its own namespace, istio-system, and ns-0 (the shared
services every namespace calls). `monomesh pilot` (pinned to core 0) follows the folder; the load
client (core 1) connects one ADS stream per pod, like Envoy: CDS, EDS for its clusters, LDS, RDS
for its routes, ACKing everything. Measured per scenario:
  - time until every proxy is synced; pilot VmRSS and VmHWM; pilot CPU over an idle window
  - a VirtualService change (route weights of ns-0/svc-0, seen by every proxy): from writing the
    file to the last proxy's RDS ACK of the new version
  - an Endpoints change (an address added to / removed from ns-0/svc-0): to the last EDS ACK
    (reported raw and minus what is waited on purpose: the folder source's 50 ms quiet time and
    Pilot's --debounceAfter, unless --debounceEndpoints=false pushes endpoint changes at once)
Each change is repeated and the median printed, beside Istio 1.1's published figures.
Usage: pilot_bench.py [--repeats N] [--idle-seconds S] [--quick] [--scenario NAME ...]
"""
import argparse
import json
import os
import queue
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_bench import BIN, ROOT, cpu_seconds, free_port, stop_all  # noqa: E402

CLIENT = os.environ.get("MONOMESH_ADS_LOAD_CLIENT", os.path.join(ROOT, "build/bench/ads_load_client"))
SERVICES_PER_NAMESPACE = 10
PODS_PER_SERVICE = 2
ISTIO_11 = {"vcpu": 1.0, "rss_mb": 1536}  # 1.1 docs: 1000 services, 2000 sidecars, namespace isolation
NICE = []  # --nice: run pilot and the load client at a higher priority on a busy machine

FOLDER_QUIET_MS = 50  # the config folder source waits this long after a write before reading (inotify burst)

# (name, services, proxies, sidecar resources, debounceAfter ms, measure pushes[, debounce endpoints])
SCENARIOS = [
    ("1k-2000px", 1000, 2000, False, 100, False),
    ("1k-2000px-sidecar", 1000, 2000, True, 100, False),
    ("1k-1000px", 1000, 1000, False, 100, True),
    ("1k-1000px-sidecar", 1000, 1000, True, 100, True),
    ("1k-1000px-sidecar-eds-now", 1000, 1000, True, 100, True, False),
    ("1k-1000px-debounce10", 1000, 1000, False, 10, True),
    ("1k-1000px-sidecar-debounce10", 1000, 1000, True, 10, True),
    ("10k-100px", 10000, 100, False, 100, False),
    ("10k-2000px-sidecar", 10000, 2000, True, 100, True),
]


def ip(base, n):
    return "%d.%d.%d.%d" % (base, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def service_ip(i):
    return ip(10, (96 << 16) + i + 1)


def pod_ip(j):
    return ip(10, (128 << 16) + j + 1)


def ports_of(i):
    ports = [("http", 8080)]
    if i % 10 == 9:
        ports.append(("tcp-db", 3306))
    return ports


def endpoints_yaml(ns, name, ips, ports):
    addresses = ", ".join("{ip: %s}" % a for a in ips)
    port_list = ", ".join("{name: %s, port: %d}" % p for p in ports)
    return ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: %s, namespace: %s}\n"
            "subsets: [{addresses: [%s], ports: [%s]}]\n" % (name, ns, addresses, port_list))


def virtual_service_yaml(ns, name, v1_weight):
    return ("apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\n"
            "metadata: {name: %s, namespace: %s}\nspec:\n  hosts: [%s]\n  http:\n"
            "  - route:\n    - {destination: {host: %s, subset: v1}, weight: %d}\n"
            "    - {destination: {host: %s, subset: v2}, weight: %d}\n"
            % (name, ns, name, name, v1_weight, name, 100 - v1_weight))


def generate_mesh(root, services, sidecars):
    """Writes the mesh; returns the node IDs of every pod (namespace order) and the change files."""
    nodes = []
    namespaces = (services + SERVICES_PER_NAMESPACE - 1) // SERVICES_PER_NAMESPACE
    pod = 0
    for n in range(namespaces):
        ns = "ns-%d" % n
        docs = []
        for k in range(SERVICES_PER_NAMESPACE):
            i = n * SERVICES_PER_NAMESPACE + k
            if i >= services:
                break
            name = "svc-%d" % k
            ports = ports_of(i)
            docs.append("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\n"
                        "spec: {clusterIP: %s, ports: [%s]}\n"
                        % (name, ns, service_ip(i), ", ".join("{name: %s, port: %d}" % p for p in ports)))
            ips = []
            for v in range(PODS_PER_SERVICE):
                pod_name = "%s-v%d-%05d" % (name, v + 1, pod)
                address = pod_ip(pod)
                pod += 1
                ips.append(address)
                docs.append("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, "
                            "labels: {app: %s, version: v%d}}\nspec: {serviceAccountName: %s, "
                            "containers: [{name: app, image: app}]}\nstatus: {podIP: %s}\n"
                            % (pod_name, ns, name, v + 1, name, address))
                nodes.append("sidecar~%s~%s.%s~%s.svc.cluster.local" % (address, pod_name, ns, ns))
            changing = n == 0 and k == 0  # ns-0/svc-0: its VirtualService and Endpoints live in change files
            if not changing:
                docs.append(endpoints_yaml(ns, name, ips, ports))
            if k < 2:
                docs.append("apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
                            "metadata: {name: %s, namespace: %s}\nspec:\n  host: %s\n"
                            "  trafficPolicy: {connectionPool: {http: {http1MaxPendingRequests: 100}}}\n"
                            "  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]\n"
                            % (name, ns, name))
                if not changing:
                    docs.append(virtual_service_yaml(ns, name, 90))
        if sidecars:
            docs.append("apiVersion: networking.istio.io/v1alpha3\nkind: Sidecar\n"
                        "metadata: {name: default, namespace: %s}\n"
                        "spec:\n  egress:\n  - hosts: [\"./*\", \"istio-system/*\", \"ns-0/*\"]\n" % ns)
        with open(os.path.join(root, "%s.yaml" % ns), "w") as f:
            f.write("---\n".join(docs))
    base_ips = [pod_ip(0), pod_ip(1)]
    write_file(root, "change-vs.yaml", virtual_service_yaml("ns-0", "svc-0", 90))
    write_file(root, "change-ep.yaml", endpoints_yaml("ns-0", "svc-0", base_ips, ports_of(0)))
    return nodes, base_ips


def write_file(root, name, text):
    """Writes by rename, as a config management tool would, so Pilot never reads half a file."""
    tmp = os.path.join(os.path.dirname(root), "." + name)
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(root, name))


def proc_status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class LoadClient:
    """The load client, its stdout events in a queue."""

    def __init__(self, target, nodes_file, count, log):
        self.events = queue.Queue()
        self.process = subprocess.Popen(
            NICE + ["taskset", "-c", "1", CLIENT, "--target", target, "--nodes", nodes_file, "--count", str(count),
             "--max-seconds", "3000"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                pass
        self.events.put({"event": "exit"})

    def wait(self, predicate, timeout):
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if e.get("event") == "exit":
                raise RuntimeError("the load client exited")
            if predicate(e):
                return e

    def stop(self):
        try:
            self.process.stdin.close()  # the client stops when its stdin closes
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_scenario(name, services, proxies, sidecars, debounce_ms, pushes, eds_debounce=True, *, args, work):
    root = os.path.join(work, name, "mesh")
    os.makedirs(root)
    nodes, base_ips = generate_mesh(root, services, sidecars)
    proxies = min(proxies, len(nodes))
    # Proxies spread over the namespaces: every (pods/proxies)-th pod.
    step = len(nodes) / proxies
    chosen = [nodes[int(k * step)] for k in range(proxies)]
    nodes_file = os.path.join(work, name, "nodes.txt")
    with open(nodes_file, "w") as f:
        f.write("\n".join(chosen) + "\n")
    grpc, http, monitoring = free_port(), free_port(), free_port()
    log = open(os.path.join(work, name, "pilot.log"), "w")
    client_log = open(os.path.join(work, name, "client.log"), "w")
    started = time.time()
    pilot = subprocess.Popen(
        NICE + ["taskset", "-c", "0", BIN, "pilot", "--configDir", root, "--grpcAddr", "127.0.0.1:%d" % grpc,
         "--httpAddr", "127.0.0.1:%d" % http, "--monitoringAddr", "127.0.0.1:%d" % monitoring,
         "--debounceAfter", "%dms" % debounce_ms, "--debounceEndpoints=%s" % str(eds_debounce).lower(),
         "--log_output_level", args.pilot_log] + (args.pilot_arg or []),
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=raise_nofile)
    client = None
    result = {"name": name, "services": services, "pods": len(nodes), "proxies": proxies, "sidecars": sidecars,
              "debounce_ms": debounce_ms, "eds_debounce": eds_debounce}
    try:
        wait_ready(pilot, http)
        result["pilot_ready_s"] = round(time.time() - started, 2)
        client = LoadClient("127.0.0.1:%d" % grpc, nodes_file, proxies, client_log)
        synced = client.wait(lambda e: e.get("event") == "synced", args.sync_timeout)
        if synced is None:
            raise RuntimeError("%s: proxies not synced within %d s (see %s)" % (name, args.sync_timeout, client_log.name))
        result["sync_s"] = round(synced["elapsed_ms"] / 1000, 2)
        result["sync_cpu_s"] = round(cpu_seconds(pilot.pid), 2)
        time.sleep(2)
        cpu0, t0 = cpu_seconds(pilot.pid), time.time()
        time.sleep(args.idle_seconds)
        result["idle_vcpu"] = (cpu_seconds(pilot.pid) - cpu0) / (time.time() - t0)
        result["rss_mb"] = proc_status_kb(pilot.pid, "VmRSS") / 1024
        result["hwm_mb"] = proc_status_kb(pilot.pid, "VmHWM") / 1024
        if pushes:
            generation = {"rds": 0, "eds": 0}
            vs_times, ep_times, vs_cpu, ep_cpu = [], [], [], []
            for r in range(args.repeats):
                cpu = cpu_seconds(pilot.pid)
                vs_times.append(timed_change(client, generation, "rds", lambda: write_file(
                    root, "change-vs.yaml", virtual_service_yaml("ns-0", "svc-0", 80 - r if r % 2 == 0 else 90))))
                vs_cpu.append((cpu_seconds(pilot.pid) - cpu) * 1000)
                time.sleep(1)
                extra = [ip(10, (255 << 16) + r + 1)] if r % 2 == 0 else []
                cpu = cpu_seconds(pilot.pid)
                ep_times.append(timed_change(client, generation, "eds", lambda: write_file(
                    root, "change-ep.yaml", endpoints_yaml("ns-0", "svc-0", base_ips + extra, ports_of(0)))))
                ep_cpu.append((cpu_seconds(pilot.pid) - cpu) * 1000)
                time.sleep(1)
            result["vs_push_ms"] = vs_times
            result["ep_push_ms"] = ep_times
            result["vs_push_cpu_ms"] = vs_cpu
            result["ep_push_cpu_ms"] = ep_cpu
            result["rss_after_pushes_mb"] = proc_status_kb(pilot.pid, "VmRSS") / 1024
            result["hwm_mb"] = proc_status_kb(pilot.pid, "VmHWM") / 1024
        if pilot.poll() is not None:
            raise RuntimeError("pilot exited during %s" % name)
    finally:
        if client:
            client.stop()
        stop_all([pilot])
        log.close()
        client_log.close()
    return result


def wait_ready(pilot, http, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pilot.poll() is not None:
            raise RuntimeError("pilot exited with %s" % pilot.returncode)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ready" % http, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("pilot not ready within %d s" % timeout)


def timed_change(client, generation, type_name, write):
    """Writes a change; returns ms from the write to the last proxy's ACK of the new version."""
    start_ms = time.time() * 1000
    write()
    generation[type_name] += 1
    want = generation[type_name]
    e = client.wait(lambda e: e.get("event") == "generation" and e["type"] == type_name and e["gen"] >= want, 120)
    if e is None:
        raise RuntimeError("no %s generation %d within 120 s" % (type_name, want))
    generation[type_name] = e["gen"]
    return e["t_ms"] - start_ms


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def endpoint_waits(r):
    """What an endpoint push waits on purpose: the folder's quiet time and Pilot's debounce (if on)."""
    return FOLDER_QUIET_MS + (r["debounce_ms"] if r.get("eds_debounce", True) else 0)


def report(results):
    print("%-28s %7s %6s %7s %8s %7s %7s %9s %11s %11s %13s" % (
        "scenario", "svc", "pods", "proxies", "sync s", "RSS MB", "HWM MB", "idle vCPU", "VS push ms",
        "EP push ms", "EP-waits"))
    for r in results:
        vs = median(r.get("vs_push_ms", []))
        ep = median(r.get("ep_push_ms", []))
        print("%-28s %7d %6d %7d %8.1f %7.0f %7.0f %9.3f %11s %11s %13s" % (
            r["name"], r["services"], r["pods"], r["proxies"], r["sync_s"], r["rss_mb"], r["hwm_mb"], r["idle_vcpu"],
            "%.0f" % vs if r.get("vs_push_ms") else "-", "%.0f" % ep if r.get("ep_push_ms") else "-",
            "%.0f" % (ep - endpoint_waits(r)) if r.get("ep_push_ms") else "-"))
    print()
    for r in results:
        if r.get("vs_push_ms"):
            print("  %s rounds: VS %s ms; EP %s ms; pilot CPU per push (median): VS %.0f ms, EP %.0f ms;"
                  " pilot CPU for the initial sync %.1f s" % (
                      r["name"], " ".join("%.0f" % x for x in r["vs_push_ms"]),
                      " ".join("%.0f" % x for x in r["ep_push_ms"]), median(r["vs_push_cpu_ms"]),
                      median(r["ep_push_cpu_ms"]), r["sync_cpu_s"]))
    print()
    for r in results:
        if r["services"] == 1000 and r["proxies"] == 2000:
            print("  %s vs Istio 1.1 (1 vCPU, 1.5 GB): RSS %.3fx, HWM %.3fx, idle CPU %.3fx" % (
                r["name"], r["rss_mb"] / ISTIO_11["rss_mb"], r["hwm_mb"] / ISTIO_11["rss_mb"],
                r["idle_vcpu"] / ISTIO_11["vcpu"]))
    print("  targets: 1k/2000 proxies <= 200 MB RSS, <= 0.1 vCPU idle; VS push to 1000 proxies <= 1000 ms;"
          " EP change to 1000 proxies <= 100 ms; 10k mesh <= 1 GB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--idle-seconds", type=float, default=10)
    ap.add_argument("--sync-timeout", type=int, default=600)
    ap.add_argument("--scenario", action="append", help="run only these (names: %s)" % ", ".join(s[0] for s in SCENARIOS))
    ap.add_argument("--quick", action="store_true", help="1k scenarios only, 3 repeats")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (meshes, logs)")
    ap.add_argument("--pilot-arg", action="append", help="one more pilot flag (e.g. --pushThrottle=0)")
    ap.add_argument("--pilot-log", default="warn", help="pilot's --log_output_level (e.g. ads:debug,config:debug)")
    ap.add_argument("--nice", type=int, default=0, help="run pilot and the client at this nice level (e.g. -10)")
    args = ap.parse_args()
    if args.nice:
        NICE[:] = ["nice", "-n", str(args.nice)]
    for path, what in ((BIN, "monomesh"), (CLIENT, "ads_load_client")):
        if not os.access(path, os.X_OK):
            sys.exit("bench: %s not found at %s (bench/run.sh builds it)" % (what, path))
    if shutil.which("taskset") is None:
        sys.exit("bench: taskset is missing")
    raise_nofile()
    chosen = [s for s in SCENARIOS if not args.scenario or s[0] in args.scenario]
    if args.quick:
        chosen = [s for s in chosen if s[1] == 1000]
        args.repeats = min(args.repeats, 3)
    work = tempfile.mkdtemp(prefix="pilot-bench-")
    results = []
    try:
        for s in chosen:
            print("scenario %s ..." % s[0], file=sys.stderr, flush=True)
            results.append(run_scenario(*s, args=args, work=work))
            print("  %s" % json.dumps(results[-1]), file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print("work folder: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
