#!/usr/bin/env python3
"""A Kubernetes API-server double for tests (python3 standard library only).

It speaks the real protocol over TLS: cluster-wide LIST with limit/continue paging, WATCH with
resourceVersion semantics as chunked JSON event lines (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR),
410 Gone for a compacted version (as an ERROR event, as the API server does, or as an HTTP
status), a bearer-token (or client-certificate) check, and timeoutSeconds. Single objects can be
read (GET .../[namespaces/NS/]PLURAL/NAME), created (POST to the collection: 409 when it exists)
and replaced (PUT: 409 when metadata.resourceVersion is not the current one), as a controller
such as Galley's webhook registration does.

The test drives it through stdin/stdout, one JSON object per line each way. On start it writes
{"port": N, "ca": ..., "client_cert": ..., "client_key": ...}; then every command gets one reply:
  {"op": "put", "object": {...}}           add or replace an object -> {"rv": "123"}
  {"op": "delete", "apiVersion": "v1", "kind": "Service", "namespace": "ns", "name": "n"}
  {"op": "drop_watches"}                    close open watches abruptly (no last chunk)
  {"op": "disconnect"} / {"op": "reconnect"}  answer 503 to every request in between
  {"op": "compact", "mode": "event"|"status"}  versions before now are gone (410)
  {"op": "bookmark"}                        send a BOOKMARK to watches that allow them
  {"op": "inject", "path": "/api/v1/services", "line": "..."}  a raw line to open watches
  {"op": "set_token", "token": "..."}
  {"op": "get", "apiVersion": ..., "kind": ..., "namespace": "ns", "name": "n"} -> {"object": ...|null}
  {"op": "stats"}                           request counts per collection path (and writes)
  {"op": "quit"}
Certificates are made with the openssl command in --dir at start.
"""
import argparse
import base64
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

KINDS = {  # plural -> kind, for empty lists and Status objects
    "services": "Service", "endpoints": "Endpoints", "pods": "Pod", "nodes": "Node",
    "namespaces": "Namespace", "secrets": "Secret", "configmaps": "ConfigMap",
    "virtualservices": "VirtualService", "destinationrules": "DestinationRule", "gateways": "Gateway",
    "serviceentries": "ServiceEntry", "sidecars": "Sidecar", "envoyfilters": "EnvoyFilter",
    "policies": "Policy", "meshpolicies": "MeshPolicy", "serviceroles": "ServiceRole",
    "servicerolebindings": "ServiceRoleBinding", "rbacconfigs": "RbacConfig",
    "clusterrbacconfigs": "ClusterRbacConfig", "deployments": "Deployment",
    "validatingwebhookconfigurations": "ValidatingWebhookConfiguration",
    "mutatingwebhookconfigurations": "MutatingWebhookConfiguration",
}
PLURALS = {kind: plural for plural, kind in KINDS.items()}


def make_certs(folder):
    def run(*args):
        subprocess.run(["openssl", *args], check=True, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=kube-test-ca")
    for name, ext in (("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(folder, name + ".ext"), "w") as f:
            f.write(ext)
        run("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext")


def collection_of(api_version, kind):
    plural = PLURALS[kind]
    return ("/api/" if "/" not in api_version else "/apis/") + api_version + "/" + plural


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class State:
    def __init__(self, token):
        self.lock = threading.Condition()
        self.token = token
        self.rv = 100
        self.objects = {}    # path -> {(ns, name): object}
        self.log = {}        # path -> [(rv, line)]
        self.compacted = 0
        self.gone_mode = "event"
        self.drop_generation = 0
        self.bookmark_rv = 0
        self.disconnected = False
        self.snapshots = {}  # continue id -> (rv, [objects])
        self.lists = {}
        self.watches = {}
        self.unauthorized = 0
        self.writes = []     # [(method, path)]

    def store(self, obj, existing=None):
        """Adds or replaces `obj` in its collection with a new resourceVersion; returns it."""
        path = collection_of(obj["apiVersion"], obj["kind"])
        md = obj.setdefault("metadata", {})
        key = (md.get("namespace", ""), md["name"])
        objects = self.objects.setdefault(path, {})
        event = "MODIFIED" if key in objects else "ADDED"
        self.rv += 1
        md["resourceVersion"] = str(self.rv)
        md.setdefault("uid", objects[key]["metadata"]["uid"] if key in objects else str(uuid.uuid4()))
        md.setdefault("creationTimestamp", "2019-03-01T00:00:00Z")
        objects[key] = obj
        self.record(path, event, obj)
        return obj

    def record(self, path, kind, obj):
        self.log.setdefault(path, []).append((self.rv, json.dumps({"type": kind, "object": obj})))
        self.lock.notify_all()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test reads stdout
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def refused(self, state):
        """Answers 503 while disconnected and 401 without credentials (call with the lock held)."""
        if state.disconnected:
            self.send_json(503, status(503, "ServiceUnavailable", "the double is disconnected"))
            return True
        if not self.authorized(state):
            state.unauthorized += 1
            self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
            return True
        return False

    def authorized(self, state):
        if self.headers.get("Authorization", "") == "Bearer " + state.token and state.token:
            return True
        return bool(self.connection.getpeercert())  # a client certificate our CA signed

    def object_path(self):
        """(collection path, (namespace, name), apiVersion, plural) for a single-object path, or None."""
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        if parts[0] == "api":
            group_version, rest = parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) > 2:
            group_version, rest = parts[1] + "/" + parts[2], parts[3:]
        else:
            return None
        namespace = ""
        if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) in (3, 4):
            namespace, rest = rest[1], rest[2:]
        if len(rest) not in (1, 2) or rest[0] not in KINDS:
            return None
        name = rest[1] if len(rest) == 2 else None
        return collection_of(group_version, KINDS[rest[0]]), (namespace, name), group_version, rest[0]

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        try:
            return json.loads(self.rfile.read(length))
        except ValueError:
            return None

    def write(self, method):
        state = self.server.state
        target = self.object_path()
        body = self.read_body()
        with state.lock:
            if self.refused(state):
                return None
            if target is None or not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
                return self.send_json(400, status(400, "BadRequest", "not an object for a known collection"))
            path, (namespace, name), group_version, plural = target
            body["apiVersion"], body["kind"] = group_version, KINDS[plural]
            if namespace:
                body["metadata"]["namespace"] = namespace
            else:
                body["metadata"].pop("namespace", None)
            key = (namespace, body["metadata"].get("name", ""))
            current = state.objects.get(path, {}).get(key)
            state.writes.append((method, path + "/" + key[1]))
            if method == "POST":
                if name is not None:
                    return self.send_json(405, status(405, "MethodNotAllowed", "POST goes to the collection"))
                if current is not None:
                    return self.send_json(409, status(409, "AlreadyExists", "%s %r already exists" % (plural, key[1])))
                body["metadata"].pop("resourceVersion", None)
                return self.send_json(201, state.store(body))
            if name != key[1]:
                return self.send_json(400, status(400, "BadRequest", "the name in the body differs from the path"))
            if current is None:
                return self.send_json(404, status(404, "NotFound", "%s %r not found" % (plural, name)))
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return self.send_json(409, status(409, "Conflict", "the object has been modified"))
            body["metadata"]["uid"] = current["metadata"]["uid"]
            return self.send_json(200, state.store(body))

    def do_POST(self):
        self.write("POST")

    def do_PUT(self):
        self.write("PUT")

    def do_GET(self):
        state = self.server.state
        url = urllib.parse.urlsplit(self.path)
        target = self.object_path()
        if target is not None and target[1][1] is not None:  # one object
            with state.lock:
                if self.refused(state):
                    return None
                obj = state.objects.get(target[0], {}).get(target[1])
                if obj is None:
                    return self.send_json(404, status(404, "NotFound", "%s %r not found" % (target[3], target[1][1])))
                return self.send_json(200, obj)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        plural = url.path.rsplit("/", 1)[-1]
        parts = url.path.strip("/").split("/")
        known = plural in KINDS and ((parts[0] == "api" and len(parts) == 3) or (parts[0] == "apis" and len(parts) == 4))
        with state.lock:
            if self.refused(state):
                return None
        if not known:
            return self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))
        if query.get("watch") in ("1", "true"):
            return self.watch(state, url.path, plural, query)
        return self.list(state, url.path, plural, query)

    def list(self, state, path, plural, query):
        api_version = path.split("/", 2)[2].rsplit("/", 1)[0]
        with state.lock:
            state.lists[path] = state.lists.get(path, 0) + 1
            if "continue" in query:
                token = json.loads(base64.urlsafe_b64decode(query["continue"]))
                snapshot = state.snapshots.get(token["id"])
                if snapshot is None or snapshot[0] < state.compacted:
                    return self.send_json(410, status(410, "Expired", "The provided continue parameter is too old"))
                rv, items, offset, sid = snapshot[0], snapshot[1], token["offset"], token["id"]
            else:
                rv = state.rv
                items = [state.objects.get(path, {})[k] for k in sorted(state.objects.get(path, {}))]
                offset, sid = 0, uuid.uuid4().hex
                state.snapshots[sid] = (rv, items)
        limit = int(query.get("limit", "0") or 0)
        page = items[offset:offset + limit] if limit > 0 else items[offset:]
        metadata = {"resourceVersion": str(rv)}
        if limit > 0 and offset + limit < len(items):
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps({"id": sid, "offset": offset + limit}).encode()).decode()
        if "/" not in api_version:  # built-in kinds: list items carry no apiVersion and kind
            page = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in page]
        self.send_json(200, {"kind": KINDS[plural] + "List", "apiVersion": api_version, "metadata": metadata, "items": page})

    def chunk(self, line):
        data = (line + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, state, path, plural, query):
        since = int(query.get("resourceVersion", "0") or 0)
        deadline = time.monotonic() + int(query.get("timeoutSeconds", "1800"))
        bookmarks = query.get("allowWatchBookmarks") == "true"
        with state.lock:
            state.watches[path] = state.watches.get(path, 0) + 1
            gone = since != 0 and since < state.compacted
            if gone and state.gone_mode == "status":
                return self.send_json(410, status(410, "Expired", "too old resource version: %d (%d)" % (since, state.compacted)))
            generation = state.drop_generation
            if since == 0:  # "any version": the current objects as ADDED first
                backlog = [json.dumps({"type": "ADDED", "object": o}) for o in state.objects.get(path, {}).values()]
                position = len(state.log.get(path, []))
            else:
                backlog = []
                position = sum(1 for rv, _ in state.log.get(path, []) if rv <= since)
            bookmark_seen = state.bookmark_rv
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if gone:
                self.chunk(json.dumps({"type": "ERROR", "object": status(410, "Expired", "too old resource version")}))
                return self.finish_stream()
            for line in backlog:
                self.chunk(line)
            while True:
                with state.lock:
                    log = state.log.get(path, [])
                    while (position >= len(log) and generation == state.drop_generation and
                           time.monotonic() < deadline and not (bookmarks and state.bookmark_rv > bookmark_seen)):
                        state.lock.wait(min(0.2, max(0.0, deadline - time.monotonic())))
                        log = state.log.get(path, [])
                    if generation != state.drop_generation:
                        return self.drop()
                    lines = [line for _, line in log[position:]]
                    position = len(log)
                    if bookmarks and state.bookmark_rv > bookmark_seen:
                        bookmark_seen = state.bookmark_rv
                        lines.append(json.dumps({"type": "BOOKMARK", "object": {
                            "kind": KINDS[plural], "metadata": {"resourceVersion": str(state.rv)}}}))
                for line in lines:
                    self.chunk(line)
                if not lines and time.monotonic() >= deadline:
                    return self.finish_stream()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def finish_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's thread, so a slow client blocks nobody.
        try:
            request = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def command(state, cmd):
    op = cmd.get("op")
    with state.lock:
        if op == "put":
            return {"rv": state.store(cmd["object"])["metadata"]["resourceVersion"]}
        if op == "get":
            path = collection_of(cmd["apiVersion"], cmd["kind"])
            return {"object": state.objects.get(path, {}).get((cmd.get("namespace", ""), cmd["name"]))}
        if op == "delete":
            path = collection_of(cmd["apiVersion"], cmd["kind"])
            obj = state.objects.get(path, {}).pop((cmd.get("namespace", ""), cmd["name"]), None)
            if obj is None:
                return {"error": "not found"}
            state.rv += 1
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["resourceVersion"] = str(state.rv)
            state.record(path, "DELETED", obj)
            return {"rv": str(state.rv)}
        if op == "drop_watches":
            state.drop_generation += 1
        elif op == "disconnect":
            state.disconnected = True
            state.drop_generation += 1
        elif op == "reconnect":
            state.disconnected = False
        elif op == "compact":
            state.compacted = state.rv
            state.gone_mode = cmd.get("mode", "event")
            for path in state.log:
                state.log[path] = [e for e in state.log[path] if e[0] > state.compacted]
        elif op == "bookmark":
            state.bookmark_rv += 1
        elif op == "inject":
            state.log.setdefault(cmd["path"], []).append((state.rv, cmd["line"]))
        elif op == "set_token":
            state.token = cmd["token"]
        elif op == "stats":
            return {"lists": state.lists, "watches": state.watches, "unauthorized": state.unauthorized, "rv": str(state.rv),
                    "writes": state.writes}
        elif op != "quit":
            return {"error": "unknown op %r" % op}
        state.lock.notify_all()
        return {"ok": True}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True, help="folder for the generated certificates")
    parser.add_argument("--token", default="test-token")
    args = parser.parse_args()
    make_certs(args.dir)
    state = State(args.token)
    server = Server(("127.0.0.1", 0), Handler)
    server.state = state
    server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.tls.load_cert_chain(os.path.join(args.dir, "server.crt"), os.path.join(args.dir, "server.key"))
    server.tls.load_verify_locations(os.path.join(args.dir, "ca.crt"))
    server.tls.verify_mode = ssl.CERT_OPTIONAL
    threading.Thread(target=server.serve_forever, daemon=True).start()
    files = {"ca": "ca.crt", "client_cert": "client.crt", "client_key": "client.key"}
    files = {name: os.path.join(args.dir, file) for name, file in files.items()}
    print(json.dumps({"port": server.server_address[1], **files}), flush=True)
    for line in sys.stdin:  # the test's commands; end of input ends the double
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
            reply = command(state, cmd)
        except (KeyError, ValueError, TypeError) as e:
            cmd, reply = {}, {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(reply), flush=True)
        if cmd.get("op") == "quit":
            break
    server.shutdown()


if __name__ == "__main__":
    main()
