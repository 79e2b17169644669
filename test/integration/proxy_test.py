"""`monomesh proxy` as an Envoy-compatible HTTP/1.1 and TCP data plane, driven end to end: real
nginx and Python backends, bootstraps generated as JSON, clients from http.client, raw sockets
and curl. Every wait is bounded; nothing asserts how fast anything is.

    cd test/integration && MONOMESH_BIN=../../build/cmd/monomesh/monomesh python3 -m unittest -v proxy_test
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest
import uuid

import harness
import proxy_harness as ph
from proxy_harness import (FAULT_TYPE, CORS_TYPE, CORS_POLICY_TYPE, cluster, direct, header_value, percent, route,
                           vhost)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TEXT_LOG_FORMAT = "%REQ(X-TEST-ID)% %REQ(:METHOD)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER%\n"
JSON_LOG_FORMAT = {"id": "%REQ(X-TEST-ID)%", "method": "%REQ(:METHOD)%", "code": "%RESPONSE_CODE%",
                   "flags": "%RESPONSE_FLAGS%", "cluster": "%UPSTREAM_CLUSTER%", "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"}


def setUpModule():
    harness.binary()
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        raise unittest.SkipTest("nginx is not installed")


def test_id():
    return uuid.uuid4().hex[:12]


def echo_headers(response):
    """{lower-case name: [values]} of the request a PyBackend echoed."""
    out = {}
    for k, v in response.json()["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def echo_values(response, name):
    """Every value the echoed request had for `name`, comma-separated lists split."""
    values = []
    for v in echo_headers(response).get(name.lower(), []):
        values += [p.strip() for p in v.split(",")]
    return values


def start_class_backend(cls, backend):
    backend.start()
    cls.addClassCleanup(backend.stop)
    return backend


def start_class_proxy(cls, config, **kw):
    proxy = ph.Proxy(config, **kw)
    cls.addClassCleanup(proxy.cleanup)
    proxy.start()
    cls.addClassCleanup(proxy.stop)  # runs first: SIGTERM must give exit 0 within 10 s
    return proxy


class LogMixin:
    """Access log look-ups by the x-test-id header every request of these tests carries."""

    def text_log_line(self, tid):
        line = ph.wait_for_log_line(self.text_log, lambda l: l.startswith(tid + " "), what="access log line for " + tid)
        return line.split(" ")

    def json_log_entry(self, tid):
        def find():
            for line in ph.read_lines(self.json_log):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("id") == tid:
                    return entry
            return None
        return ph.wait_for(find, what="JSON access log entry for " + tid)


# ---------------------------------------------------------------------------------------------


class HttpProxyTest(harness.MonomeshTestCase, LogMixin):
    """One proxy with several listeners, routes and virtual hosts in front of two nginx backends
    (alpha, beta) and a Python echo backend."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="monomesh-proxytest-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.alpha = start_class_backend(cls, ph.NginxBackend("alpha", big_file_bytes=5 * 1024 * 1024))
        cls.beta = start_class_backend(cls, ph.NginxBackend("beta"))
        cls.echo = start_class_backend(cls, ph.PyBackend("echo"))
        cls.text_log = os.path.join(cls.tmp, "access.log")
        cls.json_log = os.path.join(cls.tmp, "access.json")
        logs = [ph.file_access_log(cls.text_log, text_format=TEXT_LOG_FORMAT),
                ph.file_access_log(cls.json_log, json_format=JSON_LOG_FORMAT)]
        cls.main_port, cls.edge_port, cls.abort_port, cls.delay_port, cls.admin_port = (
            ph.free_port() for _ in range(5))
        cls.closed_port = ph.closed_port()

        def hm(headers, body):
            return direct({"prefix": "/hm", "headers": headers}, body + "\n")

        main_routes = [
            direct({"path": "/direct"}, "direct body\n", response_headers_to_add=[header_value("x-direct", "yes")]),
            direct({"path": "/direct-teapot"}, "short and stout\n", status=418),
            {"match": {"prefix": "/redirect/https"}, "redirect": {"https_redirect": True}},
            {"match": {"prefix": "/redirect/path"}, "redirect": {"path_redirect": "/new/path"}},
            {"match": {"prefix": "/redirect/prefix/"}, "redirect": {"prefix_rewrite": "/moved/"}},
            {"match": {"prefix": "/redirect/strip"}, "redirect": {"path_redirect": "/stripped", "strip_query": True}},
            {"match": {"prefix": "/redirect/port"}, "redirect": {"port_redirect": 8443}},
            {"match": {"prefix": "/redirect/found"},
             "redirect": {"host_redirect": "other.example", "response_code": "FOUND"}},
            route("/rewrite/prefix/", "echo", prefix_rewrite="/rewritten/"),
            route({"safe_regex": {"regex": "/regex/([a-z]+)/([0-9]+)"}}, "echo",
                  regex_rewrite={"pattern": {"regex": "^/regex/([a-z]+)/([0-9]+)$"}, "substitution": "/items/\\2/\\1"}),
            route("/hostrewrite", "echo", host_rewrite_literal="rewritten.example"),
            dict(route("/headers-ops", "echo"),
                 request_headers_to_add=[
                     header_value("x-route-add", "route"),
                     header_value("x-level", "route", "OVERWRITE_IF_EXISTS_OR_ADD"),
                     header_value("x-multi", "route", "APPEND_IF_EXISTS_OR_ADD"),
                     header_value("x-absent", "route-default", "ADD_IF_ABSENT"),
                     header_value("x-only-if-exists", "route", "OVERWRITE_IF_EXISTS"),
                 ],
                 request_headers_to_remove=["x-remove-me"],
                 response_headers_to_add=[header_value("x-route-resp", "route")],
                 response_headers_to_remove=["x-backend-name"]),
            hm([{"name": "x-exact", "string_match": {"exact": "yes"}}], "exact"),
            hm([{"name": "x-exact-old", "exact_match": "old"}], "exact-old"),
            hm([{"name": "x-prefix", "string_match": {"prefix": "abc"}}], "prefix"),
            hm([{"name": "x-suffix", "string_match": {"suffix": "xyz"}}], "suffix"),
            hm([{"name": "x-regex", "safe_regex_match": {"regex": "v[0-9]+"}}], "regex"),
            hm([{"name": "x-present", "present_match": True}], "present"),
            hm([{"name": "x-invert-trigger", "present_match": True},
                {"name": "x-inv", "string_match": {"exact": "bad"}, "invert_match": True}], "invert"),
            hm([{"name": "x-range", "range_match": {"start": 10, "end": 20}}], "range"),
            direct({"prefix": "/hm"}, "none\n"),
            direct({"prefix": "/qm", "query_parameters": [{"name": "q", "string_match": {"exact": "v"}}]},
                   "query-exact\n"),
            direct({"prefix": "/qm", "query_parameters": [{"name": "flag", "present_match": True}]},
                   "query-present\n"),
            direct({"prefix": "/qm"}, "none\n"),
            direct({"prefix": "/CaseMatch", "case_sensitive": False}, "case-insensitive\n"),
            direct({"prefix": "/Sensitive"}, "case-sensitive\n"),
            direct({"prefix": "/frac", "runtime_fraction": {"default_value": percent(50), "runtime_key": "t.frac"}},
                   "A\n"),
            direct({"prefix": "/frac"}, "B\n"),
            {"match": {"prefix": "/weighted"},
             "route": {"weighted_clusters": {"clusters": [{"name": "alpha", "weight": 80},
                                                          {"name": "beta", "weight": 20}]}}},
            {"match": {"prefix": "/by-header"}, "route": {"cluster_header": "x-target-cluster"}},
            route("/echo", "echo"),
            route("/ws", "echo", upgrade_configs=[{"upgrade_type": "websocket"}]),
            route("/noupgrade", "echo"),
            route("/closed", "closed"),
            route("/", "alpha"),
        ]
        cors_policy = {"@type": CORS_POLICY_TYPE,
                       "allow_origin_string_match": [{"exact": "https://allowed.example"}],
                       "allow_methods": "GET, PUT", "allow_headers": "x-custom", "max_age": "600",
                       "expose_headers": "x-backend-name"}
        main_rc = {
            "name": "main_routes",
            "virtual_hosts": [
                vhost("exact", ["exact.test"], [direct("/", "vh-exact\n")]),
                vhost("suffix", ["*.wild.test"], [direct("/", "vh-suffix\n")]),
                vhost("deep-suffix", ["*.deep.wild.test"], [direct("/", "vh-deep-suffix\n")]),
                vhost("prefix", ["prefix.*"], [direct("/", "vh-prefix\n")]),
                vhost("only", ["nr.test"], [direct({"path": "/only"}, "only\n")]),
                vhost("cors", ["cors.test"], [route("/", "echo")],
                      typed_per_filter_config={"envoy.filters.http.cors": cors_policy}),
                vhost("main", ["*"], main_routes,
                      request_headers_to_add=[header_value("x-vh-add", "vhost"),
                                              header_value("x-level", "vhost", "OVERWRITE_IF_EXISTS_OR_ADD"),
                                              header_value("x-multi", "vhost", "APPEND_IF_EXISTS_OR_ADD")],
                      response_headers_to_add=[header_value("x-vh-resp", "vhost")]),
            ],
            "request_headers_to_add": [header_value("x-rc-add", "routeconfig"),
                                       header_value("x-level", "routeconfig", "OVERWRITE_IF_EXISTS_OR_ADD"),
                                       header_value("x-multi", "routeconfig", "APPEND_IF_EXISTS_OR_ADD")],
            "response_headers_to_add": [header_value("x-rc-resp", "routeconfig")],
        }
        echo_rc = {"virtual_hosts": [vhost("all", ["*"], [route("/", "echo")])]}
        fault_abort = {"name": "envoy.filters.http.fault", "typed_config": {
            "@type": FAULT_TYPE, "abort": {"http_status": 503, "percentage": percent(100)}}}
        fault_delay = {"name": "envoy.filters.http.fault", "typed_config": {
            "@type": FAULT_TYPE, "delay": {"fixed_delay": "0.3s", "percentage": percent(100)}}}
        delay_rc = {"virtual_hosts": [vhost("all", ["*"], [
            dict(route("/override", "echo"),
                 typed_per_filter_config={"envoy.filters.http.fault": {"@type": FAULT_TYPE}}),
            dict(route("/route-abort", "echo"),
                 typed_per_filter_config={"envoy.filters.http.fault": {
                     "@type": FAULT_TYPE, "abort": {"http_status": 429, "percentage": percent(100)}}}),
            route("/", "echo"),
        ])]}
        cors_filter = {"name": "envoy.filters.http.cors", "typed_config": {"@type": CORS_TYPE}}
        cls.config = ph.bootstrap(
            listeners=[
                ph.http_listener("main", cls.main_port, main_rc, stat_prefix="ingress_main",
                                 http_filters=[cors_filter], access_log=logs),
                ph.http_listener("edge", cls.edge_port, echo_rc, stat_prefix="ingress_edge",
                                 use_remote_address=True, access_log=logs),
                ph.http_listener("fault_abort", cls.abort_port, echo_rc, stat_prefix="fault_abort",
                                 http_filters=[fault_abort], access_log=logs),
                ph.http_listener("fault_delay", cls.delay_port, delay_rc, stat_prefix="fault_delay",
                                 http_filters=[fault_delay], access_log=logs),
            ],
            clusters=[cluster("alpha", [cls.alpha.port]), cluster("beta", [cls.beta.port]),
                      cluster("echo", [cls.echo.port]), cluster("closed", [cls.closed_port])],
            admin_port=cls.admin_port)
        cls.proxy = start_class_proxy(cls, cls.config)

    def get(self, path, headers=None, port=None, tid=None, **kw):
        h = dict(headers or {})
        if tid:
            h["x-test-id"] = tid
        return ph.get(port or self.main_port, path, h, **kw)

    def req(self, method, path, headers=None, body=None, port=None):
        return ph.request(port or self.main_port, method, path, headers, body)

    def assertProxyAlive(self):
        self.assertTrue(self.proxy.alive(), "the proxy died:\n%s" % self.proxy.log())

    # --- basic proxying -------------------------------------------------------------------

    def test_get_from_nginx_with_envoy_headers(self):
        r = self.get("/hello?x=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.text, "alpha GET /hello?x=1\n")
        self.assertEqual(r.header("server"), "envoy")
        self.assertRegex(r.header("x-envoy-upstream-service-time") or "", r"^\d+$", r)
        self.assertEqual(r.header("x-backend-name"), "alpha")

    def test_request_headers_as_nginx_sees_them(self):
        r = self.get("/headers", {"x-foo": "bar baz", "User-Agent": "proxy-test/1"})
        self.assertEqual(r.status, 200, r)
        seen = dict(line.split("=", 1) for line in r.text.splitlines())
        self.assertEqual(seen["x-foo"], "bar baz")
        self.assertEqual(seen["user-agent"], "proxy-test/1")
        self.assertEqual(seen["x-forwarded-proto"], "http")
        self.assertRegex(seen["x-request-id"], UUID4)
        self.assertEqual(seen["x-envoy-original-path"], "")

    def test_upstream_error_statuses_are_relayed(self):
        before = self.proxy.stat("cluster.alpha.upstream_rq_5xx")
        for code in (404, 500, 503):
            with self.subTest(code=code):
                r = self.get("/status/%d" % code)
                self.assertEqual(r.status, code)
                self.assertEqual(r.text, "alpha status %d\n" % code, "the upstream's own body, not a local reply")
                self.assertIsNotNone(r.header("x-envoy-upstream-service-time"))
        self.assertGreaterEqual(self.proxy.stat("cluster.alpha.upstream_rq_5xx") - before, 2)

    def test_get_and_post_keep_alive_on_one_connection(self):
        before = self.proxy.stat("http.ingress_main.downstream_cx_total")
        with ph.Client(self.main_port) as c:
            socks = set()
            for i in range(3):
                r = c.get("/echo?n=%d" % i)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["path"], "/echo?n=%d" % i)
                socks.add(id(c.sock))
            for i in range(2):
                body = ("post body %d " % i).encode() * 100
                r = c.request("POST", "/echo", {"Content-Type": "application/octet-stream"}, body)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["method"], "POST")
                self.assertEqual(r.json()["body_length"], len(body))
                self.assertEqual(r.json()["body_sha256"], hashlib.sha256(body).hexdigest())
                socks.add(id(c.sock))
            r = c.get("/hello")
            self.assertEqual(r.text, "alpha GET /hello\n")
            socks.add(id(c.sock))
            self.assertEqual(len(socks), 1, "the client had to reconnect: keep-alive was not kept")
        after = self.proxy.stat("http.ingress_main.downstream_cx_total")
        self.assertEqual(after - before, 1, "six requests should use one downstream connection")

    def test_pipelined_requests_are_answered_in_order(self):
        with ph.RawConnection(self.main_port) as c:
            c.send("GET /echo?p=1 HTTP/1.1\r\nHost: pipe.test\r\n\r\n"
                   "GET /echo?p=2 HTTP/1.1\r\nHost: pipe.test\r\n\r\n"
                   "GET /pipelined-third HTTP/1.1\r\nHost: pipe.test\r\n\r\n")
            first, second, third = c.read_response(), c.read_response(), c.read_response()
        self.assertEqual((first.status, second.status, third.status), (200, 200, 200))
        self.assertEqual(first.json()["path"], "/echo?p=1")
        self.assertEqual(second.json()["path"], "/echo?p=2")
        self.assertEqual(third.text, "alpha GET /pipelined-third\n")

    def test_chunked_upload_is_streamed_to_the_backend(self):
        chunks = [os.urandom(100 * 1024) for _ in range(3)] + [b"tail"]
        body = b"".join(chunks)
        with ph.RawConnection(self.main_port) as c:
            try:
                c.send("POST /echo?chunked-upload HTTP/1.1\r\nHost: up.test\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Type: application/octet-stream\r\n\r\n")
                for chunk in chunks:
                    c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                c.send(b"0\r\n\r\n")
                r = c.read_response()
            except (OSError, EOFError) as e:
                self.fail("the chunked upload failed on the client side: %r" % e)
        self.assertEqual(r.status, 200, r)
        echoed = r.json()
        self.assertEqual(echoed["body_length"], len(body), echoed)
        self.assertEqual(echoed["body_sha256"], hashlib.sha256(body).hexdigest())

    def test_chunked_upload_with_curl_to_nginx(self):
        body = os.urandom(1024 * 1024)
        r = ph.curl("-T", "-", "-H", "Transfer-Encoding: chunked", "-w", "%{http_code}",
                    "http://127.0.0.1:%d/store/curl-chunked.bin" % self.main_port, input=body)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(r.stdout.decode()[-3:], ("201", "204"), r.stdout[-300:])
        stored = self.alpha.stored("/store/curl-chunked.bin")
        self.assertIsNotNone(stored, "nginx stored nothing")
        self.assertEqual(len(stored), len(body))
        self.assertEqual(hashlib.sha256(stored).hexdigest(), hashlib.sha256(body).hexdigest())

    def test_chunked_request_body_is_never_a_second_request(self):
        # The body of a chunked request must reach the backend as that request's body; if the
        # framing is lost, bytes in it are parsed by the backend as a request of their own.
        smuggled = "/smuggled-%s" % test_id()
        body = ("GET %s HTTP/1.1\r\nHost: smuggle.test\r\n\r\n" % smuggled).encode()
        with ph.RawConnection(self.main_port) as c:
            c.send(b"POST /echo?smuggle HTTP/1.1\r\nHost: up.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            r = c.read_response()
        self.assertEqual(r.status, 200, r)
        time.sleep(0.5)  # give a smuggled request time to show up (its absence is what is checked)
        self.assertEqual([s["path"] for s in self.echo.seen() if s["path"] == smuggled], [],
                         "the chunked body was sent to the backend as a separate request")
        self.assertEqual(r.json()["body_length"], len(body))

    def test_response_is_forwarded_before_the_backend_finishes(self):
        # The backend sends its headers and 100 of 20000 bytes, then waits for this test: the
        # client must see those first (a proxy streams; it does not wait for the rest).
        gate = test_id()
        self.addCleanup(lambda: self.echo.gate(gate).set())
        with ph.RawConnection(self.main_port, timeout=5) as c:
            c.send("GET /echo?stall=100&size=20000&gate=%s HTTP/1.1\r\nHost: stream.test\r\n\r\n" % gate)
            try:
                status, _reason, headers = c.read_head()
                first = c.read_exactly(100)
            except socket.timeout:
                self.fail("within 5 s, the client got %d bytes (not even the response headers) while the "
                          "backend had sent its headers and 100 body bytes" % len(c.buffer))
            self.assertEqual(status, 200)
            self.assertEqual(first, b"a" * 100)
            self.echo.gate(gate).set()
            self.assertEqual(c.read_exactly(19900), b"b" * 19900)

    def test_large_content_length_upload_is_streamed(self):
        body = os.urandom(1024 * 1024)
        r = self.req("POST", "/echo?big", {"Content-Type": "application/octet-stream"}, body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["body_length"], len(body))
        self.assertEqual(r.json()["body_sha256"], hashlib.sha256(body).hexdigest())

    def test_5mb_response_is_streamed_whole(self):
        r = self.get("/big.bin")
        self.assertEqual(r.status, 200)
        self.assertEqual(int(r.header("content-length")), 5 * 1024 * 1024)
        self.assertEqual(len(r.body), 5 * 1024 * 1024)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), self.alpha.big_sha256)

    def test_chunked_response_is_relayed(self):
        r = self.get("/echo?size=50000&chunked_response=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"x" * 50000)

    def test_expect_100_continue(self):
        d = harness.TempDir(self)
        path = d.write("body.bin", b"e" * 2000)
        r = ph.curl("-v", "-H", "Expect: 100-continue", "-H", "Content-Type: application/octet-stream",
                    "--data-binary", "@" + path, "http://127.0.0.1:%d/echo?expect" % self.main_port)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"HTTP/1.1 100 Continue", r.stderr, "no interim 100 Continue:\n%s" % r.stderr.decode())
        echoed = json.loads(r.stdout)
        self.assertEqual(echoed["body_length"], 2000)
        self.assertNotIn("expect", [k.lower() for k, _ in echoed["headers"]])

    def test_head(self):
        with ph.Client(self.main_port) as c:
            self.assertEqual(c.get("/head-check").text, "alpha GET /head-check\n")
            head = c.request("HEAD", "/head-check")
            self.assertEqual(head.status, 200)
            self.assertEqual(head.body, b"")
            # nginx would send "alpha HEAD /head-check\n": the length of the body not sent.
            self.assertEqual(head.header("content-length"), str(len("alpha HEAD /head-check\n")))
            again = c.get("/after-head")  # the connection is still in sync after a bodiless HEAD
            self.assertEqual(again.text, "alpha GET /after-head\n")
            head_echo = c.request("HEAD", "/echo?head")
            self.assertEqual(head_echo.status, 200)
            self.assertEqual(head_echo.body, b"")
            self.assertEqual(c.get("/after-head-2").text, "alpha GET /after-head-2\n")

    # --- local replies --------------------------------------------------------------------

    def test_no_route_is_404_with_flag_NR(self):
        tid = test_id()
        r = self.get("/nothing-here", {"Host": "nr.test"}, tid=tid)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.header("server"), "envoy")
        self.assertEqual(self.text_log_line(tid), [tid, "GET", "404", "NR", "-"])
        self.assertEqual(self.get("/only", {"Host": "nr.test"}).text, "only\n")

    def test_direct_response(self):
        r = self.get("/direct")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.text, "direct body\n")
        self.assertEqual(r.header("x-direct"), "yes")
        self.assertIsNone(r.header("x-envoy-upstream-service-time"))
        self.assertEqual(r.header("server"), "envoy")
        r = self.get("/direct-teapot")
        self.assertEqual(r.status, 418)
        self.assertEqual(r.text, "short and stout\n")

    def assertRedirect(self, path, host, code, location):
        r = self.get(path, {"Host": host})
        self.assertEqual(r.status, code, r)
        self.assertEqual(r.header("location"), location, r)

    def test_redirects(self):
        self.assertRedirect("/redirect/https/a?x=1", "redir.test", 301, "https://redir.test/redirect/https/a?x=1")
        self.assertRedirect("/redirect/https/b", "redir.test:80", 301, "https://redir.test/redirect/https/b")
        self.assertRedirect("/redirect/path?q=1", "redir.test", 301, "http://redir.test/new/path?q=1")
        self.assertRedirect("/redirect/prefix/x/y", "redir.test", 301, "http://redir.test/moved/x/y")
        self.assertRedirect("/redirect/strip?a=b&c=d", "redir.test", 301, "http://redir.test/stripped")
        self.assertRedirect("/redirect/port/z", "redir.test:8080", 301, "http://redir.test:8443/redirect/port/z")
        self.assertRedirect("/redirect/found", "redir.test", 302, "http://other.example/redirect/found")

    def test_https_redirect_keeps_a_non_default_port(self):
        # Envoy strips the request's port on a scheme change only when it is the old scheme's
        # default (:80 for http); redir.test:8080 keeps its port.
        self.assertRedirect("/redirect/https/c", "redir.test:8080", 301, "https://redir.test:8080/redirect/https/c")

    # --- rewrites and header manipulation --------------------------------------------------

    def test_prefix_rewrite_reaches_the_backend(self):
        r = self.get("/rewrite/prefix/abc?q=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/rewritten/abc?q=1")
        self.assertEqual(echo_headers(r)["x-envoy-original-path"], ["/rewrite/prefix/abc?q=1"])

    def test_regex_rewrite_reaches_the_backend(self):
        r = self.get("/regex/abc/42")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/items/42/abc")
        self.assertEqual(echo_headers(r)["x-envoy-original-path"], ["/regex/abc/42"])

    def test_host_rewrite_literal(self):
        r = self.get("/hostrewrite", {"Host": "original.example"})
        self.assertEqual(echo_headers(r)["host"], ["rewritten.example"])

    def test_request_header_operations_at_every_level(self):
        r = self.get("/headers-ops", {"x-remove-me": "1", "x-absent": "client", "x-multi": "client",
                                      "x-only-if-exists-other": "1"})
        h = echo_headers(r)
        self.assertNotIn("x-remove-me", h)
        self.assertEqual(h["x-route-add"], ["route"])
        self.assertEqual(h["x-vh-add"], ["vhost"])
        self.assertEqual(h["x-rc-add"], ["routeconfig"])
        self.assertEqual(h["x-absent"], ["client"], "ADD_IF_ABSENT must keep the client's value")
        # Route, then virtual host, then route configuration: the least specific overwrite wins.
        self.assertEqual(h["x-level"], ["routeconfig"])
        self.assertEqual(sorted(echo_values(r, "x-multi")), ["client", "route", "routeconfig", "vhost"])
        self.assertNotIn("x-only-if-exists", h, "OVERWRITE_IF_EXISTS must not add an absent header")
        r = self.get("/headers-ops", {"x-only-if-exists": "client"})
        h = echo_headers(r)
        self.assertEqual(h["x-only-if-exists"], ["route"])
        self.assertEqual(h["x-absent"], ["route-default"])

    def test_response_header_operations_at_every_level(self):
        r = self.get("/headers-ops")
        self.assertEqual(r.header("x-route-resp"), "route")
        self.assertEqual(r.header("x-vh-resp"), "vhost")
        self.assertEqual(r.header("x-rc-resp"), "routeconfig")
        self.assertIsNone(r.header("x-backend-name"), "response_headers_to_remove must drop it")
        self.assertEqual(self.get("/echo").header("x-backend-name"), "echo")

    # --- matching ----------------------------------------------------------------------------

    def test_virtual_host_domain_matching(self):
        cases = [("exact.test", "vh-exact\n"), ("EXACT.test", "vh-exact\n"), ("a.wild.test", "vh-suffix\n"),
                 ("x.deep.wild.test", "vh-deep-suffix\n"), ("a.b.wild.test", "vh-suffix\n"),
                 ("wild.test", "alpha GET /vh\n"), ("prefix.anything", "vh-prefix\n"),
                 ("other.test", "alpha GET /vh\n")]
        for host, body in cases:
            with self.subTest(host=host):
                self.assertEqual(self.get("/vh", {"Host": host}).text, body)

    def test_header_matchers(self):
        cases = [({"x-exact": "yes"}, "exact"), ({"x-exact": "YES"}, "none"), ({"x-exact": "no"}, "none"),
                 ({"x-exact-old": "old"}, "exact-old"),
                 ({"x-prefix": "abcdef"}, "prefix"), ({"x-prefix": "xabc"}, "none"),
                 ({"x-suffix": "123xyz"}, "suffix"), ({"x-suffix": "xyz1"}, "none"),
                 ({"x-regex": "v12"}, "regex"), ({"x-regex": "v12a"}, "none"),
                 ({"x-present": "anything"}, "present"),
                 ({"x-invert-trigger": "1", "x-inv": "good"}, "invert"),
                 # Envoy: a value matcher never matches a missing header, inverted or not.
                 ({"x-invert-trigger": "1"}, "none"),
                 ({"x-invert-trigger": "1", "x-inv": "bad"}, "none"),
                 ({"x-range": "15"}, "range"), ({"x-range": "10"}, "range"), ({"x-range": "20"}, "none"),
                 ({"x-range": "abc"}, "none"), ({}, "none")]
        for headers, expected in cases:
            with self.subTest(headers=headers):
                self.assertEqual(self.get("/hm", headers).text, expected + "\n")

    def test_query_parameter_matchers(self):
        cases = [("/qm?q=v", "query-exact"), ("/qm?a=1&q=v", "query-exact"), ("/qm?q=w", "none"),
                 ("/qm?flag", "query-present"), ("/qm?flag=1&x=2", "query-present"), ("/qm", "none"),
                 ("/qm?flagged=1", "none")]
        for path, expected in cases:
            with self.subTest(path=path):
                self.assertEqual(self.get(path).text, expected + "\n")

    def test_case_sensitivity(self):
        for path in ("/CaseMatch", "/casematch/x", "/CASEMATCH"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path).text, "case-insensitive\n")
        self.assertEqual(self.get("/Sensitive").text, "case-sensitive\n")
        self.assertEqual(self.get("/sensitive").text, "alpha GET /sensitive\n")

    def test_runtime_fraction_splits_about_half(self):
        counts = {"A\n": 0, "B\n": 0}
        with ph.Client(self.main_port) as c:
            for _ in range(400):
                counts[c.get("/frac").text] += 1
        self.assertTrue(120 <= counts["A\n"] <= 280, "50%% runtime_fraction gave %r of 400" % counts)

    def test_weighted_clusters_split_80_20(self):
        counts = {"alpha": 0, "beta": 0}
        with ph.Client(self.main_port) as c:
            for _ in range(500):
                counts[c.get("/weighted").text.split(" ")[0]] += 1
        share = counts["alpha"] / 500.0
        self.assertTrue(0.65 <= share <= 0.92, "80/20 weighted clusters gave %r" % counts)
        self.assertGreater(counts["beta"], 0)

    def test_cluster_header(self):
        self.assertEqual(self.get("/by-header", {"x-target-cluster": "beta"}).text, "beta GET /by-header\n")
        self.assertEqual(self.get("/by-header", {"x-target-cluster": "alpha"}).text, "alpha GET /by-header\n")
        self.assertIn(self.get("/by-header", {"x-target-cluster": "nope"}).status, (404, 503))
        self.assertIn(self.get("/by-header").status, (404, 503))

    # --- upstream failures -----------------------------------------------------------------

    def test_connect_failure_is_503_with_flag_UF(self):
        tid = test_id()
        r = self.get("/closed", tid=tid)
        self.assertEqual(r.status, 503, r)
        line = self.text_log_line(tid)
        self.assertEqual(line[:3], [tid, "GET", "503"])
        self.assertIn("UF", line[3].split(","))
        self.assertEqual(line[4], "closed")

    def test_backend_reset_mid_response_does_not_hurt_the_proxy(self):
        for _ in range(3):
            try:
                r = self.get("/echo?reset=1", timeout=10)
                self.assertNotEqual(r.status, 200, "a reset body must not be passed off as whole: %r" % r)
            except (http.client.HTTPException, OSError):
                pass  # a truncated body or a closed connection is what the client should see
            self.assertProxyAlive()
            self.assertEqual(self.get("/echo?after-reset").status, 200)

    # --- upgrades ----------------------------------------------------------------------------

    def test_websocket_upgrade_tunnels_bytes(self):
        with ph.RawConnection(self.main_port) as c:
            c.send("GET /ws HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            status, _reason, headers = c.read_head()
            self.assertEqual(status, 101, headers)
            hdrs = {k.lower(): v for k, v in headers}
            self.assertEqual(hdrs.get("upgrade", "").lower(), "websocket")
            self.assertEqual(hdrs.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            for payload in (b"hello websocket", b"\x00\x01binary\xff" * 100):
                c.send(payload)
                self.assertEqual(c.read_exactly(len(payload)), payload)
        seen = [r for r in self.echo.seen() if r["path"] == "/ws"][-1]
        seen_headers = {k.lower(): v for k, v in seen["headers"]}
        self.assertEqual(seen_headers.get("upgrade", "").lower(), "websocket")
        self.assertIn("upgrade", seen_headers.get("connection", "").lower())

    def test_upgrade_without_upgrade_configs_is_403(self):
        with ph.RawConnection(self.main_port) as c:
            c.send("GET /noupgrade HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 403, r)

    # --- headers the proxy owns ----------------------------------------------------------------

    def test_request_id_generated_when_absent_and_kept_when_present(self):
        generated = echo_headers(self.get("/echo?rid"))["x-request-id"]
        self.assertEqual(len(generated), 1)
        self.assertRegex(generated[0], UUID4)
        self.assertEqual(echo_headers(self.get("/echo?rid", {"x-request-id": "my-id-123"}))["x-request-id"],
                         ["my-id-123"])

    def test_forwarded_proto_and_no_xff_append_without_use_remote_address(self):
        h = echo_headers(self.get("/echo?xfp", {"x-forwarded-for": "203.0.113.7"}))
        self.assertEqual(h["x-forwarded-proto"], ["http"])
        self.assertEqual(h["x-forwarded-for"], ["203.0.113.7"])

    def test_use_remote_address_appends_xff(self):
        r = self.get("/xff", {"x-forwarded-for": "203.0.113.7"}, port=self.edge_port)
        self.assertEqual(echo_values(r, "x-forwarded-for"), ["203.0.113.7", "127.0.0.1"])
        self.assertEqual(echo_headers(r)["x-forwarded-proto"], ["http"])
        r = self.get("/xff", port=self.edge_port)
        self.assertEqual(echo_values(r, "x-forwarded-for"), ["127.0.0.1"])

    # --- protocol errors ---------------------------------------------------------------------

    def test_oversize_request_headers_are_431(self):
        with ph.RawConnection(self.main_port) as c:
            try:
                c.send("GET /echo HTTP/1.1\r\nHost: big.test\r\nX-Big: %s\r\n\r\n" % ("a" * 70 * 1024))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the proxy may stop reading once the limit is passed; its answer is still due
            try:
                r = c.read_response()
            except (ConnectionResetError, EOFError) as e:
                self.fail("no 431 response before the connection ended: %r" % e)
        self.assertEqual(r.status, 431, r)
        self.assertProxyAlive()

    def test_malformed_request_line_is_400_and_closes(self):
        with ph.RawConnection(self.main_port) as c:
            c.send("THIS IS NOT HTTP\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 400, r)
            self.assertTrue(c.is_closed_by_peer(), "the connection stayed open after a 400")
        self.assertProxyAlive()

    # --- access logs -----------------------------------------------------------------------------

    def test_text_access_log(self):
        tid = test_id()
        self.assertEqual(self.get("/echo?log", tid=tid).status, 200)
        self.assertEqual(self.text_log_line(tid), [tid, "GET", "200", "-", "echo"])
        tid = test_id()
        self.req("POST", "/hello", {"x-test-id": tid}, b"x")
        self.assertEqual(self.text_log_line(tid), [tid, "POST", "200", "-", "alpha"])

    def test_json_access_log(self):
        tid = test_id()
        self.assertEqual(self.get("/rewrite/prefix/json", tid=tid).status, 200)
        entry = self.json_log_entry(tid)
        self.assertEqual(entry["method"], "GET")
        self.assertEqual(str(entry["code"]), "200")
        self.assertEqual(entry["flags"], "-")
        self.assertEqual(entry["cluster"], "echo")
        self.assertEqual(entry["path"], "/rewrite/prefix/json")

    def test_json_access_log_renders_numbers_as_numbers(self):
        # Envoy: json_format "values are rendered as strings, numbers, or boolean values as
        # appropriate" -- "%RESPONSE_CODE%" is the number 200, not the string "200".
        tid = test_id()
        self.get("/echo?json-types", tid=tid)
        entry = self.json_log_entry(tid)
        self.assertEqual(entry["code"], 200, "RESPONSE_CODE rendered as %r" % (entry["code"],))

    # --- filters ---------------------------------------------------------------------------------

    def test_cors_preflight(self):
        before = self.echo.count
        r = self.req("OPTIONS", "/anything", {"Host": "cors.test", "Origin": "https://allowed.example",
                                                "Access-Control-Request-Method": "PUT"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("access-control-allow-origin"), "https://allowed.example")
        self.assertEqual(r.header("access-control-allow-methods"), "GET, PUT")
        self.assertEqual(r.header("access-control-allow-headers"), "x-custom")
        self.assertEqual(r.header("access-control-max-age"), "600")
        self.assertEqual(self.echo.count, before, "a preflight is answered by the proxy, not the backend")

    def test_cors_simple_request(self):
        r = self.get("/simple", {"Host": "cors.test", "Origin": "https://allowed.example"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("access-control-allow-origin"), "https://allowed.example")
        self.assertEqual(r.header("access-control-expose-headers"), "x-backend-name")

    def test_cors_non_matching_origin_gets_no_cors_headers(self):
        for method, extra in (("GET", {}), ("OPTIONS", {"Access-Control-Request-Method": "PUT"})):
            with self.subTest(method=method):
                r = self.req(method, "/x", dict({"Host": "cors.test", "Origin": "https://evil.example"}, **extra))
                self.assertEqual(r.status, 200)
                self.assertEqual([k for k, _ in r.headers if k.lower().startswith("access-control-")], [])

    def test_fault_abort(self):
        before = self.echo.count
        tid = test_id()
        r = self.get("/abort-me", port=self.abort_port, tid=tid)
        self.assertEqual(r.status, 503, r)
        self.assertEqual(self.text_log_line(tid), [tid, "GET", "503", "FI", "-"])
        self.assertEqual(self.echo.count, before)

    def test_fault_delay(self):
        tid = test_id()
        started = time.monotonic()
        r = self.get("/delay-me", port=self.delay_port, tid=tid)
        elapsed = time.monotonic() - started
        self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(elapsed, 0.25, "a 300 ms fault delay took %.3f s" % elapsed)
        line = self.text_log_line(tid)
        self.assertEqual(line[:3], [tid, "GET", "200"])
        self.assertIn("DI", line[3].split(","))

    def test_fault_per_route_typed_per_filter_config(self):
        tid = test_id()
        r = self.get("/route-abort", port=self.delay_port, tid=tid)
        self.assertEqual(r.status, 429, r)
        self.assertEqual(self.text_log_line(tid)[:4], [tid, "GET", "429", "FI"])
        tid = test_id()
        r = self.get("/override", port=self.delay_port, tid=tid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.text_log_line(tid), [tid, "GET", "200", "-", "echo"])


# ---------------------------------------------------------------------------------------------


class ResilienceTest(harness.MonomeshTestCase, LogMixin):
    """Retries, timeouts, outlier detection, circuit breakers and mirroring, each on its own
    cluster of Python backends (so counters start at zero)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="monomesh-resilience-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        b = {}
        for name, kw in [("flaky", {"fail_first": 2}), ("broken", {"status": 503}), ("slow", {}),
                         ("good", {}), ("bad1", {"status": 503}), ("bad2", {"status": 503}), ("good3", {}),
                         ("outlier_bad", {"status": 503}), ("outlier_good", {}), ("breaker", {"delay_ms": 800}),
                         ("primary", {}), ("shadow", {})]:
            b[name] = start_class_backend(cls, ph.PyBackend(name, **kw))
        cls.b = b
        cls.text_log = os.path.join(cls.tmp, "access.log")
        cls.port, cls.admin_port = ph.free_port(), ph.free_port()
        cls.closed = ph.closed_port()
        prev_hosts = {"retry_on": "5xx", "num_retries": 2,
                      "retry_host_predicate": [{"name": "envoy.retry_host_predicates.previous_hosts"}],
                      "host_selection_retry_max_attempts": 5}
        routes = [
            route("/retry-ok", "flaky", retry_policy={"retry_on": "5xx", "num_retries": 2}),
            route("/retry-exhausted", "broken", retry_policy={"retry_on": "5xx", "num_retries": 2}),
            route("/per-try-timeout", "slow", timeout="5s",
                  retry_policy={"retry_on": "5xx", "num_retries": 1, "per_try_timeout": "0.2s"}),
            route("/route-timeout", "slow", timeout="0.3s"),
            route("/connect-retry", "half_closed", retry_policy={"retry_on": "connect-failure", "num_retries": 2}),
            route("/prev-hosts", "trio", retry_policy=prev_hosts),
            route("/outlier", "outlier"),
            route("/breaker", "breaker"),
            route("/mirror", "primary", request_mirror_policies=[{"cluster": "shadow"}]),
        ]
        rc = {"virtual_hosts": [vhost("all", ["*"], routes)]}
        clusters = [
            cluster("flaky", [b["flaky"].port]), cluster("broken", [b["broken"].port]),
            cluster("slow", [b["slow"].port]),
            cluster("half_closed", [cls.closed, b["good"].port]),
            cluster("trio", [b["bad1"].port, b["bad2"].port, b["good3"].port], lb_policy="RANDOM"),
            cluster("outlier", [b["outlier_bad"].port, b["outlier_good"].port],
                    outlier_detection={"consecutive_5xx": 3, "interval": "1s", "base_ejection_time": "30s",
                                       "max_ejection_percent": 50}),
            cluster("breaker", [b["breaker"].port],
                    circuit_breakers={"thresholds": [{"max_requests": 1}]}),
            cluster("primary", [b["primary"].port]), cluster("shadow", [b["shadow"].port]),
        ]
        cls.proxy = start_class_proxy(cls, ph.bootstrap(
            [ph.http_listener("res", cls.port, rc, stat_prefix="res",
                              access_log=[ph.file_access_log(cls.text_log, text_format=TEXT_LOG_FORMAT)])],
            clusters, admin_port=cls.admin_port))

    def get(self, path, headers=None, tid=None, **kw):
        h = dict(headers or {})
        if tid:
            h["x-test-id"] = tid
        return ph.get(self.port, path, h, **kw)

    def test_retry_on_5xx_succeeds_after_two_failures(self):
        r = self.get("/retry-ok")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.b["flaky"].count, 3)
        self.assertGreaterEqual(self.proxy.stat("cluster.flaky.upstream_rq_retry"), 2)

    def test_retries_exhausted_is_503(self):
        r = self.get("/retry-exhausted")
        self.assertEqual(r.status, 503, r)
        self.assertEqual(self.b["broken"].count, 3, "one try and two retries")
        self.assertGreaterEqual(self.proxy.stat("cluster.broken.upstream_rq_retry"), 2)

    def test_per_try_timeout_is_504_UT(self):
        tid = test_id()
        r = self.get("/per-try-timeout?sleep_ms=1500", tid=tid)
        self.assertEqual(r.status, 504, r)
        self.assertIn("UT", self.text_log_line(tid)[3].split(","))
        self.assertGreaterEqual(self.proxy.stat("cluster.slow.upstream_rq_per_try_timeout"), 1)

    def test_route_timeout_is_504_UT(self):
        tid = test_id()
        r = self.get("/route-timeout?sleep_ms=1500", tid=tid)
        self.assertEqual(r.status, 504, r)
        line = self.text_log_line(tid)
        self.assertEqual(line[2], "504")
        self.assertIn("UT", line[3].split(","))
        self.assertGreaterEqual(self.proxy.stat("cluster.slow.upstream_rq_timeout"), 1)

    def test_retry_on_connect_failure_reaches_the_live_host(self):
        for i in range(10):
            r = self.get("/connect-retry?i=%d" % i)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["backend"], "good")

    def test_previous_hosts_predicate_never_retries_a_tried_host(self):
        # Two of three RANDOM hosts always fail; with previous_hosts, three tries visit all three.
        for i in range(20):
            r = self.get("/prev-hosts?i=%d" % i)
            self.assertEqual(r.status, 200, "request %d: %r" % (i, r))
            self.assertEqual(r.json()["backend"], "good3")

    def test_outlier_detection_ejects_the_failing_host(self):
        bad = "outlier::127.0.0.1:%d::health_flags::/failed_outlier_check" % self.b["outlier_bad"].port

        def ejected():
            self.get("/outlier")
            return bad in self.proxy.clusters_text()
        ph.wait_for(ejected, timeout=20, interval=0, what="the 503 host to be ejected")
        self.assertIn("outlier::127.0.0.1:%d::health_flags::healthy" % self.b["outlier_good"].port,
                      self.proxy.clusters_text())
        self.assertGreaterEqual(self.proxy.stat("cluster.outlier.outlier_detection.ejections_total"), 1)
        bad_before = self.b["outlier_bad"].count
        for _ in range(10):
            r = self.get("/outlier")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["backend"], "outlier_good")
        self.assertEqual(self.b["outlier_bad"].count, bad_before)

    def test_circuit_breaker_max_requests_overflows_with_x_envoy_overloaded(self):
        results = [None] * 5
        barrier = threading.Barrier(5)

        def one(i):
            try:
                barrier.wait(5)
                results[i] = self.get("/breaker?i=%d" % i, timeout=15)
            except Exception as e:  # noqa: BLE001
                results[i] = e
        threads = [threading.Thread(target=one, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertTrue(all(not t.is_alive() for t in threads), "requests still running after 30 s")
        for r in results:
            self.assertIsInstance(r, ph.Response, results)
        statuses = sorted(r.status for r in results)
        overflowed = [r for r in results if r.status == 503]
        self.assertTrue(overflowed, "no request overflowed max_requests 1: %r" % statuses)
        self.assertIn(200, statuses)
        for r in overflowed:
            self.assertEqual(r.header("x-envoy-overloaded"), "true", r)
        self.assertGreaterEqual(self.proxy.stat("cluster.breaker.upstream_rq_pending_overflow"), 1)

    def test_request_mirroring(self):
        r = ph.request(self.port, "POST", "/mirror?m=1", {"Host": "mirror.test"}, b"hello")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["backend"], "primary")
        shadowed = ph.wait_for(lambda: [s for s in self.b["shadow"].seen() if s["path"] == "/mirror?m=1"],
                               what="the mirrored request")
        s = shadowed[0]
        self.assertEqual(s["method"], "POST")
        self.assertEqual(s["body_length"], 5)
        self.assertEqual({k.lower(): v for k, v in s["headers"]}["host"], "mirror.test-shadow")
        self.assertEqual(len([p for p in self.b["primary"].seen() if p["path"] == "/mirror?m=1"]), 1)


# ---------------------------------------------------------------------------------------------


class TcpAndDnsTest(harness.MonomeshTestCase):
    """tcp_proxy to nginx and a STRICT_DNS cluster resolving "localhost"."""

    @classmethod
    def setUpClass(cls):
        cls.nginx = start_class_backend(cls, ph.NginxBackend("tcpnginx"))
        cls.tcp_port, cls.http_port, cls.admin_port = ph.free_port(), ph.free_port(), ph.free_port()
        rc = {"virtual_hosts": [vhost("all", ["*"], [route("/", "dns")])]}
        cls.proxy = start_class_proxy(cls, ph.bootstrap(
            [ph.tcp_listener("tcp", cls.tcp_port, "nginx_static", stat_prefix="tcp_to_nginx"),
             ph.http_listener("http", cls.http_port, rc, stat_prefix="dns_http")],
            [cluster("nginx_static", [cls.nginx.port]),
             cluster("dns", [("localhost", cls.nginx.port)], type="STRICT_DNS", dns_lookup_family="V4_ONLY")],
            admin_port=cls.admin_port))

    def test_http_over_tcp_proxy_and_byte_counters(self):
        r = ph.get(self.tcp_port, "/over-tcp")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.text, "tcpnginx GET /over-tcp\n")
        self.assertEqual(r.header("server").split("/")[0], "nginx", "tcp_proxy must not touch HTTP")
        rx = ph.wait_for(lambda: self.proxy.stat("tcp.tcp_to_nginx.downstream_cx_rx_bytes_total"), what="rx bytes")
        tx = ph.wait_for(lambda: self.proxy.stat("tcp.tcp_to_nginx.downstream_cx_tx_bytes_total"), what="tx bytes")
        with ph.Client(self.tcp_port) as c:
            for i in range(3):
                self.assertEqual(c.get("/again/%d" % i).text, "tcpnginx GET /again/%d\n" % i)
        ph.wait_for(lambda: self.proxy.stat("tcp.tcp_to_nginx.downstream_cx_rx_bytes_total") > rx, what="rx to grow")
        ph.wait_for(lambda: self.proxy.stat("tcp.tcp_to_nginx.downstream_cx_tx_bytes_total") > tx, what="tx to grow")
        self.assertGreaterEqual(self.proxy.stat("tcp.tcp_to_nginx.downstream_cx_total"), 2)

    def test_strict_dns_localhost(self):
        r = ph.get(self.http_port, "/dns")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.text, "tcpnginx GET /dns\n")
        self.assertIn("dns::127.0.0.1:%d::hostname::localhost" % self.nginx.port, self.proxy.clusters_text())


# ---------------------------------------------------------------------------------------------


def simple_config(listener_port, admin_port, backend_port, stat_prefix="ingress_main"):
    rc = {"virtual_hosts": [vhost("all", ["*"], [route("/", "backend", timeout="10s")])]}
    return ph.bootstrap([ph.http_listener("main", listener_port, rc, stat_prefix=stat_prefix)],
                        [cluster("backend", [backend_port])], admin_port=admin_port)


class AdminTest(harness.MonomeshTestCase):
    @classmethod
    def setUpClass(cls):
        cls.nginx = start_class_backend(cls, ph.NginxBackend("adminnginx"))
        cls.port, cls.admin_port = ph.free_port(), ph.free_port()
        cls.proxy = start_class_proxy(cls, simple_config(cls.port, cls.admin_port, cls.nginx.port))
        for _ in range(3):
            assert ph.get(cls.port, "/warm").status == 200

    def test_stats(self):
        r = self.proxy.admin("/stats")
        self.assertEqual(r.status, 200)
        m = re.search(r"(?m)^http\.ingress_main\.downstream_rq_2xx: (\d+)$", r.text)
        self.assertTrue(m, r.text[:3000])
        self.assertGreaterEqual(int(m.group(1)), 3)
        self.assertRegex(r.text, r"(?m)^cluster\.backend\.upstream_rq_2xx: [1-9]\d*$")

    def test_stats_filter_is_a_regex(self):
        r = self.proxy.admin("/stats?filter=%5Ehttp%5C..*rq_2xx%24")  # ^http\..*rq_2xx$
        self.assertEqual(r.status, 200)
        names = [l.split(":")[0] for l in r.text.splitlines()]
        self.assertIn("http.ingress_main.downstream_rq_2xx", names)
        self.assertTrue(all(n.startswith("http.") and n.endswith("rq_2xx") for n in names), names)
        self.assertEqual(self.proxy.admin("/stats?filter=%28").status, 400)

    def test_stats_prometheus(self):
        r = self.proxy.admin("/stats/prometheus")
        self.assertEqual(r.status, 200)
        self.assertIn("# TYPE envoy_http_ingress_main_downstream_rq_2xx counter", r.text)
        self.assertRegex(r.text, r"(?m)^envoy_http_ingress_main_downstream_rq_2xx [1-9]\d*$")

    def test_clusters(self):
        r = self.proxy.admin("/clusters")
        self.assertEqual(r.status, 200)
        self.assertIn("backend::127.0.0.1:%d::health_flags::healthy" % self.nginx.port, r.text)
        self.assertIn("backend::default_priority::max_requests::", r.text)

    def test_config_dump_is_json(self):
        r = self.proxy.admin("/config_dump")
        self.assertEqual(r.status, 200)
        dump = json.loads(r.body)
        text = json.dumps(dump)
        self.assertIn("backend", text)
        self.assertIn(str(self.port), text)

    def test_listeners(self):
        r = self.proxy.admin("/listeners")
        self.assertEqual(r.status, 200)
        self.assertIn("main::127.0.0.1:%d" % self.port, r.text)

    def test_server_info(self):
        r = self.proxy.admin("/server_info")
        self.assertEqual(r.status, 200)
        info = json.loads(r.body)
        self.assertEqual(info["state"], "LIVE")
        self.assertEqual(info["command_line_options"]["concurrency"], 2)

    def test_ready(self):
        r = self.proxy.admin("/ready")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.text.strip(), "LIVE")

    def test_get_on_post_only_endpoints_is_405(self):
        for path in ("/healthz/fail", "/healthz/ok", "/drain_listeners", "/quitquitquit"):
            with self.subTest(path=path):
                self.assertEqual(self.proxy.admin(path).status, 405)
        self.assertEqual(self.proxy.admin("/ready").status, 200)
        self.assertEqual(ph.get(self.port, "/still-serving").status, 200)


class LifecycleTest(harness.MonomeshTestCase):
    """Health failing, draining and shutdown, each on a fresh proxy."""

    @classmethod
    def setUpClass(cls):
        cls.backend = start_class_backend(cls, ph.PyBackend("lifecycle"))

    def start_proxy(self, drain_time_s=3):
        port, admin = ph.free_port(), ph.free_port()
        p = ph.Proxy(simple_config(port, admin, self.backend.port), drain_time_s=drain_time_s)
        self.addCleanup(p.cleanup)
        p.start()
        return p, port

    def test_healthz_fail_makes_ready_503(self):
        p, port = self.start_proxy()
        self.assertEqual(p.admin("/healthz/fail", "POST").status, 200)
        self.assertEqual(p.admin("/ready").status, 503)
        self.assertEqual(ph.get(port, "/serving-while-failed").status, 200, "traffic is still served")
        self.assertEqual(p.admin("/healthz/ok", "POST").status, 200)
        self.assertEqual(p.admin("/ready").status, 200)
        p.stop()

    def slow_request_in_background(self, port, path):
        result = {}

        def run():
            try:
                result["response"] = ph.get(port, path, timeout=15)
            except Exception as e:  # noqa: BLE001
                result["error"] = e
        t = threading.Thread(target=run)
        t.start()
        ph.wait_for(lambda: any(r["path"] == path for r in self.backend.seen()), what="the slow request to arrive")
        return t, result

    def test_drain_listeners_stops_accepting_and_exits_0(self):
        p, port = self.start_proxy(drain_time_s=2)
        t, result = self.slow_request_in_background(port, "/drain?sleep_ms=1000")
        self.assertEqual(p.admin("/drain_listeners", "POST").status, 200)
        if p.alive():
            self.assertFalse(ph.port_accepts(port) and p.alive() and self._served(port),
                             "the listener still serves new connections while draining")
        t.join(15)
        self.assertFalse(t.is_alive())
        self.assertIn("response", result, result)
        self.assertEqual(result["response"].status, 200)
        rc = p.wait(2 + 8)
        self.assertIsNotNone(rc, "did not exit within the drain time (2 s) + 8 s:\n%s" % p.log())
        self.assertEqual(rc, 0, p.log())

    @staticmethod
    def _served(port):
        try:
            return ph.get(port, "/during-drain", timeout=2).status == 200
        except Exception:  # noqa: BLE001
            return False

    def test_sigterm_with_a_request_in_flight_completes_it_and_exits_0(self):
        p, port = self.start_proxy(drain_time_s=5)
        t, result = self.slow_request_in_background(port, "/sigterm?sleep_ms=1000")
        p.signal(signal.SIGTERM)
        t.join(15)
        self.assertFalse(t.is_alive())
        self.assertIn("response", result, result)
        self.assertEqual(result["response"].status, 200)
        rc = p.wait(10)
        self.assertIsNotNone(rc, "did not exit within 10 s of SIGTERM:\n%s" % p.log())
        self.assertEqual(rc, 0, p.log())

    def test_sigterm_with_an_idle_keep_alive_connection_exits_within_the_drain_time(self):
        p, port = self.start_proxy(drain_time_s=2)
        with ph.Client(port) as c:
            self.assertEqual(c.get("/idle").status, 200)
            p.signal(signal.SIGTERM)
            rc = p.wait(2 + 8)
        self.assertIsNotNone(rc, "did not exit within the drain time (2 s) + 8 s:\n%s" % p.log())
        self.assertEqual(rc, 0, p.log())


# ---------------------------------------------------------------------------------------------


class TypedExtensionConfigTest(harness.MonomeshTestCase):
    """Envoy v3 bootstraps name extension configs by type URL (typed_config with "@type"), as in
    Envoy's docs and examples; each form below must load and serve."""

    @classmethod
    def setUpClass(cls):
        cls.backend = start_class_backend(cls, ph.PyBackend("typed"))

    def assertLoadsAndServes(self, listener_port, config):
        p = ph.Proxy(config)
        self.addCleanup(p.cleanup)
        p.start()
        r = ph.get(listener_port, "/typed")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["backend"], "typed")
        p.stop()

    def config(self, port, retry_policy=None, router=None, listener_filters=None):
        action = {"retry_policy": retry_policy} if retry_policy else {}
        rc = {"virtual_hosts": [vhost("a", ["*"], [route("/", "c", **action)])]}
        listener = ph.http_listener("l", port, rc, router=router)
        if listener_filters:
            listener["listener_filters"] = listener_filters
        return ph.bootstrap([listener], [cluster("c", [self.backend.port])], admin_port=ph.free_port())

    def test_router_with_typed_config(self):
        port = ph.free_port()
        self.assertLoadsAndServes(port, self.config(port, router=ph.ROUTER_TYPED))

    def test_listener_filters_with_typed_config(self):
        port = ph.free_port()
        filters = [{"name": "envoy.filters.listener.tls_inspector", "typed_config": {
                       "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"}},
                   {"name": "envoy.filters.listener.original_dst", "typed_config": {
                       "@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst"}}]
        self.assertLoadsAndServes(port, self.config(port, listener_filters=filters))

    def test_previous_hosts_predicate_with_typed_config(self):
        port = ph.free_port()
        policy = {"retry_on": "5xx", "retry_host_predicate": [{
            "name": "envoy.retry_host_predicates.previous_hosts",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3."
                                      "PreviousHostsPredicate"}}]}
        self.assertLoadsAndServes(port, self.config(port, retry_policy=policy))


class InvalidBootstrapTest(harness.MonomeshTestCase):
    """Bad bootstraps: exit 1 with a message that says what is wrong; never a crash or a hang."""

    def run_proxy(self, config, name="bootstrap.json"):
        d = harness.TempDir(self)
        text = json.dumps(config, indent=1) if isinstance(config, dict) else config
        path = d.write(name, text)
        r = harness.run("proxy", "-c", path, "--concurrency", "2", "--drain-time-s", "1", timeout=20)
        self.assertNoCrash(r)
        return r, path, text

    def valid(self):
        return simple_config(ph.free_port(), ph.free_port(), ph.closed_port())

    def test_unknown_field_names_file_line_column_and_path(self):
        config = self.valid()
        config["static_resources"]["clusters"][0]["bogus_field"] = 1
        r, path, text = self.run_proxy(config)
        self.assertExit(r, 1)
        line = next(i for i, l in enumerate(text.splitlines(), 1) if '"bogus_field"' in l)
        out = r.stdout + r.stderr
        self.assertRegex(out, re.escape(path) + r":%d:\d+" % line)
        self.assertIn("static_resources.clusters[0].bogus_field", out)

    def test_unknown_cluster_type(self):
        config = self.valid()
        config["static_resources"]["clusters"][0]["type"] = "NOT_A_TYPE"
        r, _, _ = self.run_proxy(config)
        self.assertExit(r, 1)
        out = r.stdout + r.stderr
        self.assertIn("NOT_A_TYPE", out)
        self.assertIn("static_resources.clusters[0].type", out)

    def test_missing_router_filter(self):
        config = self.valid()
        hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        hcm["http_filters"] = []
        r, _, _ = self.run_proxy(config)
        self.assertExit(r, 1)
        self.assertIn("router", r.stdout + r.stderr)

    def test_duplicate_listener_names(self):
        config = self.valid()
        first = config["static_resources"]["listeners"][0]
        second = json.loads(json.dumps(first))
        second["address"]["socket_address"]["port_value"] = ph.free_port()
        config["static_resources"]["listeners"].append(second)
        r, _, _ = self.run_proxy(config)
        self.assertExit(r, 1)
        self.assertIn("duplicate listener name", r.stdout + r.stderr)
        self.assertIn('"main"', r.stdout + r.stderr)

    def test_listener_on_a_busy_port(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            config = self.valid()
            config["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = port
            r, _, _ = self.run_proxy(config)
        self.assertExit(r, 1)
        out = r.stdout + r.stderr
        self.assertIn(str(port), out)
        self.assertRegex(out.lower(), r"address already in use|in use")

    def test_admin_on_a_busy_port(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            config = self.valid()
            config["admin"]["address"]["socket_address"]["port_value"] = port
            r, _, _ = self.run_proxy(config)
        self.assertExit(r, 1)
        self.assertIn(str(port), r.stdout + r.stderr)

    def test_not_a_mapping_and_invalid_yaml(self):
        for text in ("- just\n- a list\n", "static_resources: {listeners: [\n"):
            with self.subTest(text=text):
                r, _, _ = self.run_proxy(text, name="bad.yaml")
                self.assertExit(r, 1)
                self.assertIn("bad.yaml", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()


class PendingRequestsTest(harness.MonomeshTestCase):
    """DestinationRule connectionPool semantics on Envoy's breakers: at max_connections a request
    waits as pending (up to max_pending_requests) for the connection to come free; beyond that it
    overflows with 503 and x-envoy-overloaded. One worker, so every request shares its pool."""

    def start(self, max_pending):
        backend = ph.PyBackend("pending%d" % max_pending, delay_ms=300)
        backend.start()
        self.addCleanup(backend.stop)
        port, admin = ph.free_port(), ph.free_port()
        breakers = {"thresholds": [{"max_connections": 1, "max_pending_requests": max_pending, "max_requests": 100}]}
        rc = {"virtual_hosts": [vhost("all", ["*"], [route("/", "slow", timeout="10s")])]}
        config = ph.bootstrap([ph.http_listener("main", port, rc)], [cluster("slow", [backend.port], circuit_breakers=breakers)],
                              admin_port=admin)
        proxy = ph.Proxy(config, concurrency=1).start()
        self.addCleanup(proxy.stop)
        return port, proxy

    def concurrent(self, port, n):
        results = [None] * n
        barrier = threading.Barrier(n)

        def one(i):
            try:
                barrier.wait(5)
                results[i] = ph.get(port, "/pending?i=%d" % i, timeout=20)
            except Exception as e:  # noqa: BLE001
                results[i] = e
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertTrue(all(not t.is_alive() for t in threads), "requests still running after 30 s")
        for r in results:
            self.assertIsInstance(r, ph.Response, results)
        return results

    def test_requests_queue_for_the_one_connection(self):
        port, proxy = self.start(max_pending=10)
        results = self.concurrent(port, 3)
        self.assertEqual(sorted(r.status for r in results), [200, 200, 200], results)
        self.assertEqual(proxy.stat("cluster.slow.upstream_cx_total"), 1)
        self.assertEqual(proxy.stat("cluster.slow.upstream_rq_pending_overflow"), 0)

    def test_pending_overflow_answers_503_overloaded(self):
        port, proxy = self.start(max_pending=1)
        results = self.concurrent(port, 4)
        statuses = sorted(r.status for r in results)
        self.assertGreaterEqual(statuses.count(200), 2, statuses)
        overflowed = [r for r in results if r.status == 503]
        self.assertTrue(overflowed, statuses)
        for r in overflowed:
            self.assertEqual(r.header("x-envoy-overloaded"), "true", r)
        self.assertGreaterEqual(proxy.stat("cluster.slow.upstream_rq_pending_overflow"), 1)


class FramingAndTimeoutRegressionTest(harness.MonomeshTestCase):
    """Regressions from a review of the data path: request smuggling through Connection-named
    framing headers, unframeable Transfer-Encoding, bodyless statuses with a body configured, and
    Envoy's "0s disables a timeout"."""

    @classmethod
    def setUpClass(cls):
        cls.backend = ph.PyBackend("framing")
        cls.backend.start()
        cls.addClassCleanup(cls.backend.stop)
        cls.port, cls.admin = ph.free_port(), ph.free_port()
        routes = [ph.direct("/nocontent", "ignored body", status=204), route("/", "b", timeout="10s")]
        rc = {"virtual_hosts": [vhost("all", ["*"], routes)]}
        listener = ph.http_listener("main", cls.port, rc, stream_idle_timeout="0s")
        cls.proxy = ph.Proxy(ph.bootstrap([listener], [cluster("b", [cls.backend.port])], admin_port=cls.admin)).start()
        cls.addClassCleanup(cls.proxy.stop)

    def raw(self, data, read_until_close=True, delay_after=None):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            if delay_after is None:
                s.sendall(data)
            else:
                s.sendall(data[:delay_after])
                time.sleep(0.3)
                s.sendall(data[delay_after:])
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    break
                if not b:
                    break
                chunks.append(b)
                if not read_until_close and b"\r\n\r\n" in b"".join(chunks):
                    break
            return b"".join(chunks)
        finally:
            s.close()

    def test_connection_cannot_strip_content_length(self):
        inner = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        body = inner + b"x" * (70000 - len(inner))
        head = b"POST /outer HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\nConnection: Content-Length\r\n\r\n"
        out = self.raw(head + body, read_until_close=False)
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out[:200])
        seen = ph.wait_for(lambda: [r for r in self.backend.seen() if r["path"] == "/outer"], what="/outer upstream")
        self.assertEqual(seen[0]["body_length"], 70000)
        time.sleep(0.2)
        self.assertFalse([r for r in self.backend.seen() if r["path"] == "/smuggled"], "a request was smuggled")

    def test_transfer_encoding_that_is_not_chunked_is_400(self):
        out = self.raw(b"POST /te HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\nGET /smuggled2 HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:200])
        self.assertFalse([r for r in self.backend.seen() if r["path"] in ("/te", "/smuggled2")])

    def test_204_direct_response_has_no_body_and_the_proxy_keeps_serving(self):
        r = ph.get(self.port, "/nocontent")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertEqual(ph.get(self.port, "/after").status, 200)

    def test_zero_stream_idle_timeout_means_no_timeout(self):
        head = b"POST /slowbody HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
        out = self.raw(head + b"hello", delay_after=len(head))
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out[:200])


class DripBackend:
    """An HTTP/1.1 backend on raw sockets that answers every request with a chunked body written
    piece by piece: `?pieces=N&gap_ms=G` sends N pieces G ms apart, then the last chunk; with
    `&stall=1` it sends one piece and then nothing more (the connection stays open)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.stop_event = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buffer = b""
        try:
            while not self.stop_event.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                query = dict(p.split("=", 1) for p in head.split(b" ")[1].decode().partition("?")[2].split("&") if "=" in p)
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for _ in range(int(query.get("pieces", "1"))):
                    conn.sendall(b"5\r\npiece\r\n")
                    if query.get("stall"):
                        self.stop_event.wait(15)
                        return
                    time.sleep(int(query.get("gap_ms", "0")) / 1000.0)
                conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stop_event.set()
        self.listener.close()


class ConnectionDeadlineTest(harness.MonomeshTestCase):
    """The connection manager's idle_timeout and stream_idle_timeout count from the last activity:
    a connection or response that keeps moving outlives them, one that goes silent is closed
    (each connection has one timer whose deadline moves with every read and write)."""

    @classmethod
    def setUpClass(cls):
        cls.backend = DripBackend()
        cls.addClassCleanup(cls.backend.stop)
        cls.port, cls.admin = ph.free_port(), ph.free_port()
        # No route timeout: only the stream idle timeout bounds a response.
        rc = {"virtual_hosts": [vhost("all", ["*"], [route("/", "drip", timeout="0s")])]}
        listener = ph.http_listener("main", cls.port, rc, stream_idle_timeout="0.6s",
                                    common_http_protocol_options={"idle_timeout": "0.6s"})
        cls.proxy = start_class_proxy(cls, ph.bootstrap([listener], [cluster("drip", [cls.backend.port])],
                                                        admin_port=cls.admin))

    def test_silent_keep_alive_connection_closes_after_idle_timeout(self):
        conn = ph.RawConnection(self.port)
        self.addCleanup(conn.close)
        conn.send(b"GET /?pieces=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(conn.read_response().body, b"piece")
        started = time.monotonic()
        self.assertTrue(conn.is_closed_by_peer(timeout=10), "the idle connection stayed open")
        self.assertGreaterEqual(time.monotonic() - started, 0.5)

    def test_busy_connection_outlives_idle_timeout(self):
        conn = ph.RawConnection(self.port)
        self.addCleanup(conn.close)
        started = time.monotonic()
        while time.monotonic() - started < 2.0:  # a request every 0.2 s, over three idle windows
            conn.send(b"GET /?pieces=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(conn.read_response().body, b"piece")
            time.sleep(0.2)

    def test_dripping_response_outlives_stream_idle_timeout(self):
        conn = ph.RawConnection(self.port)
        self.addCleanup(conn.close)
        conn.send(b"GET /?pieces=8&gap_ms=250 HTTP/1.1\r\nHost: x\r\n\r\n")  # 2 s, pieces 0.25 s apart
        self.assertEqual(conn.read_response().body, b"piece" * 8)

    def test_stalled_response_is_cut_after_stream_idle_timeout(self):
        conn = ph.RawConnection(self.port)
        self.addCleanup(conn.close)
        started = time.monotonic()
        conn.send(b"GET /?pieces=2&stall=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, _ = conn.read_head()
        self.assertEqual(status, 200)
        rest = conn.read_to_close()  # the head and the first piece came; then the proxy gives up
        self.assertIn(b"piece", rest)
        self.assertFalse(rest.endswith(b"0\r\n\r\n"), "a stalled response must not look complete")
        self.assertLess(time.monotonic() - started, 10)


class TcpIdleTimeoutTest(harness.MonomeshTestCase):
    """The tcp_proxy idle timeout counts activity in either direction (as Envoy): a server that
    streams to a silent client keeps the connection alive; a connection silent both ways ends."""

    def setUp(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.addCleanup(self.server.close)
        self.backend_port = self.server.getsockname()[1]
        self.port, admin = ph.free_port(), ph.free_port()
        listener = ph.tcp_listener("tcp", self.port, "streamer")
        listener["filter_chains"][0]["filters"][0]["typed_config"]["idle_timeout"] = "1s"
        config = ph.bootstrap([listener], [cluster("streamer", [self.backend_port])], admin_port=admin)
        self.proxy = ph.Proxy(config)
        # Readiness by admin /ready only: a probe connection to the listener would be proxied to
        # this one-connection backend and take its accept().
        self.proxy.listener_ports = []
        self.proxy.start()
        self.addCleanup(self.proxy.stop)

    def serve(self, ticks, hold=0.0):
        conn, _ = self.server.accept()
        with conn:
            for _ in range(ticks):
                conn.sendall(b"t")
                time.sleep(0.25)
            time.sleep(hold)

    def test_one_way_stream_outlives_the_idle_timeout(self):
        t = threading.Thread(target=self.serve, args=(10,), daemon=True)
        t.start()
        c = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        got = b""
        deadline = time.time() + 8
        while len(got) < 10 and time.time() < deadline:
            b = c.recv(16)
            if not b:
                break
            got += b
        c.close()
        t.join(5)
        self.assertEqual(got, b"t" * 10, "the stream was cut after %d bytes" % len(got))

    def test_silent_connection_ends_after_the_idle_timeout(self):
        t = threading.Thread(target=self.serve, args=(0, 3.0), daemon=True)
        t.start()
        c = socket.create_connection(("127.0.0.1", self.port), timeout=6)
        start = time.time()
        self.assertEqual(c.recv(16), b"")
        self.assertLess(time.time() - start, 5.5)
        c.close()
        t.join(5)
        self.assertGreaterEqual(self.proxy.stat("tcp.tcp.idle_timeout"), 1)


def fault_proxy(test, layers):
    """A proxy whose only route carries a fault filter aborting 0 % of requests with 503, with the
    given runtime layers; (proxy, port), stopped when the test ends."""
    backend = ph.PyBackend("runtime")
    backend.start()
    test.addCleanup(backend.stop)
    port, admin = ph.free_port(), ph.free_port()
    fault = {"name": "envoy.filters.http.fault", "typed_config": {
        "@type": FAULT_TYPE, "abort": {"http_status": 503, "percentage": percent(0)}}}
    rc = {"virtual_hosts": [vhost("all", ["*"], [route("/", "b")])]}
    config = ph.bootstrap([ph.http_listener("main", port, rc, http_filters=[fault])], [cluster("b", [backend.port])],
                          admin_port=admin)
    config["layered_runtime"] = {"layers": layers}
    proxy = ph.Proxy(config).start()
    test.addCleanup(proxy.stop)
    return proxy, port


class RuntimeLayersTest(harness.MonomeshTestCase):
    """Envoy's layered runtime drives the fault filter: a static layer turns a 0 % abort into
    100 %, the admin layer (/runtime_modify) turns it off again, /runtime lists the values."""

    def test_runtime_overrides_fault_percentages(self):
        proxy, port = fault_proxy(self, [
            {"name": "static", "static_layer": {"fault": {"http": {"abort": {"abort_percent": 100, "http_status": 418}}}}},
            {"name": "disk", "disk_layer": {"symlink_root": "/nonexistent/runtime", "subdirectory": "current"}},
            {"name": "admin", "admin_layer": {}}])
        self.assertEqual(ph.get(port, "/x").status, 418)
        self.assertIn("fault.http.abort.abort_percent: 100", proxy.admin("/runtime").text)
        self.assertEqual(proxy.admin("/runtime_modify?fault.http.abort.abort_percent=0", "POST").status, 200)
        ph.wait_for(lambda: ph.get(port, "/y").status == 200, what="the admin layer to switch the fault off")
        self.assertEqual(proxy.admin("/runtime_modify?fault.http.abort.abort_percent=", "POST").status, 200)
        ph.wait_for(lambda: ph.get(port, "/z").status == 418, what="removing the admin value to restore the static one")


class RequestTimeoutTest(harness.MonomeshTestCase):
    """HCM request_timeout: a request whose body does not arrive in time is answered 408 and the
    connection closes (counted in downstream_rq_timeout); one that arrives is served."""

    def test_slow_body_gets_408(self):
        backend = ph.PyBackend("rt")
        backend.start()
        self.addCleanup(backend.stop)
        port, admin = ph.free_port(), ph.free_port()
        rc = {"virtual_hosts": [vhost("all", ["*"], [route("/", "b")])]}
        proxy = ph.Proxy(ph.bootstrap([ph.http_listener("main", port, rc, request_timeout="0.3s")],
                                      [cluster("b", [backend.port])], admin_port=admin)).start()
        self.addCleanup(proxy.stop)
        conn = ph.RawConnection(port)
        conn.send(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        status, _, headers = conn.read_head()
        self.assertEqual(status, 408)
        self.assertIn(("connection", "close"), [(k.lower(), v.lower()) for k, v in headers])
        ph.wait_for(lambda: proxy.stat("http.main.downstream_rq_timeout") >= 1, what="downstream_rq_timeout")
        response = ph.request(port, "POST", "/fast", body=b"0123456789")
        self.assertEqual(response.status, 200)


class RuntimeDiskReloadTest(harness.MonomeshTestCase):
    """The runtime's disk layer is re-read while the proxy runs: a value written there (as when the
    symlink root is swapped) turns a 0 % fault abort into 100 %, and removing it turns it off."""

    def test_disk_layer_changes_apply_without_restart(self):
        root = tempfile.mkdtemp(prefix="monomesh-runtime-")
        self.addCleanup(shutil.rmtree, root, True)
        os.makedirs(os.path.join(root, "current", "fault", "http", "abort"))
        proxy, port = fault_proxy(self, [{"name": "disk", "disk_layer": {"symlink_root": root, "subdirectory": "current"}}])
        self.assertEqual(ph.get(port, "/before").status, 200)
        value = os.path.join(root, "current", "fault", "http", "abort", "abort_percent")
        with open(value, "w") as f:
            f.write("100")
        ph.wait_for(lambda: ph.get(port, "/after").status == 503, what="the disk layer value to apply")
        os.remove(value)
        ph.wait_for(lambda: ph.get(port, "/removed").status == 200, what="the removed value to stop applying")
