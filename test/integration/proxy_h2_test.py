"""`monomesh proxy` over HTTP/2, end to end with real peers: curl, nghttp and h2load as HTTP/2
clients (h2c with prior knowledge, and ALPN "h2" over TLS), HTTP/1.1 and HTTP/2 upstreams, and a
real gRPC client and server (python3-grpcio) through two sidecars joined by mutual TLS, with
streaming, trailers, status codes, deadlines and gRPC retry policies."""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from concurrent import futures

import harness
import proxy_harness as ph
from proxy_tls_test import (CLIENT_ID, SERVER_ID, TLS_INSPECTOR, UPSTREAM_TLS, DOWNSTREAM_TLS, common_tls, listener,
                            make_pki, routes_to)

try:
    import grpc
except ImportError:  # pragma: no cover
    grpc = None
try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings
except ImportError:  # pragma: no cover
    h2 = None

IDENTITY = (lambda b: b)
HTTP2 = {"http2_protocol_options": {}}


def h2_downstream_tls(certs, peer_id=None, require_client=False):
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": DOWNSTREAM_TLS, "require_client_certificate": require_client,
        "common_tls_context": common_tls(certs, peer_id, alpn=("h2", "http/1.1"))}}


def h2_upstream_tls(certs, peer_id, sni):
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": UPSTREAM_TLS, "sni": sni, "common_tls_context": common_tls(certs, peer_id, alpn=("h2",))}}


def run(cmd, timeout=60):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


class FlakyEcho:
    """A python3-grpcio echo server; /test.Echo/Flaky answers UNAVAILABLE to the first `fail`
    calls of each key (metadata x-key); /test.Echo/Slow answers after 2 s (or as many seconds as
    its request says); Unary's x-served-by trailer is `name`."""

    def __init__(self, fail=2, name="python"):
        self.fail = fail
        self.name = name
        self.calls = {}
        self.lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        self.server.add_generic_rpc_handlers((self._handlers(),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def _handlers(self):
        def unary(request, context):
            context.set_trailing_metadata((("x-served-by", self.name),))
            return request

        def fail(request, context):
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "no entry: 100% closed")

        def flaky(request, context):
            key = dict(context.invocation_metadata()).get("x-key", "")
            with self.lock:
                n = self.calls[key] = self.calls.get(key, 0) + 1
            if n <= self.fail:
                context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
            return request

        def stream(request, context):
            for i in range(int(request.decode())):
                yield b"item-%d" % i

        def bidi(requests, context):
            for r in requests:
                yield b"echo:" + r

        def slow(request, context):
            try:
                seconds = float(request)
            except ValueError:
                seconds = 2
            threading.Event().wait(seconds)
            return request

        def headers(request, context):
            # What reached the server: its metadata (grpc-timeout is consumed by grpcio, so its
            # remaining time comes back as "deadline-ms").
            seen = dict(context.invocation_metadata())
            remaining = context.time_remaining()
            if remaining is not None:
                seen["deadline-ms"] = int(remaining * 1000)
            return json.dumps(seen).encode()

        h = grpc
        return grpc.method_handlers_generic_handler("test.Echo", {
            "Unary": h.unary_unary_rpc_method_handler(unary, IDENTITY, IDENTITY),
            "Fail": h.unary_unary_rpc_method_handler(fail, IDENTITY, IDENTITY),
            "Flaky": h.unary_unary_rpc_method_handler(flaky, IDENTITY, IDENTITY),
            "Stream": h.unary_stream_rpc_method_handler(stream, IDENTITY, IDENTITY),
            "Bidi": h.stream_stream_rpc_method_handler(bidi, IDENTITY, IDENTITY),
            "Slow": h.unary_unary_rpc_method_handler(slow, IDENTITY, IDENTITY),
            "Headers": h.unary_unary_rpc_method_handler(headers, IDENTITY, IDENTITY),
        })


class ProxyHttp2Test(harness.MonomeshTestCase):
    @classmethod
    def setUpClass(cls):
        harness.binary()
        for tool in ("curl", "nghttp", "h2load", "openssl"):
            if not shutil.which(tool):
                raise unittest.SkipTest("%s is not installed (scripts/setup.sh installs it)" % tool)
        cls.pki = tempfile.mkdtemp(prefix="monomesh-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.pki, True)
        make_pki(cls.pki)
        cls.echo = ph.PyBackend("echo")
        cls.echo.start()
        cls.addClassCleanup(cls.echo.stop)
        cls.shadow = ph.PyBackend("shadow")
        cls.shadow.start()
        cls.addClassCleanup(cls.shadow.stop)
        server, client = os.path.join(cls.pki, "server"), os.path.join(cls.pki, "client")
        cls.h2c, cls.h2tls, cls.h1_to_h2, cls.admin = (ph.free_port() for _ in range(4))
        cls.proxy = ph.Proxy(ph.bootstrap([
            ph.http_listener("h2c", cls.h2c, {"virtual_hosts": [ph.vhost("all", ["*"], [
                ph.route("/mirrored", "echo", request_mirror_policies=[{"cluster": "shadow"}]),
                ph.route("/", "echo")])]}),
            listener("h2tls", cls.h2tls, [dict(ph.http_filter_chain(routes_to("echo"), "h2tls"),
                                              transport_socket=h2_downstream_tls(server))]),
            # HTTP/1.1 in, HTTP/2 over TLS out (to the h2tls listener above), as a client sidecar.
            ph.http_listener("h1_to_h2", cls.h1_to_h2, routes_to("h2-upstream")),
        ], [ph.cluster("echo", [cls.echo.port]), ph.cluster("shadow", [cls.shadow.port]),
            ph.cluster("h2-upstream", [cls.h2tls], transport_socket=h2_upstream_tls(client, SERVER_ID, "reviews"),
                       **HTTP2)], admin_port=cls.admin))
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.stop)

    def test_h2c_prior_knowledge_to_an_http1_upstream(self):
        out = run(["curl", "-sS", "--http2-prior-knowledge", "-D", "-", "http://127.0.0.1:%d/h2c?x=1" % self.h2c])
        self.assertEqual(out.returncode, 0, out.stderr)
        head, _, body = out.stdout.partition("\n\n")
        self.assertTrue(head.startswith("HTTP/2 200"), head)
        self.assertIn("x-envoy-upstream-service-time", head)
        record = json.loads(body)
        self.assertEqual(record["path"], "/h2c?x=1")
        headers = {k.lower(): v for k, v in record["headers"]}
        self.assertEqual(headers["host"], "127.0.0.1:%d" % self.h2c)
        self.assertEqual(headers["x-forwarded-proto"], "http")
        self.assertIn("x-request-id", headers)

    def test_request_body_streams_to_http1_upstream(self):
        body = os.urandom(300 * 1024)
        path = os.path.join(tempfile.mkdtemp(), "body")
        with open(path, "wb") as f:
            f.write(body)
        out = run(["curl", "-sS", "--http2-prior-knowledge", "--data-binary", "@" + path,
                   "-H", "content-type: application/octet-stream", "http://127.0.0.1:%d/upload" % self.h2c])
        self.assertEqual(out.returncode, 0, out.stderr)
        record = json.loads(out.stdout)
        self.assertEqual(record["body_length"], len(body))
        self.assertEqual(record["body_sha256"], hashlib.sha256(body).hexdigest())

    def test_alpn_h2_over_tls(self):
        out = run(["curl", "-sS", "-k", "--http2", "-D", "-", "https://127.0.0.1:%d/tls" % self.h2tls])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("HTTP/2 200"), out.stdout[:200])
        headers = {k.lower(): v for k, v in json.loads(out.stdout.partition("\n\n")[2])["headers"]}
        self.assertEqual(headers["x-forwarded-proto"], "https")

    def test_http1_still_served_on_the_same_ports(self):
        self.assertEqual(ph.get(self.h2c, "/one").status, 200)
        out = run(["curl", "-sS", "-k", "--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                   "https://127.0.0.1:%d/tls1" % self.h2tls])
        self.assertEqual(out.stdout, "1.1 200", out.stderr)

    def test_http1_client_to_an_http2_upstream(self):
        response = ph.get(self.h1_to_h2, "/translated?q=1", headers={"x-custom": "yes"})
        self.assertEqual(response.status, 200)
        record = response.json()
        self.assertEqual(record["path"], "/translated?q=1")
        headers = {k.lower(): v for k, v in record["headers"]}
        self.assertEqual(headers["x-custom"], "yes")
        # The first hop set it (plain HTTP in); later hops keep it, as Envoy does without use_remote_address.
        self.assertEqual(headers["x-forwarded-proto"], "http")
        self.assertGreaterEqual(self.proxy.stat("cluster.h2-upstream.ssl.handshake"), 1)
        self.assertGreaterEqual(self.proxy.stat("cluster.h2-upstream.upstream_rq_2xx"), 1)

    def test_http1_chunked_body_to_an_http2_upstream(self):
        body = os.urandom(200 * 1024)
        path = os.path.join(tempfile.mkdtemp(), "body")
        with open(path, "wb") as f:
            f.write(body)
        out = run(["curl", "-sS", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + path,
                   "http://127.0.0.1:%d/chunked" % self.h1_to_h2])
        self.assertEqual(out.returncode, 0, out.stderr)
        record = json.loads(out.stdout)
        self.assertEqual(record["body_length"], len(body))
        self.assertEqual(record["body_sha256"], hashlib.sha256(body).hexdigest())

    def test_requests_are_mirrored_over_h2(self):
        out = run(["curl", "-sS", "--http2-prior-knowledge", "--data-binary", "shadow me",
                   "http://127.0.0.1:%d/mirrored/x" % self.h2c])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["body"], "shadow me")
        ph.wait_for(lambda: any(r["path"] == "/mirrored/x" for r in self.shadow.seen()), what="the shadow copy")
        record = [r for r in self.shadow.seen() if r["path"] == "/mirrored/x"][0]
        headers = {k.lower(): v for k, v in record["headers"]}
        self.assertEqual(headers["host"], "127.0.0.1-shadow:%d" % self.h2c)
        self.assertEqual(record["body"], "shadow me")

    def test_nghttp_concurrent_streams(self):
        urls = ["http://127.0.0.1:%d/stream-%d" % (self.h2c, i) for i in range(20)]
        out = run(["nghttp", "-v"] + urls)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(out.stdout.count(":status: 200"), 20, out.stdout[-2000:])
        self.assertEqual(len({line.split("stream_id=")[1].split(")")[0] for line in out.stdout.splitlines()
                              if ":status: 200" in line}), 20)

    def test_h2load_many_streams(self):
        out = run(["h2load", "-n", "3000", "-c", "4", "-m", "16", "http://127.0.0.1:%d/load" % self.h2c])
        self.assertIn("3000 succeeded, 0 failed", out.stdout, out.stdout)
        self.assertIn("3000 2xx", out.stdout)

    def test_garbage_after_the_preface_is_closed(self):
        import socket
        with socket.create_connection(("127.0.0.1", self.h2c), timeout=5) as s:
            s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x04\x08\x00\x00\x00\x00\x00garbage-garbage")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        # SETTINGS, then GOAWAY (type 7), then the close: no hang, no crash; counted.
        self.assertIn(b"\x07", data)
        self.assertEqual(ph.get(self.h2c, "/still-alive").status, 200)
        ph.wait_for(lambda: self.proxy.stat("http2.rx_messaging_error") >= 1, what="http2.rx_messaging_error")

    def test_rapid_reset_is_closed_and_counted(self):
        import socket
        preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
        flood = bytearray(preface)
        for sid in range(1, 2 * 400, 2):
            block = b"\x82\x86\x84\x41\x01a"  # GET http / authority a (HPACK static entries)
            flood += len(block).to_bytes(3, "big") + b"\x01\x04" + sid.to_bytes(4, "big") + block
            flood += b"\x00\x00\x04\x03\x00" + sid.to_bytes(4, "big") + b"\x00\x00\x00\x08"
        with socket.create_connection(("127.0.0.1", self.h2c), timeout=5) as s:
            s.sendall(bytes(flood))
            try:
                while s.recv(65536):
                    pass
            except ConnectionResetError:
                pass
        ph.wait_for(lambda: self.proxy.stat("http2.rx_reset_flood") >= 1, what="http2.rx_reset_flood")
        self.assertEqual(ph.get(self.h2c, "/still-alive").status, 200)


@unittest.skipIf(grpc is None, "python3-grpcio is not installed (scripts/setup.sh installs it)")
class GrpcThroughSidecarsTest(harness.MonomeshTestCase):
    """client -> sidecar A (h2c) -> mutual TLS, HTTP/2 -> sidecar B -> HTTP/2 -> gRPC server."""

    @classmethod
    def setUpClass(cls):
        harness.binary()
        cls.pki = tempfile.mkdtemp(prefix="monomesh-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.pki, True)
        make_pki(cls.pki)
        cls.backend = FlakyEcho(fail=2)
        cls.backend.server.start()
        cls.addClassCleanup(cls.backend.server.stop, 0)
        server, client = os.path.join(cls.pki, "server"), os.path.join(cls.pki, "client")
        cls.a_port, cls.b_port, cls.a_admin, cls.b_admin = (ph.free_port() for _ in range(4))
        retry = {"retry_on": "unavailable,cancelled", "num_retries": 3}
        cls.b = ph.Proxy(ph.bootstrap([
            listener("inbound", cls.b_port, [dict(ph.http_filter_chain(routes_to("grpc-server"), "inbound"),
                                                  transport_socket=h2_downstream_tls(server, CLIENT_ID, True))]),
        ], [ph.cluster("grpc-server", [cls.backend.port], **HTTP2)], admin_port=cls.b_admin))
        cls.b.start()
        cls.addClassCleanup(cls.b.stop)
        cls.a = ph.Proxy(ph.bootstrap([
            ph.http_listener("outbound", cls.a_port, {"virtual_hosts": [ph.vhost("grpc", ["*"], [
                ph.route({"prefix": "/test.Echo/Flaky"}, "to-b", retry_policy=retry),
                ph.route({"prefix": "/test.Echo/Slow"}, "to-b", timeout="0.3s"),
                ph.route("/", "to-b")])]}),
        ], [ph.cluster("to-b", [cls.b_port], transport_socket=h2_upstream_tls(client, SERVER_ID, "reviews"), **HTTP2)],
            admin_port=cls.a_admin))
        cls.a.start()
        cls.addClassCleanup(cls.a.stop)
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % cls.a_port)
        cls.addClassCleanup(cls.channel.close)

    def call(self, kind, name):
        return getattr(self.channel, kind)("/test.Echo/" + name, request_serializer=IDENTITY,
                                            response_deserializer=IDENTITY)

    def test_unary_with_trailers(self):
        response, call = self.call("unary_unary", "Unary").with_call(b"hello", timeout=10)
        self.assertEqual(response, b"hello")
        self.assertIn(("x-served-by", "python"), tuple(call.trailing_metadata()))
        self.assertGreaterEqual(self.a.stat("cluster.to-b.ssl.handshake"), 1)

    def test_error_status_and_message_pass_through(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.call("unary_unary", "Fail")(b"x", timeout=10)
        self.assertEqual(err.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(err.exception.details(), "no entry: 100% closed")

    def test_server_streaming(self):
        items = list(self.call("unary_stream", "Stream")(b"500", timeout=10))
        self.assertEqual(len(items), 500)
        self.assertEqual(items[-1], b"item-499")

    def test_bidi_streaming(self):
        replies = list(self.call("stream_stream", "Bidi")(iter([b"m%d" % i for i in range(50)]), timeout=10))
        self.assertEqual(replies, [b"echo:m%d" % i for i in range(50)])

    def test_large_message(self):
        body = os.urandom(2 * 1024 * 1024)
        self.assertEqual(self.call("unary_unary", "Unary")(body, timeout=20), body)

    def test_grpc_retry_on_unavailable(self):
        before = self.a.stat("cluster.to-b.upstream_rq_retry")
        response = self.call("unary_unary", "Flaky")(b"again", timeout=10, metadata=(("x-key", "retry-1"),))
        self.assertEqual(response, b"again")
        self.assertEqual(self.a.stat("cluster.to-b.upstream_rq_retry") - before, 2)

    def test_route_timeout_is_504_deadline(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.call("unary_unary", "Slow")(b"x", timeout=10)
        # Envoy's local reply for gRPC: trailers-only, 504 mapped to UNAVAILABLE, the text as grpc-message.
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(err.exception.details(), "upstream request timeout")
        self.assertGreaterEqual(self.a.stat("cluster.to-b.upstream_rq_timeout"), 1)

    def test_client_deadline(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.call("unary_unary", "Slow")(b"x", timeout=0.1)
        self.assertEqual(err.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)


@unittest.skipIf(grpc is None, "python3-grpcio is not installed (scripts/setup.sh installs it)")
class GrpcTimeoutTest(harness.MonomeshTestCase):
    """max_grpc_timeout and grpc_timeout_offset: a gRPC client's deadline (grpc-timeout) sets the
    route timeout, capped by max_grpc_timeout (0: no cap), less the offset. /test.Echo/Slow answers
    after 2 s; the route's own timeout (0.3 s) is what non-gRPC requests get. Routes are picked by
    the x-case metadata."""

    @classmethod
    def setUpClass(cls):
        harness.binary()
        cls.backend = FlakyEcho()
        cls.backend.server.start()
        cls.addClassCleanup(cls.backend.server.stop, 0)
        cls.port, cls.admin = ph.free_port(), ph.free_port()

        def case(name, **action):
            return ph.route({"prefix": "/", "headers": [{"name": "x-case", "exact_match": name}]}, "grpc",
                            timeout="0.3s", **action)
        cls.proxy = ph.Proxy(ph.bootstrap([
            ph.http_listener("grpc", cls.port, {"virtual_hosts": [ph.vhost("grpc", ["*"], [
                case("uncapped", max_grpc_timeout="0s"),
                case("capped", max_grpc_timeout="0.5s"),
                case("offset", max_grpc_timeout="0s", grpc_timeout_offset="1s"),
                case("plain"),
            ])]}),
        ], [ph.cluster("grpc", [cls.backend.port], **HTTP2)], admin_port=cls.admin))
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.stop)
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % cls.port)
        cls.addClassCleanup(cls.channel.close)

    def call(self, name, case, timeout=None, body=b"x"):
        method = self.channel.unary_unary("/test.Echo/" + name, request_serializer=IDENTITY,
                                          response_deserializer=IDENTITY)
        return method(body, timeout=timeout, metadata=(("x-case", case),))

    def assert_proxy_timeout(self, name, case, timeout=None, upstream_told=False):
        """The call ends at the proxy's deadline, well before Slow's 2 s answer. With
        `upstream_told`, the server got that deadline as its grpc-timeout too, and either end
        may give up first: the proxy's 504 (UNAVAILABLE) or the server's DEADLINE_EXCEEDED."""
        started = time.monotonic()
        with self.assertRaises(grpc.RpcError) as err:
            self.call(name, case, timeout)
        self.assertLess(time.monotonic() - started, 1.9)
        if upstream_told and err.exception.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            return
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(err.exception.details(), "upstream request timeout")

    def test_client_deadline_replaces_the_route_timeout(self):
        self.assertEqual(self.call("Slow", "uncapped", timeout=10), b"x")
        # Without max_grpc_timeout the route's 0.3 s stands.
        self.assert_proxy_timeout("Slow", "plain", timeout=10)

    def test_no_client_deadline_and_no_cap_means_no_timeout(self):
        self.assertEqual(self.call("Slow", "uncapped"), b"x")

    def test_max_grpc_timeout_caps_the_deadline_and_a_missing_one(self):
        self.assert_proxy_timeout("Slow", "capped", timeout=10, upstream_told=True)
        self.assert_proxy_timeout("Slow", "capped", upstream_told=True)
        # A shorter client deadline is the client's own.
        with self.assertRaises(grpc.RpcError) as err:
            self.call("Slow", "capped", timeout=0.1)
        self.assertEqual(err.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_offset_leaves_the_proxy_time_to_answer_first(self):
        # 2.5 s from the client, less 1 s: the proxy gives up at 1.5 s, before the 2 s answer and
        # before the client's own deadline.
        self.assert_proxy_timeout("Slow", "offset", timeout=2.5, upstream_told=True)

    def test_the_upstream_is_told_the_deadline(self):
        seen = json.loads(self.call("Headers", "capped", timeout=10))
        self.assertEqual(seen["x-envoy-expected-rq-timeout-ms"], "500")
        self.assertLessEqual(seen["deadline-ms"], 500)  # grpc-timeout rewritten to the cap
        seen = json.loads(self.call("Headers", "offset", timeout=5))
        self.assertTrue(3500 < int(seen["x-envoy-expected-rq-timeout-ms"]) <= 4100, seen)  # 5 s less 1 s
        seen = json.loads(self.call("Headers", "plain", timeout=10))
        self.assertEqual(seen["x-envoy-expected-rq-timeout-ms"], "300")
        self.assertGreater(seen["deadline-ms"], 5000)  # grpc-timeout untouched without max_grpc_timeout

    def test_unreadable_grpc_timeout_counts_as_none(self):
        # A raw HTTP/2 request with a bad grpc-timeout: no deadline, so the cap (0.5 s) applies (and
        # is sent upstream as its grpc-timeout, so the server may give up first).
        started = time.monotonic()
        out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-D", "-",
                              "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", "x-case: capped",
                              "-H", "grpc-timeout: soon", "--data-binary", "@-",
                              "http://127.0.0.1:%d/test.Echo/Slow" % self.port],
                             input=b"\0\0\0\0\1x", capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertLess(time.monotonic() - started, 1.9)
        self.assertTrue(b"grpc-message: upstream request timeout" in out.stdout or b"grpc-status: 4\r\n" in out.stdout,
                        out.stdout)


class H2Client:
    """A python3-h2 client connection, read by hand: the server's SETTINGS, then events."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        # (The proxy is what is tested: the client sends what it is told, a plain CONNECT included.)
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
            client_side=True, validate_outbound_headers=False))
        self.conn.initiate_connection()
        self.flush()
        self.pending = []
        self.settings = None
        self.wait_for(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def events(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the proxy closed the connection")
        events = self.conn.receive_data(data)
        for e in events:
            if isinstance(e, h2.events.RemoteSettingsChanged):
                self.settings = {int(k): v.new_value for k, v in e.changed_settings.items()}
            if isinstance(e, h2.events.DataReceived):
                self.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        self.flush()
        return events

    def wait_for(self, predicate):
        while True:
            for i, e in enumerate(self.pending):
                if predicate(e):
                    del self.pending[i]
                    return e
            self.pending.extend(self.events())

    def connect(self, path="/ws", protocol="websocket"):
        stream = self.conn.get_next_available_stream_id()
        if protocol:
            headers = [(":method", "CONNECT"), (":protocol", protocol), (":scheme", "http"), (":path", path),
                       (":authority", "example.com"), ("sec-websocket-version", "13")]
        else:  # a plain CONNECT names only the authority (RFC 9113 8.5)
            headers = [(":method", "CONNECT"), (":authority", "example.com:443")]
        self.conn.send_headers(stream, headers)
        self.flush()
        return stream

    def response(self, stream):
        """The response headers as a dict, or the StreamReset that came instead."""
        e = self.wait_for(lambda e: getattr(e, "stream_id", None) == stream and isinstance(
            e, (h2.events.ResponseReceived, h2.events.StreamReset)))
        if isinstance(e, h2.events.StreamReset):
            return e
        return {k.decode(): v.decode() for k, v in e.headers}

    def send(self, stream, data, end=False):
        """Sends in frames the peer takes, waiting for window updates as flow control asks."""
        while True:
            room = min(self.conn.local_flow_control_window(stream), self.conn.max_outbound_frame_size)
            if room == 0 and data:
                self.pending.extend(self.events())
                continue
            piece, data = data[:room], data[room:]
            self.conn.send_data(stream, piece, end_stream=end and not data)
            self.flush()
            if not data:
                return

    def receive(self, stream, size):
        got = b""
        while len(got) < size:
            e = self.wait_for(lambda e: getattr(e, "stream_id", None) == stream and isinstance(
                e, (h2.events.DataReceived, h2.events.StreamEnded, h2.events.StreamReset)))
            if not isinstance(e, h2.events.DataReceived):
                raise AssertionError("the stream ended after %d of %d bytes: %r" % (len(got), size, e))
            got += e.data
        return got

    def close(self):
        self.sock.close()


@unittest.skipIf(h2 is None, "python3-h2 is not installed (scripts/setup.sh installs it)")
class ExtendedConnectTest(harness.MonomeshTestCase):
    """RFC 8441 WebSocket over HTTP/2 downstream, HTTP/1.1 Upgrade upstream (PyBackend echoes
    every byte after its 101)."""

    @classmethod
    def setUpClass(cls):
        harness.binary()
        cls.ws = ph.PyBackend("ws")
        cls.ws.start()
        cls.addClassCleanup(cls.ws.stop)
        cls.allowed, cls.no_ws, cls.no_connect, cls.admin = (ph.free_port() for _ in range(4))
        routes = {"virtual_hosts": [ph.vhost("all", ["*"], [ph.route("/down", "down"), ph.route("/", "ws")])]}
        ws = [{"upgrade_type": "websocket"}]
        allow = {"allow_connect": True}
        cls.proxy = ph.Proxy(ph.bootstrap([
            ph.http_listener("allowed", cls.allowed, routes, upgrade_configs=ws, http2_protocol_options=allow,
                             stream_idle_timeout="1s"),
            ph.http_listener("no_ws", cls.no_ws, routes, http2_protocol_options=allow),
            ph.http_listener("no_connect", cls.no_connect, routes, upgrade_configs=ws),
        ], [ph.cluster("ws", [cls.ws.port]), ph.cluster("down", [ph.closed_port()])], admin_port=cls.admin))
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.stop)

    def client(self, port):
        c = H2Client(port)
        self.addCleanup(c.close)
        return c

    def test_enable_connect_protocol_is_advertised_only_with_allow_connect(self):
        enable = h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL
        self.assertEqual(self.client(self.allowed).settings.get(enable), 1)
        self.assertNotIn(enable, self.client(self.no_connect).settings)

    def test_websocket_tunnel_both_ways(self):
        c = self.client(self.allowed)
        stream = c.connect()
        response = c.response(stream)
        self.assertEqual(response[":status"], "200", response)
        self.assertEqual(response.get("x-backend-name"), "ws")
        self.assertNotIn("upgrade", response)
        self.assertNotIn("connection", response)
        for message in (b"hello", b"x" * 100000, b"bye"):
            c.send(stream, message)
            self.assertEqual(c.receive(stream, len(message)), message)
        # The client's END_STREAM half-closes the upstream, which then closes: the stream ends.
        c.send(stream, b"", end=True)
        c.wait_for(lambda e: isinstance(e, h2.events.StreamEnded) and e.stream_id == stream)
        # Streams of the same connection go on.
        again = c.connect()
        self.assertEqual(c.response(again)[":status"], "200")
        c.send(again, b"again")
        self.assertEqual(c.receive(again, 5), b"again")

    def test_a_client_reset_closes_the_tunnel(self):
        c = self.client(self.allowed)
        stream = c.connect()
        self.assertEqual(c.response(stream)[":status"], "200")
        closed = self.proxy.stat("cluster.ws.upstream_cx_destroy")
        c.conn.reset_stream(stream)
        c.flush()
        ph.wait_for(lambda: self.proxy.stat("cluster.ws.upstream_cx_destroy") > closed, what="the upstream to close")
        other = c.connect()
        self.assertEqual(c.response(other)[":status"], "200")
        c.send(other, b"still")
        self.assertEqual(c.receive(other, 5), b"still")

    def test_a_silent_tunnel_ends_at_the_stream_idle_timeout(self):
        c = self.client(self.allowed)
        stream = c.connect()
        self.assertEqual(c.response(stream)[":status"], "200")
        c.send(stream, b"ping")
        self.assertEqual(c.receive(stream, 4), b"ping")
        started = time.monotonic()
        c.wait_for(lambda e: isinstance(e, h2.events.StreamReset) and e.stream_id == stream)
        self.assertLess(time.monotonic() - started, 5)

    def test_websocket_must_be_enabled(self):
        c = self.client(self.no_ws)
        response = c.response(c.connect())
        self.assertEqual(response[":status"], "403", response)

    def test_plain_connect_and_other_protocols_are_refused(self):
        c = self.client(self.allowed)
        self.assertEqual(c.response(c.connect(protocol=None))[":status"], "403")
        self.assertEqual(c.response(c.connect(protocol="bytestream"))[":status"], "403")

    def test_without_the_setting_the_protocol_pseudo_header_is_a_stream_error(self):
        c = self.client(self.no_connect)
        reset = c.response(c.connect())
        self.assertIsInstance(reset, h2.events.StreamReset)
        self.assertEqual(ph.get(self.no_connect, "/").status, 200)  # the proxy serves on

    def test_upstream_unreachable_is_503(self):
        c = self.client(self.allowed)
        response = c.response(c.connect(path="/down"))
        self.assertEqual(response[":status"], "503", response)


if __name__ == "__main__":
    unittest.main()
