"""Drives xds_client_js/ads_driver.js, an xDS client on @grpc/grpc-js (gRPC's pure JavaScript
implementation, loading third_party/'s .proto files with @grpc/proto-loader), one JSON command per
line. `missing()` says why it cannot run here (no node, or `scripts/setup.sh` has not installed its
npm packages), so a test can skip saying so.

    c = JsAdsClient(pilot.grpc_target, node_id)
    cds = c.subscribe("CDS")           # the decoded response: type_url, version_info, nonce, resources
    c.ack("CDS")                       # version_info + response_nonce of that response
    c.nack("CDS", "why")               # error_detail, the version ACKed before
"""
import json
import os
import queue
import shutil
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_DIR = os.path.join(HERE, "xds_client_js")
DRIVER = os.path.join(CLIENT_DIR, "ads_driver.js")


def missing():
    """Why the client cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (scripts/setup.sh installs Debian's nodejs)"
    for package in ("@grpc/grpc-js", "@grpc/proto-loader", "protobufjs"):
        if not os.path.isfile(os.path.join(CLIENT_DIR, "node_modules", package, "package.json")):
            return "npm package %s is not installed in %s (scripts/setup.sh runs npm ci there)" % (package, CLIENT_DIR)
    return None


class JsAdsClient:
    """One ADS stream (mode "sotw" or "delta") in a node process; every call waits for its answer."""

    def __init__(self, target, node_id, metadata=None, mode="sotw"):
        self.process = subprocess.Popen(
            ["node", DRIVER, "--target", target, "--node", node_id, "--metadata", json.dumps(metadata or {}),
             "--mode", mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=CLIENT_DIR)
        self.answers = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        ready = self._answer(30)
        if not ready.get("ready"):
            raise AssertionError("the grpc-js client did not start: %r %s" % (ready, self.stderr()))
        self.info = ready

    def _read(self):
        for line in self.process.stdout:
            self.answers.put(json.loads(line))
        self.answers.put(None)

    def _answer(self, timeout):
        try:
            answer = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the grpc-js client did not answer within %ss" % timeout)
        if answer is None:
            raise AssertionError("the grpc-js client exited %s: %s" % (self.process.wait(5), self.stderr()))
        return answer

    def stderr(self):
        if self.process.poll() is None or self.process.stderr.closed:
            return ""
        return self.process.stderr.read()

    def run(self, timeout=30, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self._answer(timeout)
        if "error" in answer:
            raise AssertionError("grpc-js client, %s: %s" % (command.get("op"), answer["error"]))
        return answer

    def next(self, timeout=10):
        """The next response; raises when none comes or the stream ended (with its status)."""
        answer = self.run(timeout + 5, op="next", timeout_ms=int(timeout * 1000))
        if "ended" in answer:
            raise AssertionError("the stream ended: %r" % answer["ended"])
        return answer["response"]

    def subscribe(self, type_name, names=(), timeout=10):
        self.run(op="subscribe", type=type_name, names=list(names))
        return self.next(timeout)

    def delta(self, type_name, subscribe=(), unsubscribe=(), initial=None):
        return self.run(op="delta", type=type_name, subscribe=list(subscribe), unsubscribe=list(unsubscribe),
                        initial=initial or {})["sent"]

    def ack(self, type_name):
        return self.run(op="ack", type=type_name)["sent"]

    def nack(self, type_name, message):
        return self.run(op="nack", type=type_name, message=message)["sent"]

    def quiet(self, seconds):
        """Responses that arrive within `seconds`."""
        return self.run(seconds + 10, op="quiet", ms=int(seconds * 1000))["responses"]

    def close(self):
        """Half-closes the stream; the status it ended with (None when the client was gone)."""
        try:
            return self.run(op="close").get("ended") if self.process.poll() is None else None
        finally:
            if not self.process.stdin.closed:
                self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.reader.join(5)
            self.process.stdout.close()
            self.process.stderr.close()
