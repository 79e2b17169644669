"""Envoy's own v3 example bootstraps (../shared/envoy-examples, see its INDEX.md) run by
`monomesh proxy`, checked against the behaviour Envoy documents for each.

Each file is used as written except for a textual rewrite (PyYAML is not assumed): every upstream
`address`/`port_value` pair under `clusters` becomes 127.0.0.1 and the port of a local backend
(nginx or Python), and every listener/admin `port_value` becomes a free port. The rewriter checks
that it changed exactly what each file is known to contain.

Every file is first started exactly as rewritten (test_loads_as_written). If that fails, the
behaviour tests still run against a second copy in which the router filter's typed_config (two
lines) is dropped -- the name-only router form of Envoy's own "Static" overview example -- so that
one loading problem does not hide every other result.

    cd test/integration && MONOMESH_BIN=../../build/cmd/monomesh/monomesh python3 -m unittest -v envoy_examples_test
"""
import os
import re
import shutil
import sys
import time
import unittest

import harness
import proxy_harness as ph


def examples_dir():
    path = os.environ.get("MONOMESH_ENVOY_EXAMPLES") or os.path.join(harness.SOURCE_DIR, "..", "shared", "envoy-examples")
    return os.path.normpath(path)


def setUpModule():
    harness.binary()
    if not os.path.isdir(examples_dir()):
        message = "Envoy examples not found at %s (set MONOMESH_ENVOY_EXAMPLES): skipping" % examples_dir()
        sys.stderr.write("\n*** %s ***\n" % message)
        raise unittest.SkipTest(message)
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        raise unittest.SkipTest("nginx is not installed")


# ---------------------------------------------------------------------------------------------
# The rewriter

_KEY = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>\"[^\"]+\"|[A-Za-z_@][\w@.-]*) *:(?P<rest>.*)$")
_FLOW_ADDRESS = re.compile(r"(\baddress\s*:\s*)([^,}\s]+)")
_FLOW_PORT = re.compile(r"(\bport_value\s*:\s*)(\d+)")
_SECTIONS = ("admin", "listeners", "clusters")


class Rewrite:
    """The outcome of rewrite(): the new text and what was changed where."""

    def __init__(self):
        self.text = ""
        self.cluster_addresses = {}  # cluster name -> [original address, ...]
        self.cluster_ports = {}      # cluster name -> [original port, ...]
        self.listener_ports = []     # (original, new)
        self.admin_ports = []        # (original, new)


def rewrite(text, backend_port_of, free_port=ph.free_port):
    """Rewrites an Envoy YAML bootstrap line by line (block and flow style).

    backend_port_of(cluster_name) gives the loopback port for that cluster's endpoints."""
    out = Rewrite()
    stack = []  # (indent of key, key)
    cluster_item_indent = None
    current_cluster = None
    lines = text.split("\n")
    for n, line in enumerate(lines):
        m = _KEY.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        indent = len(m.group("indent")) + len(m.group("dash") or "")
        key = m.group("key").strip('"')
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parents = [k for _, k in stack]
        stack.append((indent, key))
        section = next((k for k in parents + [key] if k in _SECTIONS), None)
        rest = m.group("rest")

        if section == "clusters":
            if m.group("dash") and parents and parents[-1] == "clusters":
                cluster_item_indent = indent
            if key == "name" and indent == cluster_item_indent:
                current_cluster = rest.strip().strip('"\'')
            in_socket_address = "socket_address" in parents or key == "socket_address"
            if not in_socket_address:
                continue
            if "{" in rest:  # flow style: socket_address: { address: X, port_value: N }
                def addr(mm):
                    out.cluster_addresses.setdefault(current_cluster, []).append(mm.group(2))
                    return mm.group(1) + "127.0.0.1"

                def port(mm):
                    out.cluster_ports.setdefault(current_cluster, []).append(int(mm.group(2)))
                    return mm.group(1) + str(backend_port_of(current_cluster))
                rest = _FLOW_PORT.sub(port, _FLOW_ADDRESS.sub(addr, rest))
                lines[n] = line[:m.start("rest")] + rest
            elif key == "address" and rest.strip():
                out.cluster_addresses.setdefault(current_cluster, []).append(rest.strip())
                lines[n] = line[:m.start("rest")] + " 127.0.0.1"
            elif key == "port_value":
                out.cluster_ports.setdefault(current_cluster, []).append(int(rest.strip()))
                lines[n] = line[:m.start("rest")] + " %d" % backend_port_of(current_cluster)
        elif section in ("listeners", "admin"):
            def new_port(original, section=section):
                p = free_port()
                (out.listener_ports if section == "listeners" else out.admin_ports).append((original, p))
                return p
            if "{" in rest:
                rest = _FLOW_PORT.sub(lambda mm: mm.group(1) + str(new_port(int(mm.group(2)))), rest)
                lines[n] = line[:m.start("rest")] + rest
            elif key == "port_value":
                lines[n] = line[:m.start("rest")] + " %d" % new_port(int(rest.strip()))
    out.text = "\n".join(lines)
    return out


ROUTER_TYPED_CONFIG = re.compile(
    r"(- name: envoy\.filters\.http\.router)\n *typed_config:\n *\"@type\": "
    r"type\.googleapis\.com/envoy\.extensions\.filters\.http\.router\.v3\.Router\n")


def without_router_typed_config(text):
    """The two lines of the router filter's typed_config removed (Envoy's name-only form)."""
    new, n = ROUTER_TYPED_CONFIG.subn(r"\1\n", text)
    return new, n


# ---------------------------------------------------------------------------------------------


class ExampleMixin:
    """Runs one example file. A test class (ExampleMixin, MonomeshTestCase) names FILE, CLUSTERS
    (each cluster's original address and port), LISTENERS, ADMIN and make_backends()."""

    FILE = None
    CLUSTERS = {}        # cluster name -> (original address, original port)
    LISTENERS = 1
    ADMIN = False

    @classmethod
    def make_backends(cls):
        """{cluster name: started backend}."""
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        path = os.path.join(examples_dir(), cls.FILE)
        if not os.path.isfile(path):
            raise unittest.SkipTest("%s is not in %s" % (cls.FILE, examples_dir()))
        with open(path) as f:
            cls.original = f.read()
        cls.backends = cls.make_backends()
        for b in cls.backends.values():
            cls.addClassCleanup(b.stop)
        cls.rewritten = rewrite(cls.original, lambda name: cls.backends[name].port)
        cls.listener_port = cls.rewritten.listener_ports[0][1] if cls.rewritten.listener_ports else None
        cls.admin_port = cls.rewritten.admin_ports[0][1] if cls.rewritten.admin_ports else None
        cls.verbatim_error = None
        cls.proxy = cls._start(cls.rewritten.text)
        if cls.proxy is None:
            text, n = without_router_typed_config(cls.rewritten.text)
            if n:
                cls.proxy = cls._start(text, record=False)
        if cls.proxy is None:
            raise AssertionError("%s does not start, even with a name-only router:\n%s" % (cls.FILE, cls.verbatim_error))

    @classmethod
    def _start(cls, text, record=True):
        p = ph.Proxy(text, config_name=os.path.basename(cls.FILE),
                     listener_ports=[new for _, new in cls.rewritten.listener_ports], admin_port=cls.admin_port)
        cls.addClassCleanup(p.cleanup)
        try:
            p.start()
        except AssertionError as e:
            if record:
                cls.verbatim_error = str(e)
            return None
        cls.addClassCleanup(p.stop)
        return p

    def test_rewrite_changed_exactly_the_expected_fields(self):
        r = self.rewritten
        expected_addresses = {name: [addr] for name, (addr, _port) in self.CLUSTERS.items()}
        expected_ports = {name: [port] for name, (_addr, port) in self.CLUSTERS.items()}
        self.assertEqual(r.cluster_addresses, expected_addresses)
        self.assertEqual(r.cluster_ports, expected_ports)
        self.assertEqual(len(r.listener_ports), self.LISTENERS)
        self.assertEqual(len(r.admin_ports), 1 if self.ADMIN else 0)
        ours = {self.backends[name].port for name in self.CLUSTERS}
        ours |= {new for _, new in r.listener_ports + r.admin_ports}
        for port in re.findall(r"port_value\s*:\s*(\d+)", r.text):
            self.assertIn(int(port), ours, "port_value %s was not rewritten" % port)
        # Nothing but those fields changed: the same lines, the same keys.
        old_lines, new_lines = self.original.split("\n"), r.text.split("\n")
        self.assertEqual(len(old_lines), len(new_lines))
        changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
        for a, b in changed:
            self.assertRegex(a, r"(address|port_value)", "an unexpected line changed: %r -> %r" % (a, b))

    def test_loads_as_written(self):
        self.assertIsNone(self.verbatim_error, "%s (only addresses and ports rewritten) does not start" % self.FILE)

    def get(self, path, headers=None, **kw):
        return ph.get(self.listener_port, path, headers, **kw)


class RouteMirrorExampleTest(ExampleMixin, harness.MonomeshTestCase):
    FILE = "route-mirror-envoy.yaml"
    CLUSTERS = {"service1": ("service1", 8080), "service1-mirror": ("service1-mirror", 8080),
                "service2": ("service2", 8080), "service2-mirror": ("service2-mirror", 8080)}

    @classmethod
    def make_backends(cls):
        return {name: ph.PyBackend(name).start() for name in cls.CLUSTERS}

    def mirrored(self, cluster, path):
        return [r for r in self.backends[cluster].seen() if r["path"] == path]

    def test_service_1_reaches_service1_and_its_mirror(self):
        r = self.get("/service/1?m=a", {"Host": "example.test"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["backend"], "service1")
        seen = ph.wait_for(lambda: self.mirrored("service1-mirror", "/service/1?m=a"), what="the mirror of /service/1")
        self.assertEqual({k.lower(): v for k, v in seen[0]["headers"]}["host"], "example.test-shadow")
        self.assertEqual(self.mirrored("service2-mirror", "/service/1?m=a"), [])

    def test_service_2_mirror_is_chosen_by_the_x_mirror_cluster_header(self):
        r = self.get("/service/2?m=b", {"Host": "example.test", "x-mirror-cluster": "service2-mirror"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["backend"], "service2")
        ph.wait_for(lambda: self.mirrored("service2-mirror", "/service/2?m=b"),
                    what="the mirror named by x-mirror-cluster (request_mirror_policies.cluster_header)")

    def test_service_2_without_the_header_is_not_mirrored(self):
        r = self.get("/service/2?m=c", {"Host": "example.test"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["backend"], "service2")
        time.sleep(0.5)  # a mirror would arrive within moments; none may arrive at all
        for mirror in ("service1-mirror", "service2-mirror"):
            self.assertEqual(self.mirrored(mirror, "/service/2?m=c"), [])

    def test_other_paths_are_404(self):
        self.assertEqual(self.get("/service/3").status, 404)


class CorsBackendExampleTest(ExampleMixin, harness.MonomeshTestCase):
    FILE = "cors-backend-envoy.yaml"
    CLUSTERS = {"backend_service": ("backend-service", 8080)}
    ADMIN = True

    @classmethod
    def make_backends(cls):
        return {"backend_service": ph.NginxBackend("backend-service").start()}

    def cors_headers(self, r):
        return {k.lower(): v for k, v in r.headers if k.lower().startswith("access-control-")}

    def test_open_allows_any_origin(self):
        # The virtual host's policy matches origins with safe_regex "\*": Envoy's CORS filter
        # treats a matcher that matches "*" as allowing every origin.
        for origin in ("http://anything.example", "https://www.envoyproxy.io"):
            with self.subTest(origin=origin):
                r = self.get("/cors/open", {"Origin": origin})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.text, "backend-service GET /cors/open\n")
                self.assertEqual(r.header("access-control-allow-origin"), origin, r)

    def test_open_preflight(self):
        r = ph.request(self.listener_port, "OPTIONS", "/cors/open",
                       {"Origin": "http://anything.example", "Access-Control-Request-Method": "GET"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("access-control-allow-origin"), "http://anything.example", r)
        self.assertEqual(r.header("access-control-allow-methods"), "GET", r)

    def test_restricted_allows_only_envoyproxy_io_origins(self):
        r = self.get("/cors/restricted", {"Origin": "http://foo.envoyproxy.io"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("access-control-allow-origin"), "http://foo.envoyproxy.io", r)
        r = self.get("/cors/restricted", {"Origin": "http://example.com"})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.cors_headers(r), {})

    def test_disabled_has_no_cors_headers(self):
        for origin in ("http://foo.envoyproxy.io", "http://example.com"):
            with self.subTest(origin=origin):
                r = self.get("/cors/disabled", {"Origin": origin})
                self.assertEqual(r.status, 200)
                self.assertEqual(self.cors_headers(r), {})

    def test_stdout_access_log_and_admin(self):
        self.assertEqual(self.get("/access-log-check").status, 200)
        ph.wait_for(lambda: '"GET /access-log-check HTTP/1.1" 200' in self.proxy.log(), what="the stdout access log line")
        self.assertEqual(self.proxy.admin("/ready").status, 200)
        self.assertIn("http.ingress_http.downstream_rq_2xx", self.proxy.admin("/stats").text)


class FaultInjectionExampleTest(ExampleMixin, harness.MonomeshTestCase):
    FILE = "fault-injection-envoy.yaml"
    CLUSTERS = {"local_service": ("backend", 80)}

    @classmethod
    def make_backends(cls):
        return {"local_service": ph.NginxBackend("backend").start()}

    def test_zero_percent_faults_let_requests_pass(self):
        for i in range(20):
            r = self.get("/fault/%d" % i)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.text, "backend GET /fault/%d\n" % i)
        ph.wait_for(lambda: '"GET /fault/19 HTTP/1.1" 200' in self.proxy.log(), what="the stdout access log line")
        for line in self.proxy.log().splitlines():
            if '"GET /fault/' in line:
                self.assertRegex(line, r'" 200 - ', "a fault flag in: %r" % line)

    def test_the_missing_runtime_disk_layer_is_tolerated(self):
        if os.path.exists("/srv/runtime/current"):
            self.skipTest("/srv/runtime/current exists on this machine")
        self.assertTrue(self.proxy.alive())
        self.assertEqual(self.get("/runtime").status, 200)


class WebSocketRouteExampleTest(ExampleMixin, harness.MonomeshTestCase):
    FILE = "envoy-ws-route.yaml"
    CLUSTERS = {"service_ws": ("service-ws", 80)}

    @classmethod
    def make_backends(cls):
        return {"service_ws": ph.PyBackend("service-ws").start()}

    def test_ws_upgrades_and_echoes(self):
        with ph.RawConnection(self.listener_port) as c:
            c.send("GET /ws HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            status, _reason, headers = c.read_head()
            self.assertEqual(status, 101, headers)
            self.assertIn(("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), [(k.lower(), v) for k, v in headers])
            c.send(b"\x81\x05hello")
            self.assertEqual(c.read_exactly(7), b"\x81\x05hello")

    def test_other_paths_are_not_websocket(self):
        for path in ("/", "/anything"):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.text, "NotWebSocket\n")

    def test_plain_get_on_ws_is_proxied(self):
        r = self.get("/ws/plain")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["backend"], "service-ws")


class FrontProxyServiceExampleTest(ExampleMixin, harness.MonomeshTestCase):
    FILE = "front-proxy-service-envoy.yaml"
    CLUSTERS = {"service1": ("service1", 8080)}
    ADMIN = True

    @classmethod
    def make_backends(cls):
        return {"service1": ph.NginxBackend("service1").start()}

    def test_service_1_is_proxied(self):
        r = self.get("/service/1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.text, "service1 GET /service/1\n")
        self.assertEqual(r.header("server"), "envoy")

    def test_other_paths_are_404(self):
        for path in ("/", "/service/2", "/other"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path).status, 404)

    def test_stats_use_the_stat_prefix(self):
        self.get("/service/1")
        self.assertRegex(self.proxy.admin("/stats").text, r"(?m)^http\.service_envoy_1\.downstream_rq_2xx: [1-9]")


class OverviewStaticExampleTest(ExampleMixin, harness.MonomeshTestCase):
    FILE = "overview-examples-static.yaml"
    CLUSTERS = {"some_service": ("127.0.0.1", 1234)}
    ADMIN = True

    @classmethod
    def make_backends(cls):
        return {"some_service": ph.NginxBackend("some_service").start()}

    def test_everything_is_proxied(self):
        for path in ("/", "/a/b?c=d"):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.text, "some_service GET %s\n" % path)

    def test_admin_on_the_rewritten_port(self):
        self.assertEqual(self.proxy.admin("/ready").status, 200)
        self.assertIn("listener_0::127.0.0.1:%d" % self.listener_port, self.proxy.admin("/listeners").text)


class RewriterTest(unittest.TestCase):
    """The rewriter itself, on small inline documents."""

    def test_block_and_flow_styles(self):
        text = ("admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 9901 }\n"
                "static_resources:\n  listeners:\n  - address:\n      socket_address:\n        address: 0.0.0.0\n"
                "        port_value: 10000\n  clusters:\n  - name: a\n    load_assignment:\n      endpoints:\n"
                "      - lb_endpoints:\n        - endpoint:\n            address:\n              socket_address:\n"
                "                address: svc-a\n                port_value: 80\n"
                "  - name: b\n    load_assignment:\n      endpoints:\n      - lb_endpoints:\n        - endpoint:\n"
                "            address:\n              socket_address: { address: svc-b, port_value: 81 }\n")
        ports = iter([50001, 50002])
        r = rewrite(text, {"a": 40001, "b": 40002}.__getitem__, free_port=lambda: next(ports))
        self.assertEqual(r.cluster_addresses, {"a": ["svc-a"], "b": ["svc-b"]})
        self.assertEqual(r.cluster_ports, {"a": [80], "b": [81]})
        self.assertEqual(r.admin_ports, [(9901, 50001)])
        self.assertEqual(r.listener_ports, [(10000, 50002)])
        self.assertIn("socket_address: { address: 127.0.0.1, port_value: 50001 }", r.text)
        self.assertIn("        address: 0.0.0.0\n        port_value: 50002\n", r.text)
        self.assertIn("                address: 127.0.0.1\n                port_value: 40001\n", r.text)
        self.assertIn("socket_address: { address: 127.0.0.1, port_value: 40002 }", r.text)

    def test_router_typed_config_removal(self):
        text = ('          - name: envoy.filters.http.router\n            typed_config:\n'
                '              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n'
                '  clusters:\n')
        new, n = without_router_typed_config(text)
        self.assertEqual(n, 1)
        self.assertEqual(new, "          - name: envoy.filters.http.router\n  clusters:\n")


if __name__ == "__main__":
    unittest.main()
