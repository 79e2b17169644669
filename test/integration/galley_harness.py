"""Runs `monomesh galley` for integration tests: a config folder, webhook certificates made with
the openssl command line (nothing checked in), free loopback ports, readiness, JSON and metrics;
and AdmissionReview requests over HTTPS with curl."""
import json
import os
import subprocess
import tempfile
import urllib.request

import harness
from proxy_harness import GiveUp, wait_for

WEBHOOK_HOST = "istio-galley.istio-system.svc"


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=30)


def make_certs(directory, ca_name="Galley Test CA"):
    """A CA and a webhook certificate for WEBHOOK_HOST in `directory`: root-cert.pem,
    cert-chain.pem, key.pem (the layout of Istio's /etc/certs)."""
    os.makedirs(directory, exist_ok=True)
    d = directory
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=d)
    openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=" + ca_name, "-days", "2", "-out", "root-cert.pem",
            cwd=d)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem", cwd=d)
    openssl("req", "-new", "-key", "key.pem", "-subj", "/CN=" + WEBHOOK_HOST, "-out", "server.csr", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:%s\n" % WEBHOOK_HOST)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "root-cert.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.ext", "-out", "cert-chain.pem", cwd=d)
    return directory


def admission_review(obj, operation="CREATE", api_version="admission.k8s.io/v1", uid="6f1a-uid", namespace="default"):
    """A Kubernetes AdmissionReview request as the API server sends it."""
    group, _, version = (obj or {}).get("apiVersion", "/").rpartition("/")
    request = {"uid": uid,
               "kind": {"group": group, "version": version, "kind": (obj or {}).get("kind", "")},
               "resource": {"group": group, "version": version, "resource": (obj or {}).get("kind", "").lower() + "s"},
               "name": ((obj or {}).get("metadata") or {}).get("name", ""), "namespace": namespace,
               "operation": operation, "userInfo": {"username": "admin", "groups": ["system:masters"]},
               "object": obj if operation != "DELETE" else None,
               "oldObject": obj if operation in ("UPDATE", "DELETE") else None,
               "dryRun": False}
    return {"apiVersion": api_version, "kind": "AdmissionReview", "request": request}


class CurlResult:
    def __init__(self, status, body):
        self.status = status
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "CurlResult(%s, %r)" % (self.status, self.body[:300])


class Galley:
    """`monomesh galley` on free loopback ports, following `config_dir`; the webhooks on when
    `certs` (a make_certs folder) is given; the distribution over mutual TLS with the certificate
    files of `distribution_certs` (cert-chain.pem, key.pem, root-cert.pem), else plaintext."""

    def __init__(self, config_dir, certs=None, extra_args=(), server_port=None, distribution_certs=None):
        self.config_dir = config_dir
        self.certs = certs
        self.distribution_certs = distribution_certs
        self.extra_args = list(extra_args)
        self.fixed_server_port = server_port
        self.process = None
        self.log_path = None

    def args(self):
        args = [harness.binary(), "galley", "--configPath", self.config_dir,
                "--server-address", "tcp://127.0.0.1:%d" % self.server_port,
                "--monitoringPort", str(self.monitoring_port)]
        certs = self.certs or self.distribution_certs
        if certs:
            args += ["--tlsCertFile", os.path.join(certs, "cert-chain.pem"),
                     "--tlsKeyFile", os.path.join(certs, "key.pem"),
                     "--caCertFile", os.path.join(certs, "root-cert.pem")]
        if self.certs:
            args += ["--validation-port", str(self.webhook_port)]
        else:
            args += ["--enable-validation=false", "--enable-injection=false"]
        if not self.distribution_certs:
            args += ["--insecure"]
        return args + self.extra_args

    def launch(self):
        self.server_port, self.webhook_port, self.monitoring_port = (harness.free_port() for _ in range(3))
        if self.fixed_server_port:
            self.server_port = self.fixed_server_port
        fd, self.log_path = tempfile.mkstemp(prefix="monomesh-galley-", suffix=".log")
        os.close(fd)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        return self

    def start(self):
        self.launch()
        wait_for(lambda: self._died() or self.get("/ready")[0] == 200, what="galley ready")
        return self

    def _died(self):
        if self.process.poll() is not None:
            raise GiveUp("galley exited %s:\n%s" % (self.process.returncode, self.log()))
        return False

    @property
    def target(self):
        return "127.0.0.1:%d" % self.server_port

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def get(self, path):
        url = "http://127.0.0.1:%d%s" % (self.monitoring_port, path)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except (urllib.error.URLError, ConnectionError):
            return None, ""

    def json(self, path):
        status, body = self.get(path)
        assert status == 200, "%s -> %s: %s" % (path, status, body)
        return json.loads(body)

    def metric(self, name, labels=""):
        """The sum of the series of `name` whose label text contains `labels`; None if absent."""
        _, text = self.get("/metrics")
        total, found = 0.0, False
        for line in text.splitlines():
            if (line.startswith(name + " ") or line.startswith(name + "{")) and labels in line:
                total += float(line.rsplit(" ", 1)[1])
                found = True
        return total if found else None

    def curl(self, path, body, content_type="application/json", method="POST", ca=None, extra=()):
        """A request to the webhook over HTTPS, verifying its certificate against `ca`."""
        fd, body_path = tempfile.mkstemp(prefix="galley-review-")
        with os.fdopen(fd, "wb") as f:
            f.write(body if isinstance(body, bytes) else body.encode())
        try:
            args = ["curl", "-sS", "-X", method, "--max-time", "20",
                    "--cacert", ca or os.path.join(self.certs, "root-cert.pem"),
                    "--resolve", "%s:%d:127.0.0.1" % (WEBHOOK_HOST, self.webhook_port),
                    "-H", "Content-Type: " + content_type, "--data-binary", "@" + body_path,
                    "-w", "\n%{http_code}", "https://%s:%d%s" % (WEBHOOK_HOST, self.webhook_port, path)] + list(extra)
            r = subprocess.run(args, capture_output=True, timeout=30)
        finally:
            os.unlink(body_path)
        if r.returncode != 0:
            return CurlResult(None, r.stderr.decode(errors="replace"))
        text = r.stdout.decode(errors="replace")
        body_text, _, status = text.rpartition("\n")
        return CurlResult(int(status), body_text)

    def review(self, obj, path="/admitpilot", **kwargs):
        """Posts an AdmissionReview; returns (HTTP status, response JSON)."""
        api_version = kwargs.get("api_version", "admission.k8s.io/v1")
        r = self.curl(path, json.dumps(admission_review(obj, **kwargs)))
        assert r.status == 200, r
        answer = r.json()
        assert answer["apiVersion"] == api_version and answer["kind"] == "AdmissionReview", answer
        return answer["response"]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.log_path and os.path.exists(self.log_path):
            os.unlink(self.log_path)
