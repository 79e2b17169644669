"""Helpers for the `monomesh proxy` integration tests (Python 3 standard library, nginx and curl).

* NginxBackend: a private nginx (`nginx -c CONF -p DIR`, `daemon off; master_process off;`) on a
  free loopback port, every path (pid, logs, temp folders) inside its own temp folder; never the
  system nginx. Its locations answer with fixed text naming the backend, echo request headers
  through nginx variables, return fixed status codes, serve a big file and sink uploads of any size.
* PyBackend: a threaded HTTP/1.1 server (http.server, protocol_version "HTTP/1.1") for what nginx
  cannot do: echo every request header and the body's size/hash as JSON, sleep, fail the first K
  requests, reset the connection mid-response, answer WebSocket upgrades and echo bytes, and count
  (and keep) every request it saw.
* Proxy: `monomesh proxy -c BOOTSTRAP.json --concurrency 2` from a Python dict, ready when admin
  /ready answers 200 (or, without admin, when every listener accepts); stopped with SIGTERM and
  required to exit 0 within 10 s. Access logs are flushed every 100 ms (Envoy's default is 10 s),
  so tests see their lines promptly.
* request()/Client/RawConnection/curl(): HTTP clients with timeouts, from http.client for plain
  exchanges to raw sockets and curl where the exact bytes on the wire matter; Load: continuous
  keep-alive traffic that records every response and failure while a test changes config.

Every wait here is bounded: a proxy or backend that hangs fails the test instead of the suite.
"""
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness

# Seconds for anything (a backend, the proxy) to become ready, and for one HTTP exchange.
READY_TIMEOUT = 10
HTTP_TIMEOUT = 10
STOP_TIMEOUT = 10

HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
FAULT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"
CORS_TYPE = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"
CORS_POLICY_TYPE = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy"
FILE_LOG_TYPE = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"

# The router as Envoy's own docs example (overview "Static") names it: by name, without a
# typed_config. ROUTER_TYPED is the other documented form; proxy_test checks both load.
ROUTER = {"name": "envoy.filters.http.router"}
ROUTER_TYPED = {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}}


class GiveUp(Exception):
    """Raised by a wait_for predicate to stop waiting at once (e.g. the process died)."""


def free_port():
    return harness.free_port()


def wait_for(predicate, timeout=READY_TIMEOUT, interval=0.05, what="a condition"):
    """Calls predicate() until it returns something true (returned) or `timeout` seconds pass
    (AssertionError naming `what` and the last exception, if any)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except GiveUp as e:
            raise AssertionError(str(e)) from None
        except Exception as e:  # noqa: BLE001 - any failure just means "not yet"
            last_error = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s (last error: %r)" % (timeout, what, last_error))
        time.sleep(interval)


def port_accepts(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# nginx backends


def nginx_quote(text):
    """`text` as an nginx double-quoted string (backslash escapes for quote, backslash, newline)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def nginx_text(path, text, status=200, exact=False, headers=None):
    """A location that answers `status` with a fixed text/plain body (nginx variables allowed)."""
    add = "".join(" add_header %s %s always;" % (k, nginx_quote(v)) for k, v in (headers or {}).items())
    return "location %s%s { default_type text/plain;%s return %d %s; }" % (
        "= " if exact else "", path, add, status, nginx_quote(text))


def nginx_echo_headers(path, names):
    """A location that echoes the named request headers, one `name=value` line each
    ($http_<name> variables: an absent header gives an empty value)."""
    lines = "".join("%s=$http_%s\n" % (n.lower(), n.lower().replace("-", "_")) for n in names)
    return nginx_text(path, "uri=$request_uri\nhost=$host\n" + lines)


class NginxBackend:
    """A private nginx on 127.0.0.1 (and [::1] with ipv6=True) at a free port.

    Default locations: `/` answers "<name> <method> <uri>\\n" with header X-Backend-Name;
    /headers echoes common proxy headers; /status/{404,500,503} answer that status;
    /big.bin is a file of `big_file_bytes` random bytes (when > 0); /upload sinks a body of any size
    (client_max_body_size 0) and answers "<name> upload". `extra_locations` are added first.
    The access log (one line per request: method, uri, status, request_length, host) counts requests.
    """

    def __init__(self, name, extra_locations=(), big_file_bytes=0, ipv6=False):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="monomesh-nginx-%s-" % name)
        self.extra_locations = list(extra_locations)
        self.ipv6 = ipv6
        self.port = None
        self.process = None
        self.big_file = None
        self.big_sha256 = None
        if big_file_bytes:
            self.big_file = os.path.join(self.dir, "www", "big.bin")
            os.makedirs(os.path.dirname(self.big_file), exist_ok=True)
            data = os.urandom(big_file_bytes)
            with open(self.big_file, "wb") as f:
                f.write(data)
            self.big_sha256 = hashlib.sha256(data).hexdigest()

    @property
    def access_log(self):
        return os.path.join(self.dir, "access.log")

    @property
    def error_log(self):
        return os.path.join(self.dir, "error.log")

    def _config(self, port):
        d = self.dir
        locations = list(self.extra_locations)
        locations.append(nginx_echo_headers("/headers", ["x-forwarded-for", "x-forwarded-proto", "x-request-id",
                                                          "x-envoy-original-path", "x-foo", "user-agent"]))
        for code in (404, 500, 503):
            locations.append(nginx_text("/status/%d" % code, "%s status %d\n" % (self.name, code), status=code))
        if self.big_file:
            locations.append("location = /big.bin { root %s; default_type application/octet-stream; }"
                             % os.path.join(d, "www"))
        locations.append("location /upload { client_max_body_size 0; default_type text/plain; "
                         "return 200 %s; }" % nginx_quote("%s upload\n" % self.name))
        locations.append("location /store/ { client_max_body_size 0; root %s; dav_methods PUT; "
                         "create_full_put_path on; }" % os.path.join(d, "stored"))
        locations.append(nginx_text("/", "%s $request_method $request_uri\n" % self.name,
                                    headers={"X-Backend-Name": self.name}))
        listen = "listen 127.0.0.1:%d;" % port
        if self.ipv6:
            listen += " listen [::1]:%d;" % port
        temp = "".join("%s_temp_path %s;\n" % (kind, os.path.join(d, kind))
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return """daemon off;
master_process off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 512; }
http {
  log_format counted '$request_method $request_uri $status $request_length $host';
  access_log %(d)s/access.log counted;
  %(temp)s
  keepalive_timeout 60s;
  keepalive_requests 100000;
  client_body_buffer_size 64k;
  server {
    %(listen)s
    server_name %(name)s;
    %(locations)s
  }
}
""" % {"d": d, "temp": temp, "listen": listen, "name": self.name, "locations": "\n    ".join(locations)}

    def start(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        last_log = ""
        for _attempt in range(3):  # a free port can be taken between the check and nginx's bind
            port = free_port()
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self._config(port))
            with open(os.path.join(self.dir, "stderr.log"), "wb") as err:
                self.process = subprocess.Popen([nginx, "-c", conf, "-p", self.dir + "/", "-e", self.error_log],
                                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + READY_TIMEOUT
            while time.monotonic() < deadline and self.process.poll() is None and not port_accepts(port):
                time.sleep(0.02)
            if self.process.poll() is None and port_accepts(port):
                self.port = port
                return self
            self._kill()
            last_log = self._logs()
        raise AssertionError("nginx backend %s did not start: %s" % (self.name, last_log))

    def _logs(self):
        out = ""
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += f.read()[-3000:]
            except OSError:
                pass
        return out

    def _kill(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def stop(self):
        self._kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stored(self, path):
        """The bytes a PUT to `path` (under /store/) left on disk, or None."""
        try:
            with open(os.path.join(self.dir, "stored", path.lstrip("/")), "rb") as f:
                return f.read()
        except OSError:
            return None

    def requests(self):
        """Access log lines so far, as [method, uri, status, request_length, host] lists."""
        try:
            with open(self.access_log, errors="replace") as f:
                return [line.split() for line in f if line.strip()]
        except OSError:
            return []


# ---------------------------------------------------------------------------------------------
# Python backends

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pybackend"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # The head and the body leave in two writes: without this Nagle holds the body until the
        # proxy's delayed ACK (~40 ms a response).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.backend._track(self.connection)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("connection closed inside a chunked body")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(body), True
                body += self.rfile.read(size)
                self.rfile.readline(3)
        length = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(length) if length else b""), False

    def _handle(self):
        backend = self.server.backend
        body, chunked = self._read_body()
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        record = {
            "backend": backend.name,
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "chunked": chunked,
            "body": body[:256].decode("latin-1"),
        }
        with backend.lock:
            backend.requests.append(record)
            n = len(backend.requests)

        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            return self._websocket()

        def arg(name, header):
            if name in query:
                return query[name][0]
            return self.headers.get(header)

        sleep_ms = arg("sleep_ms", "x-backend-sleep-ms") or backend.delay_ms
        if sleep_ms:
            time.sleep(int(sleep_ms) / 1000.0)
        if arg("reset", "x-backend-reset") or backend.reset_all:
            return self._reset()

        stall = arg("stall", "x-backend-stall")
        if stall is not None:
            # Answer `size` bytes: the first `stall` of them at once, the rest when the test opens
            # the gate named `gate` (or after HTTP_TIMEOUT).
            total, first = int(arg("size", "x-backend-size") or 20000), int(stall)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(total))
            self.end_headers()
            self.wfile.write(b"a" * first)
            self.wfile.flush()
            backend.gate(arg("gate", "x-backend-gate") or "default").wait(HTTP_TIMEOUT)
            self.wfile.write(b"b" * (total - first))
            return

        status = int(arg("status", "x-backend-status") or backend.status)
        if n <= backend.fail_first:
            status = backend.fail_status
        size = arg("size", "x-backend-size")
        if size is not None:
            payload = b"x" * int(size)
            content_type = "application/octet-stream"
        else:
            payload = (json.dumps(record) + "\n").encode()
            content_type = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("X-Backend-Name", backend.name)
        for k, v in backend.response_headers.items():
            self.send_header(k, v)
        if arg("chunked_response", "x-backend-chunked-response"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command != "HEAD":
                for i in range(0, len(payload), 1000):
                    piece = payload[i:i + 1000]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        if backend.close_after_response:
            self.close_connection = True  # http.server closes after this response, unannounced

    def _reset(self):
        # Promise a long body, send part of it, then reset the connection (RST, not FIN).
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
            self.wfile.write(b"partial body " * 10)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    def _websocket(self):
        key = self.headers.get("Sec-WebSocket-Key") or ""
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.close_connection = True
        self.wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: %s\r\nX-Backend-Name: %s\r\n\r\n" % (accept, self.server.backend.name))
                         .encode())
        self.connection.settimeout(HTTP_TIMEOUT)
        try:
            while True:
                data = self.rfile.read1(65536)
                if not data:
                    break
                self.wfile.write(data)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # connections the proxy resets or abandons are part of the tests, not errors


class PyBackend:
    """A threaded HTTP/1.1 backend on 127.0.0.1 at a free port.

    Every request is recorded (self.requests: dicts with method, path, headers [[k, v]...],
    body_length, body_sha256, chunked) and answered with that record as JSON, unless:
      * `?sleep_ms=N` / header x-backend-sleep-ms (or delay_ms=N for all): sleep first;
      * `?status=N` / x-backend-status (or status=N for all): answer that status;
      * the first `fail_first` requests answer `fail_status` (503);
      * `?reset=1` / x-backend-reset (or reset_all=True): send part of a body, then reset;
      * `?size=N`: answer N bytes of "x"; `?chunked_response=1`: chunked transfer encoding;
      * `?stall=N&size=M&gate=KEY`: send headers and N of M bytes, the rest once gate(KEY) is set;
      * an `Upgrade: websocket` request: 101 Switching Protocols, then every byte is echoed;
      * close_after_response=True: every connection is closed after its response without a
        `Connection: close` (a server timing out keep-alive connections at the worst moment).
    """

    def __init__(self, name, fail_first=0, fail_status=503, delay_ms=0, status=200, reset_all=False,
                 response_headers=None, close_after_response=False):
        self.name = name
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.delay_ms = delay_ms
        self.status = status
        self.reset_all = reset_all
        self.response_headers = dict(response_headers or {})
        self.close_after_response = close_after_response
        self.lock = threading.Lock()
        self.requests = []
        self._connections = []
        self._gates = {}
        self.server = None
        self.thread = None

    def _track(self, conn):
        with self.lock:
            self._connections.append(conn)

    def gate(self, key):
        """The threading.Event a `?stall=N&gate=KEY` request waits on."""
        with self.lock:
            return self._gates.setdefault(key, threading.Event())

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def count(self):
        with self.lock:
            return len(self.requests)

    def seen(self):
        with self.lock:
            return list(self.requests)

    def start(self):
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.backend = self
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="pybackend-" + self.name, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for c in self._connections:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    c.close()
                except OSError:
                    pass
        self.thread.join(5)
        self.server = None


def closed_port():
    """A loopback port with nothing listening (connections are refused)."""
    return free_port()


# ---------------------------------------------------------------------------------------------
# Bootstrap builders (Envoy v3 JSON)


def cluster(name, endpoints, type="STATIC", lb_policy="ROUND_ROBIN", connect_timeout="1s", **extra):
    """A cluster whose endpoints are ports on 127.0.0.1 or (address, port) pairs."""
    lb_endpoints = []
    for e in endpoints:
        address, port = ("127.0.0.1", e) if isinstance(e, int) else e
        lb_endpoints.append({"endpoint": {"address": {"socket_address": {"address": address, "port_value": port}}}})
    c = {"name": name, "type": type, "lb_policy": lb_policy, "connect_timeout": connect_timeout,
         "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": lb_endpoints}]}}
    c.update(extra)
    return c


def file_access_log(path, text_format=None, json_format=None):
    log_format = {"json_format": json_format} if json_format is not None else {"text_format_source": {"inline_string": text_format}}
    return {"name": "envoy.access_loggers.file", "typed_config": {"@type": FILE_LOG_TYPE, "path": path, "log_format": log_format}}


def http_filter_chain(route_config, stat_prefix="ingress", http_filters=None, router=None, **hcm_extra):
    hcm = {"@type": HCM_TYPE, "stat_prefix": stat_prefix, "codec_type": "AUTO", "route_config": route_config,
           "http_filters": list(http_filters or []) + [router or ROUTER]}
    hcm.update(hcm_extra)
    return {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}


def http_listener(name, port, route_config, stat_prefix=None, http_filters=None, router=None, **hcm_extra):
    return {"name": name, "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [http_filter_chain(route_config, stat_prefix or name, http_filters, router, **hcm_extra)]}


def tcp_listener(name, port, cluster_name, stat_prefix=None):
    return {"name": name, "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {
                "@type": TCP_PROXY_TYPE, "stat_prefix": stat_prefix or name, "cluster": cluster_name}}]}]}


def bootstrap(listeners, clusters, admin_port=None):
    b = {"static_resources": {"listeners": listeners, "clusters": clusters}}
    if admin_port is not None:
        b["admin"] = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}}
    return b


def vhost(name, domains, routes, **extra):
    v = {"name": name, "domains": domains, "routes": routes}
    v.update(extra)
    return v


def route(match, cluster_name=None, name=None, **action):
    """A route: `match` is a RouteMatch dict (or a prefix string); action fields go to `route`."""
    if isinstance(match, str):
        match = {"prefix": match}
    r = {"match": match, "route": dict({"cluster": cluster_name} if cluster_name else {}, **action)}
    if name:
        r["name"] = name
    return r


def direct(match, body, status=200, **extra):
    if isinstance(match, str):
        match = {"prefix": match}
    r = {"match": match, "direct_response": {"status": status, "body": {"inline_string": body}}}
    r.update(extra)
    return r


def percent(n):
    return {"numerator": n, "denominator": "HUNDRED"}


def header_value(key, value, append_action=None):
    h = {"header": {"key": key, "value": value}}
    if append_action:
        h["append_action"] = append_action
    return h


# ---------------------------------------------------------------------------------------------
# HTTP clients


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] as received
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def has_header(self, name):
        return any(k.lower() == name.lower() for k, _ in self.headers)

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        body = self.text
        return "<%d %s %r %r>" % (self.status, self.reason, self.headers, body[:500])


def _exchange(conn, method, path, headers, body):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return Response(r.status, r.reason, r.getheaders(), data), r


class Client:
    """One keep-alive connection (http.client) to a local port; every call has a timeout."""

    def __init__(self, port, timeout=HTTP_TIMEOUT, host="127.0.0.1"):
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def request(self, method="GET", path="/", headers=None, body=None):
        response, raw = _exchange(self.conn, method, path, headers, body)
        self.last_will_close = raw.will_close
        return response

    def get(self, path="/", headers=None):
        return self.request("GET", path, headers)

    @property
    def sock(self):
        return self.conn.sock

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def request(port, method="GET", path="/", headers=None, body=None, timeout=HTTP_TIMEOUT, host="127.0.0.1"):
    """One request on a fresh connection; returns a Response."""
    with Client(port, timeout, host) as c:
        return c.request(method, path, headers, body)


def get(port, path="/", headers=None, **kw):
    return request(port, "GET", path, headers, **kw)


class RawConnection:
    """A raw TCP connection for exact bytes: send() anything, read_response() parses one HTTP/1.1
    response (Content-Length, chunked, or until close; no body for HEAD, 1xx, 204, 304)."""

    def __init__(self, port, timeout=HTTP_TIMEOUT, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode("latin-1"))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by peer (buffered: %r)" % self.buffer[:200])
        self.buffer += chunk

    def read_until(self, marker):
        while marker not in self.buffer:
            self._fill()
        i = self.buffer.index(marker) + len(marker)
        out, self.buffer = self.buffer[:i], self.buffer[i:]
        return out

    def read_exactly(self, n):
        while len(self.buffer) < n:
            self._fill()
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_to_close(self):
        while True:
            try:
                self._fill()
            except EOFError:
                break
        out, self.buffer = self.buffer, b""
        return out

    def read_head(self):
        """Status line and headers: (status, reason, [(name, value)])."""
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers.append((k.strip(), v.strip()))
        return status, reason, headers

    def read_response(self, head_request=False):
        status, reason, headers = self.read_head()
        r = Response(status, reason, headers, b"")
        if head_request or status in (204, 304) or 100 <= status < 200:
            return r
        te = (r.header("transfer-encoding") or "").lower()
        if "chunked" in te:
            body = b""
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0].strip(), 16)
                if size == 0:
                    while self.read_until(b"\r\n") != b"\r\n":
                        pass
                    break
                body += self.read_exactly(size)
                self.read_exactly(2)
            r.body = body
        elif r.header("content-length") is not None:
            r.body = self.read_exactly(int(r.header("content-length")))
        else:
            r.body = self.read_to_close()
        return r

    def is_closed_by_peer(self, timeout=READY_TIMEOUT):
        """True when the peer closes (EOF or reset) within `timeout` with nothing more to read."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return data == b"" and self.buffer == b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Load:
    """Continuous traffic for "no request fails while the config changes" tests: `threads`
    keep-alive clients GET `path` (with Host `host`, if given) until the `with` block ends,
    recording (monotonic time, status, X-Backend-Name) per response and every exception (a
    failed request; the client then reconnects)."""

    def __init__(self, port, host=None, path="/load", threads=2):
        self.port, self.host, self.path = port, host, path
        self.results, self.errors = [], []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self):
        client = Client(self.port)
        headers = {"Host": self.host} if self.host else None
        while not self.stopping.is_set():
            try:
                r = client.get(self.path, headers=headers)
                with self.lock:
                    self.results.append((time.monotonic(), r.status, r.header("x-backend-name")))
            except Exception as e:  # noqa: BLE001 - every failure is a failed request
                with self.lock:
                    self.errors.append(repr(e))
                client.close()
                client = Client(self.port)
        client.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(HTTP_TIMEOUT + 5)

    def backends_since(self, t):
        """X-Backend-Name of the responses received since monotonic time `t`, in order."""
        with self.lock:
            return [b for when, _, b in self.results if when >= t]

    def failures(self):
        """Exceptions and non-200 statuses, as text (empty when every request succeeded)."""
        with self.lock:
            return self.errors + ["status %d" % s for _, s, _ in self.results if s != 200]


def curl(*args, timeout=30, input=None):
    """Runs curl -sS ARGS with a --max-time; returns the CompletedProcess (bytes)."""
    binary = shutil.which("curl")
    if binary is None:
        raise unittest.SkipTest("curl is not installed")
    command = [binary, "-sS", "--max-time", str(timeout)] + [str(a) for a in args]
    try:
        return subprocess.run(command, input=input, capture_output=True, timeout=timeout + 10)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("curl %s did not finish within %ss" % (" ".join(map(str, args)), timeout + 10)) from e


# ---------------------------------------------------------------------------------------------
# The proxy


class Proxy:
    """`monomesh proxy` run from a bootstrap dict (written as JSON).

    start() returns once admin /ready answers 200 (with an admin address) or every listener port
    accepts (without one), within READY_TIMEOUT, or fails with the proxy's log. stop() sends
    SIGTERM and asserts exit code 0 within STOP_TIMEOUT. Its stdout/stderr go to files (never a
    pipe, which could fill up and block the proxy); log() reads them.
    """

    def __init__(self, config, concurrency=2, drain_time_s=3, extra_args=(), config_name="bootstrap.json",
                 listener_ports=None, admin_port=None, file_flush_interval_ms=100):
        self.config = config
        self.file_flush_interval_ms = file_flush_interval_ms
        self.dir = tempfile.mkdtemp(prefix="monomesh-proxy-")
        self.concurrency = concurrency
        self.drain_time_s = drain_time_s
        self.extra_args = list(extra_args)
        self.config_name = config_name
        self.process = None
        self.returncode = None
        if isinstance(config, dict):
            admin = config.get("admin", {}).get("address", {}).get("socket_address")
            self.admin_port = admin["port_value"] if admin else None
            self.listener_ports = [l["address"]["socket_address"]["port_value"]
                                   for l in config.get("static_resources", {}).get("listeners", [])]
        else:
            self.admin_port = admin_port
            self.listener_ports = list(listener_ports or [])

    @property
    def config_path(self):
        return os.path.join(self.dir, self.config_name)

    @property
    def stdout_path(self):
        return os.path.join(self.dir, "stdout.log")

    @property
    def stderr_path(self):
        return os.path.join(self.dir, "stderr.log")

    def write_config(self):
        with open(self.config_path, "w") as f:
            if isinstance(self.config, dict):
                json.dump(self.config, f, indent=1)
                f.write("\n")
            else:
                f.write(self.config)
        return self.config_path

    def command(self):
        return [harness.binary(), "proxy", "-c", self.config_path, "--concurrency", str(self.concurrency),
                "--drain-time-s", str(self.drain_time_s),
                "--file-flush-interval-msec", str(self.file_flush_interval_ms)] + self.extra_args

    def launch(self):
        """Starts the process without waiting for readiness."""
        self.write_config()
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            start_new_session=True)
        return self

    def start(self):
        self.launch()
        try:
            if self.admin_port is not None:
                wait_for(lambda: self._check_alive() and self.admin("/ready", timeout=1).status == 200,
                         what="admin /ready to answer 200")
            for port in self.listener_ports:
                wait_for(lambda: self._check_alive() and port_accepts(port), what="listener port %d" % port)
        except BaseException:
            self.kill()
            raise
        return self

    def _check_alive(self):
        rc = self.process.poll()
        if rc is not None:
            raise GiveUp("monomesh proxy exited with %s before it was ready:\n%s" % (rc, self.log()))
        return True

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log(self):
        out = []
        for path in (self.stdout_path, self.stderr_path):
            try:
                with open(path, errors="replace") as f:
                    out.append(f.read())
            except OSError:
                pass
        text = "".join(out)
        return text if len(text) < 20000 else "...%s" % text[-20000:]

    def signal(self, signo):
        self.process.send_signal(signo)

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for the process to exit; returns its exit code, or None after `timeout`."""
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; asserts a clean exit (code 0) within `timeout` seconds."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            rc = self.wait(timeout)
            if rc is None:
                self.kill()
                raise AssertionError("monomesh proxy did not exit within %ss of SIGTERM (killed):\n%s"
                                     % (timeout, self.log()))
        rc = self.process.returncode
        if rc != 0:
            raise AssertionError("monomesh proxy exited with %s (want 0):\n%s" % (rc, self.log()))
        return rc

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    # Admin.
    def admin(self, path, method="GET", timeout=HTTP_TIMEOUT, body=None):
        return request(self.admin_port, method, path, body=body, timeout=timeout)

    def stats(self):
        """Counters and gauges of /stats as {name: int}."""
        r = self.admin("/stats")
        assert r.status == 200, r
        out = {}
        for line in r.text.splitlines():
            name, sep, value = line.rpartition(": ")
            if sep:
                try:
                    out[name] = int(value)
                except ValueError:
                    pass
        return out

    def stat(self, name, default=0):
        return self.stats().get(name, default)

    def clusters_text(self):
        return self.admin("/clusters").text


def read_lines(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def wait_for_log_line(path, predicate, timeout=READY_TIMEOUT, what="an access log line"):
    """The first line of file `path` for which predicate(line) holds, waiting up to `timeout`."""
    def find():
        for line in read_lines(path):
            if predicate(line):
                return line
        return None
    return wait_for(find, timeout=timeout, what=what + " in " + path)
