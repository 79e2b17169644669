"""`monomesh demo` end to end: the product page through the ingress gateway, then Istio's own
bookinfo tasks from ../shared/istio-samples — request routing (jason -> reviews v2), fault injection
(ratings delay and abort for jason) and traffic shifting (50/50 v1/v3) — checked by what the page
shows; an invalid file is rejected and changes nothing; Ctrl-C drains and exits 0."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import harness
from proxy_harness import wait_for

SAMPLES = harness.samples_dir()


class Page:
    def __init__(self, status, text, seconds):
        self.status, self.text, self.seconds = status, text, seconds

    @property
    def reviews(self):
        m = re.search(r"reviews-v\d", self.text)
        return m.group(0) if m else None

    @property
    def stars(self):
        m = re.search(r'class="stars" style="color:(\w+)"', self.text)
        return m.group(1) if m else None


def free_run(n):
    """A port P with P+1..P+n all free right now (the demo's applications take app_base + 1..6)."""
    for _ in range(50):
        base = harness.free_port()
        if base + n < 65536 and all(harness.port_is_free(base + i) for i in range(1, n + 1)):
            return base
    raise AssertionError("no run of %d free ports" % n)


class Demo:
    def __init__(self, test):
        self.dir = harness.TempDir(test)
        self.config = self.dir.join("config")
        test.addCleanup(self.kill)
        # Free ports can be taken between choosing and binding (tests run in parallel): retry.
        for attempt in range(3):
            ports = [harness.free_port() for _ in range(5)] + [free_run(6)]
            self.ingress, self.pilot_grpc, self.pilot_debug, self.monitoring, self.admin, app_base = ports
            self.args = ["demo", "--config-dir", self.config, "--ingress-port", self.ingress, "--pilot-port",
                         self.pilot_grpc, "--pilot-debug-port", self.pilot_debug, "--monitoring-port", self.monitoring,
                         "--gateway-admin-port", self.admin, "--app-base-port", app_base]
            self.log_path = self.dir.join("demo-%d.log" % attempt)
            self.log = open(self.log_path, "wb")
            test.addCleanup(self.log.close)
            self.process = subprocess.Popen([harness.binary()] + [str(a) for a in self.args], stdout=self.log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                wait_for(lambda: self._alive() and self.page().reviews, timeout=20, what="the product page")
                return
            except AssertionError:
                if attempt == 2 or "Address already in use" not in self.output():
                    raise
                self.kill()

    def _alive(self):
        if self.process.poll() is not None:
            raise AssertionError("demo exited %s:\n%s" % (self.process.returncode, self.output()))
        return True

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def page(self, user=None, timeout=15):
        request = urllib.request.Request("http://127.0.0.1:%d/productpage" % self.ingress)
        if user:
            request.add_header("Cookie", "user=" + user)
        start = time.monotonic()
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return Page(r.status, r.read().decode(), time.monotonic() - start)

    def login(self, user):
        body = urllib.parse.urlencode({"username": user}).encode()
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(urllib.request.Request("http://127.0.0.1:%d/login" % self.ingress, data=body), timeout=10)
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Set-Cookie", "")
        return 200, ""

    def apply(self, name):
        shutil.copy(os.path.join(SAMPLES, name), os.path.join(self.config, name))

    def remove(self, name):
        os.unlink(os.path.join(self.config, name))

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class DemoTest(unittest.TestCase):
    def test_first_run_prints_where_things_are_and_serves_the_page(self):
        demo = Demo(self)
        out = demo.output()
        self.assertIn("http://127.0.0.1:%d/productpage" % demo.ingress, out)
        self.assertIn(demo.config, out)
        self.assertIn("Request routing", out)
        self.assertTrue(os.path.exists(os.path.join(demo.config, "00-bookinfo-workloads.yaml")))
        seen = {demo.page().reviews for _ in range(12)}
        self.assertEqual(seen, {"reviews-v1", "reviews-v2", "reviews-v3"}, "round robin without rules")
        status, cookie = demo.login("jason")
        self.assertEqual(status, 302)
        self.assertIn("user=jason", cookie)
        # Ctrl-C drains and exits cleanly.
        demo.process.send_signal(signal.SIGINT)
        self.assertEqual(demo.process.wait(15), 0, demo.output())

    def test_invalid_file_is_rejected_and_changes_nothing(self):
        demo = Demo(self)
        with open(os.path.join(demo.config, "bad.yaml"), "w") as f:
            f.write("apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\n"
                    "metadata: {name: reviews, namespace: default}\nspec:\n  hosts: [reviews]\n  http:\n"
                    "  - route:\n    - {destination: {host: reviews, subset: v1}, weight: 50}\n"
                    "    - {destination: {host: reviews, subset: v2}, weight: 40}\n")
        wait_for(lambda: "bad.yaml" in demo.output(), what="the rejection printed")
        self.assertIn("weights sum to 90, must be 100", demo.output())
        seen = {demo.page().reviews for _ in range(12)}
        self.assertEqual(seen, {"reviews-v1", "reviews-v2", "reviews-v3"}, "nothing changed")

    def test_busy_port_is_named(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        self.addCleanup(s.close)
        busy = s.getsockname()[1]
        d = harness.TempDir(self)
        r = harness.run("demo", "--config-dir", d.join("c"), "--pilot-port", busy, "--ingress-port", harness.free_port(),
                        "--pilot-debug-port", harness.free_port(), "--monitoring-port", harness.free_port(),
                        "--gateway-admin-port", harness.free_port(), "--app-base-port", harness.free_port())
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(str(busy), r.stderr)


@unittest.skipUnless(SAMPLES, "skipped: ../shared/istio-samples is absent (Istio's bookinfo routing files)")
class BookinfoTasks(unittest.TestCase):
    """Istio's docs: request routing, fault injection and traffic shifting, with Istio's own files."""

    def test_request_routing_fault_injection_and_traffic_shifting(self):
        demo = Demo(self)
        # Request routing: jason gets reviews v2 (black stars), everyone else v1.
        demo.apply("virtual-service-reviews-test-v2.yaml")
        wait_for(lambda: all(demo.page("jason").reviews == "reviews-v2" for _ in range(5)), timeout=5,
                 what="jason routed to v2")
        self.assertEqual(demo.page("jason").stars, "black")
        self.assertEqual({demo.page().reviews for _ in range(10)}, {"reviews-v1"})
        self.assertEqual({demo.page("alice").reviews for _ in range(5)}, {"reviews-v1"})

        # Fault injection, delay: 7 s on ratings for jason; productpage gives up after ~6 s.
        demo.apply("virtual-service-ratings-test-delay.yaml")
        page = wait_for(lambda: (lambda p: p if "unavailable" in p.text else None)(demo.page("jason", timeout=20)),
                        timeout=30, what="jason's reviews unavailable")
        self.assertGreater(page.seconds, 5.0)
        self.assertLess(page.seconds, 8.0)
        self.assertIn("Sorry, product reviews are currently unavailable", page.text)
        self.assertEqual(demo.page().reviews, "reviews-v1")  # others unaffected
        demo.remove("virtual-service-ratings-test-delay.yaml")

        # Fault injection, abort: ratings answers 500 for jason.
        demo.apply("virtual-service-ratings-test-abort.yaml")
        wait_for(lambda: "Ratings service is currently unavailable" in demo.page("jason").text, timeout=5,
                 what="jason's ratings unavailable")
        demo.remove("virtual-service-ratings-test-abort.yaml")

        # Traffic shifting: 50% v1, 50% v3.
        demo.remove("virtual-service-reviews-test-v2.yaml")
        demo.apply("virtual-service-reviews-50-v3.yaml")
        wait_for(lambda: "reviews-v3" in {demo.page().reviews for _ in range(6)}, timeout=5, what="v3 serving")
        time.sleep(0.5)
        pages = [demo.page() for _ in range(200)]
        versions = [p.reviews for p in pages]
        self.assertEqual(set(versions), {"reviews-v1", "reviews-v3"})
        share = versions.count("reviews-v3") / len(versions)
        # 200 fair coin flips: 0.5 +- 0.12 holds with probability > 0.999.
        self.assertTrue(0.38 < share < 0.62, "v3 share %.2f" % share)
        self.assertTrue(all(p.stars == "red" for p in pages if p.reviews == "reviews-v3"))


if __name__ == "__main__":
    unittest.main()
