"""The proxy's file access logs end to end: Istio 1.1's default format on HTTP and tcp_proxy,
typed JSON, filters, /reopen_logs after a rotation, the filesystem.* stats, buffered writes
(strace counts write(2) calls to the log file), and the last lines written at exit.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness
import proxy_harness as ph
from proxy_h2_test import FlakyEcho, grpc

# Istio 1.1's MeshConfig default accessLogFormat (TEXT encoding).
ISTIO_FORMAT = ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
                '%RESPONSE_FLAGS% "%DYNAMIC_METADATA(istio.mixer:status)%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% '
                '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" '
                '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% '
                '%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%\n')
ISTIO_LINE = re.compile(
    r'^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "(\S+) (\S+) (\S+)" (\d+) (\S+) "-" (\d+) (\d+) (\d+) (\S+) '
    r'"([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+)$')

JSON_FORMAT = {"code": "%RESPONSE_CODE%", "path": "%REQ(:PATH)%", "upstream": {"cluster": "%UPSTREAM_CLUSTER%"},
               "none": "%RESP(X-NONE)%", "when": "%START_TIME(%s.%3f)%", "id": "%REQ(X-TEST-ID)%"}


def setUpModule():
    harness.binary()


def file_log(path, text_format=None, typed_json=None, log_filter=None):
    typed = {"@type": ph.FILE_LOG_TYPE, "path": path}
    if typed_json is not None:
        typed["typed_json_format"] = typed_json
    else:
        typed["log_format"] = {"text_format": text_format}
    log = {"name": "envoy.access_loggers.file", "typed_config": typed}
    if log_filter is not None:
        log["filter"] = log_filter
    return log


def errors_only():
    return {"or_filter": {"filters": [
        {"status_code_filter": {"comparison": {"op": "GE", "value": {"default_value": 400, "runtime_key": "log.min_status"}}}},
        {"response_flag_filter": {}}]}}


def temp_and_backend(case, name):
    """A temp folder and a started PyBackend, both removed when `case` (a test or its class) ends."""
    tmp = tempfile.mkdtemp(prefix="monomesh-alogtest-")
    backend = ph.PyBackend(name).start()
    cleanup = case.addClassCleanup if isinstance(case, type) else case.addCleanup
    cleanup(shutil.rmtree, tmp, True)
    cleanup(backend.stop)
    return tmp, backend


def tcp_listener_with_log(name, port, cluster_name, log):
    l = ph.tcp_listener(name, port, cluster_name)
    l["filter_chains"][0]["filters"][0]["typed_config"]["access_log"] = [log]
    return l


class AccessLogTest(harness.MonomeshTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.backend = temp_and_backend(cls, "echo")
        cls.http_log = os.path.join(cls.tmp, "http.log")
        cls.json_log = os.path.join(cls.tmp, "http.json")
        cls.error_log = os.path.join(cls.tmp, "errors.log")
        cls.tcp_log = os.path.join(cls.tmp, "tcp.log")
        cls.http_port, cls.tcp_port, cls.dead_tcp_port, cls.admin_port = (ph.free_port() for _ in range(4))
        routes = [ph.direct({"path": "/missing"}, "no\n", status=404),
                  ph.route("/dead", "dead"),
                  ph.route("/", "echo")]
        route_config = {"name": "local", "virtual_hosts": [ph.vhost("all", ["*"], routes)]}
        logs = [file_log(cls.http_log, ISTIO_FORMAT), file_log(cls.json_log, typed_json=JSON_FORMAT),
                file_log(cls.error_log, "%RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(:PATH)%\n", log_filter=errors_only())]
        listeners = [ph.http_listener("http", cls.http_port, route_config, access_log=logs),
                     tcp_listener_with_log("tcp", cls.tcp_port, "echo", file_log(cls.tcp_log, ISTIO_FORMAT)),
                     tcp_listener_with_log("tcp_dead", cls.dead_tcp_port, "dead", file_log(cls.tcp_log, ISTIO_FORMAT))]
        clusters = [ph.cluster("echo", [cls.backend.port]), ph.cluster("dead", [ph.closed_port()])]
        cls.proxy = ph.Proxy(ph.bootstrap(listeners, clusters, admin_port=cls.admin_port)).start()
        cls.addClassCleanup(cls.proxy.cleanup)

    def line_with(self, path, needle):
        return ph.wait_for_log_line(path, lambda l: needle in l, what="a line with %r" % needle)

    def test_istio_default_format_on_http(self):
        r = ph.get(self.http_port, "/istio?x=1", {"x-request-id": "rid-istio", "user-agent": "alog-test"})
        self.assertEqual(r.status, 200, r)
        m = ISTIO_LINE.match(self.line_with(self.http_log, "rid-istio"))
        self.assertIsNotNone(m, "the line does not have Istio's shape")
        (_, method, path, proto, code, flags, rx, tx, dur, service_time, xff, ua, rid, authority, upstream_host,
         cluster, upstream_local, downstream_local, downstream_remote, sni) = m.groups()
        self.assertEqual((method, path, proto, code, flags), ("GET", "/istio?x=1", "HTTP/1.1", "200", "-"))
        self.assertEqual((ua, rid, authority), ("alog-test", "rid-istio", "127.0.0.1:%d" % self.http_port))
        self.assertGreater(int(tx), 0)
        self.assertTrue(service_time.isdigit(), service_time)
        self.assertEqual(upstream_host, "127.0.0.1:%d" % self.backend.port)
        self.assertEqual(cluster, "echo")
        self.assertRegex(upstream_local, r"^127\.0\.0\.1:\d+$")
        self.assertEqual(downstream_local, "127.0.0.1:%d" % self.http_port)
        self.assertRegex(downstream_remote, r"^127\.0\.0\.1:\d+$")
        self.assertEqual(sni, "-")

    def test_typed_json(self):
        ph.get(self.http_port, "/json", {"x-test-id": "json-1"})
        line = self.line_with(self.json_log, '"json-1"')
        entry = json.loads(line)
        self.assertEqual(entry["code"], 200)
        self.assertIsNone(entry["none"])
        self.assertEqual(entry["upstream"], {"cluster": "echo"})
        self.assertRegex(entry["when"], r"^\d{10}\.\d{3}$")
        self.assertEqual(list(entry), sorted(entry), "keys in a stable order")

    def test_filter_logs_only_errors(self):
        ph.get(self.http_port, "/fine-request")
        self.assertEqual(ph.get(self.http_port, "/missing").status, 404)
        self.assertEqual(ph.get(self.http_port, "/dead").status, 503)
        self.line_with(self.error_log, "/dead")
        lines = ph.read_lines(self.error_log)
        self.assertIn("404 - /missing", lines)
        self.assertIn("503 UF /dead", lines)
        self.assertFalse([l for l in lines if "/fine-request" in l], lines)

    def test_tcp_proxy_access_log(self):
        request = b"GET /over-tcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        with ph.RawConnection(self.tcp_port) as c:
            c.send(request)
            client = "127.0.0.1:%d" % c.sock.getsockname()[1]
            reply = c.read_to_close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:100])
        line = self.line_with(self.tcp_log, " 127.0.0.1:%d %s " % (self.tcp_port, client))
        m = ISTIO_LINE.match(line)
        self.assertIsNotNone(m, line)
        g = m.groups()
        self.assertEqual(g[1:6], ("-", "-", "-", "0", "-"), line)  # no method, path, protocol; code 0
        self.assertEqual(int(g[6]), len(request))  # bytes received
        self.assertEqual(int(g[7]), len(reply))
        self.assertEqual(g[14:16], ("127.0.0.1:%d" % self.backend.port, "echo"), line)
        self.assertRegex(g[16], r"^127\.0\.0\.1:\d+$", line)  # upstream local address
        self.assertRegex(g[18], r"^127\.0\.0\.1:\d+$", line)  # downstream remote address
        self.assertEqual(g[19], "-", line)  # no SNI on plaintext

    def test_tcp_proxy_connect_failure_is_logged_with_flags(self):
        with ph.RawConnection(self.dead_tcp_port) as c:
            client = "127.0.0.1:%d" % c.sock.getsockname()[1]
            self.assertEqual(c.read_to_close(), b"")  # closed: nothing to connect to
        line = self.line_with(self.tcp_log, " 127.0.0.1:%d %s " % (self.dead_tcp_port, client))
        m = ISTIO_LINE.match(line)
        self.assertIsNotNone(m, line)
        self.assertEqual(m.group(6), "UF", line)
        self.assertEqual(m.group(16), "dead", line)

    def test_stats_use_envoys_names(self):
        ph.get(self.http_port, "/stats-check")
        self.line_with(self.http_log, "/stats-check")
        stats = self.proxy.stats()
        for name in ("filesystem.write_buffered", "filesystem.write_completed", "filesystem.flushed_by_timer",
                     "filesystem.write_failed", "filesystem.reopen_failed", "filesystem.write_total_buffered"):
            self.assertIn(name, stats)
        self.assertGreater(stats["filesystem.write_buffered"], 0)
        self.assertGreater(stats["filesystem.flushed_by_timer"], 0)
        self.assertEqual(stats["filesystem.write_failed"], 0)

    def test_reopen_logs_after_rotation(self):
        # Rotation: the file is moved away, then /reopen_logs; new lines go to a new file.
        ph.get(self.http_port, "/before-rotation")
        self.line_with(self.http_log, "/before-rotation")
        os.rename(self.http_log, self.http_log + ".1")
        self.assertEqual(self.proxy.admin("/reopen_logs").status, 405, "reopen is POST only")
        r = self.proxy.admin("/reopen_logs", method="POST")
        self.assertEqual(r.status, 200, r)
        ph.get(self.http_port, "/after-rotation")
        self.line_with(self.http_log, "/after-rotation")
        old = ph.read_lines(self.http_log + ".1")
        self.assertTrue([l for l in old if "/before-rotation" in l])
        self.assertFalse([l for l in ph.read_lines(self.http_log) if "/before-rotation" in l])
        self.assertEqual(self.proxy.stat("filesystem.reopen_failed"), 0)


class BufferedWritesTest(harness.MonomeshTestCase):
    """A burst of requests costs a handful of write(2) calls to the log file, and every line is
    written whole by the time the proxy has exited after SIGTERM."""

    REQUESTS = 3000

    def setUp(self):
        self.tmp, self.backend = temp_and_backend(self, "burst")
        self.log = os.path.join(self.tmp, "burst.log")
        self.port, self.admin_port = ph.free_port(), ph.free_port()
        route_config = {"name": "local", "virtual_hosts": [ph.vhost("all", ["*"], [ph.direct("/", "ok\n")])]}
        listeners = [ph.http_listener("http", self.port, route_config, access_log=[file_log(self.log, ISTIO_FORMAT)])]
        self.config = ph.bootstrap(listeners, [ph.cluster("burst", [self.backend.port])], admin_port=self.admin_port)

    def burst(self):
        # Keep-alive connections on both workers' listeners (the kernel spreads them).
        for c in range(4):
            with ph.Client(self.port) as client:
                for i in range(self.REQUESTS // 4):
                    r = client.get("/burst/%d/%d" % (c, i))
                    self.assertEqual(r.status, 200)

    def check_every_line(self):
        lines = ph.read_lines(self.log)
        self.assertEqual(len(lines), self.REQUESTS)
        for line in lines:
            self.assertRegex(line, ISTIO_LINE)
        seen = {re.search(r'"GET (\S+) ', l).group(1) for l in lines}
        self.assertEqual(len(seen), self.REQUESTS, "a line is missing or doubled")

    def test_lines_are_written_at_exit(self):
        proxy = ph.Proxy(self.config, file_flush_interval_ms=3600000)
        self.addCleanup(proxy.cleanup)
        proxy.start()
        self.burst()
        proxy.stop()
        self.check_every_line()

    def test_strace_counts_few_writes(self):
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed")
        probe = subprocess.run(["strace", "-f", "-qq", "-e", "trace=none", "true"], capture_output=True)
        if probe.returncode != 0:
            self.skipTest("strace cannot trace here: %s" % probe.stderr.decode(errors="replace").strip())
        trace = os.path.join(self.tmp, "trace")

        class Traced(ph.Proxy):
            def command(inner):
                return ["strace", "-f", "-qq", "-e", "trace=write,writev,pwrite64,pwritev", "-e", "signal=none",
                        "-o", trace] + ph.Proxy.command(inner)

            def signal(inner, signo):  # the proxy is strace's child; strace exits with its code
                with open("/proc/%d/task/%d/children" % (inner.process.pid, inner.process.pid)) as f:
                    os.kill(int(f.read().split()[0]), signo)

            def kill(inner):  # the proxy first: killing strace alone would orphan it
                if inner.alive():
                    try:
                        inner.signal(signal.SIGKILL)
                    except (OSError, IndexError, ValueError):
                        pass
                ph.Proxy.kill(inner)

        proxy = Traced(self.config, file_flush_interval_ms=3600000)
        self.addCleanup(proxy.cleanup)
        proxy.start()
        self.burst()
        proxy.signal(signal.SIGTERM)
        self.assertEqual(proxy.wait(30), 0, proxy.log())
        self.check_every_line()
        # The log file's descriptor: the one (not stdout or stderr) whose writes start with a line.
        with open(trace, errors="replace") as f:
            calls = [l for l in f if re.search(r"\bwritev?\(\d+, ", l)]
        log_fds = {re.search(r"writev?\((\d+), ", l).group(1) for l in calls if '"[20' in l} - {"1", "2"}
        self.assertEqual(len(log_fds), 1, log_fds)
        fd = log_fds.pop()
        log_writes = [l for l in calls if re.search(r"writev?\(%s, " % fd, l)]
        print("\n%d requests -> %d write(2) calls to the access log (%d bytes)"
              % (self.REQUESTS, len(log_writes), os.path.getsize(self.log)))
        # 64 KiB per write while the burst runs, plus one per worker at exit.
        self.assertLessEqual(len(log_writes), os.path.getsize(self.log) // (64 * 1024) + 4, log_writes[:5])
        self.assertLess(len(log_writes) * 50, self.REQUESTS)


@unittest.skipIf(grpc is None, "python3-grpcio is not installed (scripts/setup.sh installs it)")
class GrpcAccessLogTest(harness.MonomeshTestCase):
    """HTTP/2 end to end (a grpcio client and server): %PROTOCOL%, the grpc-status trailer, the
    time to the upstream's first byte, and grpc_status_filter."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="monomesh-aloggrpc-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.backend = FlakyEcho()
        cls.backend.server.start()
        cls.addClassCleanup(cls.backend.server.stop, 0)
        cls.all_log, cls.failed_log = os.path.join(cls.tmp, "all.log"), os.path.join(cls.tmp, "failed.log")
        fmt = "%PROTOCOL% %REQ(:PATH)% %TRAILER(GRPC-STATUS)%/%RESP(GRPC-STATUS)% %RESPONSE_DURATION% %REQ(X-ID)%\n"
        not_ok = {"grpc_status_filter": {"statuses": ["OK"], "exclude": True}}
        cls.port, cls.admin = ph.free_port(), ph.free_port()
        logs = [file_log(cls.all_log, fmt), file_log(cls.failed_log, fmt, log_filter=not_ok)]
        cls.proxy = ph.Proxy(ph.bootstrap(
            [ph.http_listener("grpc", cls.port, {"virtual_hosts": [ph.vhost("grpc", ["*"], [ph.route("/", "grpc")])]},
                              access_log=logs)],
            [ph.cluster("grpc", [cls.backend.port], http2_protocol_options={})], admin_port=cls.admin)).start()
        cls.addClassCleanup(cls.proxy.cleanup)
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % cls.port)
        cls.addClassCleanup(cls.channel.close)

    def call(self, name, call_id):
        method = self.channel.unary_unary("/test.Echo/" + name, request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        return method(b"x", timeout=10, metadata=(("x-id", call_id),))

    def test_status_trailer_and_filter(self):
        self.assertEqual(self.call("Unary", "ok-1"), b"x")
        with self.assertRaises(grpc.RpcError) as err:
            self.call("Fail", "fail-1")
        self.assertEqual(err.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        ok = ph.wait_for_log_line(self.all_log, lambda l: l.endswith(" ok-1")).split()
        self.assertEqual(ok[:3], ["HTTP/2", "/test.Echo/Unary", "0/-"], ok)
        self.assertTrue(ok[3].isdigit(), ok)  # RESPONSE_DURATION
        failed = ph.wait_for_log_line(self.failed_log, lambda l: l.endswith(" fail-1")).split()
        self.assertIn(failed[2], ("7/-", "-/7"), failed)  # in trailers, or a trailers-only answer
        self.assertFalse([l for l in ph.read_lines(self.failed_log) if "ok-1" in l], "OK is excluded")


class DynamicListenerAccessLogTest(harness.MonomeshTestCase):
    """Listeners from LDS (a path_config_source file) log through the same buffers; a listener whose
    access-log filter is invalid is rejected with the field path, and the previous one stays."""

    LDS = "type.googleapis.com/envoy.config.listener.v3.Listener"

    def test_lds_listener_logs_and_a_bad_filter_is_rejected(self):
        tmp, backend = temp_and_backend(self, "lds")
        lds, log = os.path.join(tmp, "lds.json"), os.path.join(tmp, "lds.log")
        port, admin_port = ph.free_port(), ph.free_port()

        def put(version, log_filter=None):
            listener = ph.http_listener("lds", port, {"virtual_hosts": [ph.vhost("all", ["*"], [ph.route("/", "b")])]},
                                        access_log=[file_log(log, "%REQ(:PATH)% %RESPONSE_CODE%\n", log_filter=log_filter)])
            with open(lds + ".tmp", "w") as f:
                json.dump({"version_info": version, "resources": [dict(listener, **{"@type": self.LDS})]}, f)
            os.replace(lds + ".tmp", lds)

        put("l1")
        proxy = ph.Proxy({"node": {"id": "lds-test", "cluster": "lds"},
                          "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
                          "static_resources": {"clusters": [ph.cluster("b", [backend.port])]},
                          "dynamic_resources": {"lds_config": {"path_config_source": {"path": lds}}}})
        self.addCleanup(proxy.cleanup)
        proxy.start()
        ph.wait_for(lambda: ph.get(port, "/first").status == 200, what="the LDS listener")
        ph.wait_for_log_line(log, lambda l: l == "/first 200")
        put("l2", log_filter={"status_code_filter": {"comparison": {"op": "GE", "value": {"default_value": 400}}}})
        ph.wait_for(lambda: proxy.stat("listener_manager.lds.update_rejected") >= 1, what="the rejected update")
        self.assertIn('listener "lds": filter_chains[0].filters[0] (envoy.filters.network.http_connection_manager): '
                      "access_log[0]: filter.status_code_filter.comparison.value.runtime_key: required", proxy.log())
        self.assertEqual(ph.get(port, "/second").status, 200)
        ph.wait_for_log_line(log, lambda l: l == "/second 200")  # the previous listener logs on
        proxy.stop()


class BadAccessLogConfigTest(harness.MonomeshTestCase):
    """Refused at start-up with the field path; exit 1, no crash, no hang."""

    def run_proxy(self, access_log):
        d = harness.TempDir(self)
        route_config = {"name": "local", "virtual_hosts": [ph.vhost("all", ["*"], [ph.direct("/", "ok\n")])]}
        config = ph.bootstrap([ph.http_listener("http", ph.free_port(), route_config, access_log=[access_log])], [])
        path = d.write("bootstrap.json", json.dumps(config))
        r = harness.run("proxy", "-c", path, "--concurrency", "1", "--drain-time-s", "1", timeout=20)
        self.assertNoCrash(r)
        self.assertExit(r, 1)
        return r.stdout + r.stderr

    def test_invalid_filter_names_its_path(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d, True)
        out = self.run_proxy(file_log(os.path.join(d, "a.log"), "x\n", log_filter={"and_filter": {"filters": [
            {"not_health_check_filter": {}},
            {"status_code_filter": {"comparison": {"op": "GE", "value": {"default_value": 400}}}}]}}))
        self.assertIn("access_log[0]: filter.and_filter.filters[1].status_code_filter.comparison.value.runtime_key: required", out)

    def test_unsupported_filter(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d, True)
        out = self.run_proxy(file_log(os.path.join(d, "a.log"), "x\n", log_filter={"metadata_filter": {}}))
        self.assertIn("access_log[0]: filter.metadata_filter: not supported", out)

    def test_unknown_response_flag(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d, True)
        out = self.run_proxy(file_log(os.path.join(d, "a.log"), "x\n", log_filter={"response_flag_filter": {"flags": ["XX"]}}))
        self.assertIn('filter.response_flag_filter.flags[0]: unknown response flag "XX"', out)

    def test_unwritable_path(self):
        out = self.run_proxy(file_log("/nonexistent-dir/a.log", "x\n"))
        self.assertIn("cannot open access log /nonexistent-dir/a.log", out)


if __name__ == "__main__":
    unittest.main()
