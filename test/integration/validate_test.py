"""`monomesh validate`: what it accepts, the exact file:line:column of each error, its inputs (files,
folders, standard input), its JSON output, the shared Istio samples, and hostile input."""
import glob
import json
import os
import random
import re
import unittest

import harness
from harness import run

VIRTUAL_SERVICE = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 50
    - destination:
        host: reviews
        subset: v2
      weight: 50
"""

GATEWAY = """\
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "*"
"""

DESTINATION_RULE = """\
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  trafficPolicy:
    loadBalancer:
      simple: LEAST_CONN
  subsets:
  - name: v1
    labels:
      version: v1
"""

K8S_OBJECTS = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: bookinfo-reviews
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-v1
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app: reviews
    spec:
      containers:
      - name: reviews
        image: istio/examples-bookinfo-reviews-v1:1.10.1
"""

# Invalid objects: (file name, text, line, column, "Kind ns/name" or "", field path or "", message parts).
# Line and column are where the offending key or value starts in the text (1-based).
INVALID = {
    "unknown_field": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - rout:
    - destination:
        host: reviews
""", 9, 5, "VirtualService default/reviews", "spec.http[0].rout", ['unknown field "rout"', "HTTPRoute"]),
    "weight_fifty": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
      weight: fifty
""", 13, 15, "VirtualService bookinfo/reviews", "spec.http[0].route[0].weight", ['"fifty"', "integer"]),
    "enum_typo": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBBIN
""", 9, 15, "DestinationRule default/ratings", "spec.trafficPolicy.loadBalancer.simple",
                  ['"ROUND_ROBBIN"', "ROUND_ROBIN", "LEAST_CONN", "RANDOM", "PASSTHROUGH"]),
    "unquoted_number_label": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  subsets:
  - name: v1
    labels:
      version: 1
""", 10, 16, "DestinationRule default/ratings", 'spec.subsets[0].labels["version"]', ["string", "number 1", "quote"]),
    "unquoted_metadata_label": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: gw
  labels:
    version: 1
spec:
  selector:
    istio: ingressgateway
""", 6, 14, "Gateway default/gw", 'metadata.labels["version"]', ["string", "number 1", "quote"]),
    "tab_indent": ("apiVersion: networking.istio.io/v1alpha3\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n"
                   "\tselector:\n    istio: ingressgateway\n", 6, 10, "", "", ["invalid YAML"]),
    "bad_indent": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: gw
 spec:
  selector:
    istio: ingressgateway
""", 5, 2, "", "", ["invalid YAML"]),
    "v1beta1": ("""\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
""", 1, 13, "VirtualService default/reviews", "apiVersion", ['"networking.istio.io/v1beta1"', "networking.istio.io/v1alpha3"]),
    "unknown_kind": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualServce
metadata:
  name: reviews
spec:
  hosts:
  - reviews
""", 2, 7, "VirtualServce default/reviews", "kind", ['unknown kind "VirtualServce"', "networking.istio.io"]),
}

# Objects that read cleanly but break Istio 1.1's validation rules (Galley's webhook): same shape
# as INVALID; line and column point at the offending field (its key, or its list item).
SEMANTIC = {
    "weights": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 50
    - destination:
        host: reviews
        subset: v2
      weight: 40
""", 10, 5, "VirtualService bookinfo/reviews", "spec.http[0].route", ["weights sum to 90, must be 100"]),
    "no_routes": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
""", 5, 1, "VirtualService default/reviews", "spec", ["needs http, tcp or tls routes"]),
    "subset_name": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  subsets:
  - name: v1
  - name: version_2
""", 9, 5, "DestinationRule default/ratings", "spec.subsets[1].name", ['"version_2" is not a DNS-1123 label']),
    "gateway_short_host": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: gw
spec:
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [bookinfo.com, productpage]
    tls: {mode: SIMPLE, serverCertificate: /etc/certs/c.pem, privateKey: /etc/certs/k.pem}
""", 8, 27, "Gateway default/gw", "spec.servers[0].hosts[1]", ["short names"]),
    "service_entry_dns": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata:
  name: external
spec:
  hosts: ["*.example.com"]
  ports:
  - {number: 443, name: https, protocol: HTTPS}
  resolution: DNS
""", 6, 11, "ServiceEntry default/external", "spec.hosts[0]", ["fully qualified name when resolution is DNS"]),
    "mesh_policy_name": ("""\
apiVersion: authentication.istio.io/v1alpha1
kind: MeshPolicy
metadata:
  name: strict
spec:
  peers:
  - mtls: {}
""", 4, 3, "MeshPolicy strict", "metadata.name", ['must be named "default"']),
    "snake_case_field": ("""\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings}
    retries:
      attempts: 2
      per_try_timeout: 0.5ms
""", 12, 7, "VirtualService default/ratings", "spec.http[0].retries.perTryTimeout", ["less than 1ms"]),
}

MIXER_RULE = """\
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata:
  name: stdio
  namespace: istio-system
spec:
  actions:
  - handler: handler.stdio
    instances: [accesslog.logentry]
"""

RBAC_CONFIG = """\
apiVersion: rbac.istio.io/v1alpha1
kind: RbacConfig
metadata:
  name: default
spec:
  mode: 'OFF'
"""

ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<rest>.*)$")


def setUpModule():
    harness.binary()


def expected_prefix(path, line, column, subject, field):
    prefix = "%s:%d:%d: " % (path, line, column)
    if subject:
        prefix += subject + ": "
    if field:
        prefix += field + ": "
    return prefix


class ValidTest(harness.MonomeshTestCase):
    def setUp(self):
        self.dir = harness.TempDir(self)

    def test_valid_virtual_service(self):
        path = self.dir.write("reviews.yaml", VIRTUAL_SERVICE)
        r = run("validate", "-f", path)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "valid: 1 objects in 1 files\n")
        self.assertEqual(r.stderr, "")

    def test_several_documents_in_one_file(self):
        path = self.dir.write("all.yaml", "---\n".join([VIRTUAL_SERVICE, GATEWAY, DESTINATION_RULE]))
        r = run("validate", "-f", path)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "valid: 3 objects in 1 files\n")

    def test_kubernetes_objects_the_mesh_does_not_read_are_skipped(self):
        path = self.dir.write("mixed.yaml", K8S_OBJECTS + "---\n" + VIRTUAL_SERVICE)
        r = run("validate", "-f", path)
        self.assertExit(r, 0)
        self.assertEqual(r.stderr, "")
        self.assertEqual(r.stdout,
                         "valid: 1 objects in 1 files; skipped (not read by the mesh): Deployment×1 ServiceAccount×1\n")


class ErrorPositionTest(harness.MonomeshTestCase):
    def setUp(self):
        self.dir = harness.TempDir(self)

    def test_each_error_names_file_line_column_object_field(self):
        for name, (text, line, column, subject, field, parts) in INVALID.items():
            with self.subTest(case=name):
                path = self.dir.write(name + ".yaml", text)
                r = run("validate", "-f", path)
                self.assertExit(r, 1)
                self.assertEqual(len(r.stderr_lines), 1, r)
                error = r.stderr_lines[0]
                prefix = expected_prefix(path, line, column, subject, field)
                self.assertTrue(error.startswith(prefix), "expected %r to start with %r" % (error, prefix))
                for part in parts:
                    self.assertIn(part, error[len(prefix):])
                self.assertEqual(r.stdout, "invalid: 0 objects in 1 files, 1 errors\n")

    def test_line_numbers_count_from_the_top_of_the_file(self):
        text, line, column, subject, field, _ = INVALID["unknown_field"]
        before = GATEWAY + "---\n" + DESTINATION_RULE + "---\n"
        path = self.dir.write("third.yaml", before + text)
        r = run("validate", "-f", path)
        self.assertExit(r, 1)
        shift = before.count("\n")
        self.assertTrue(r.stderr.startswith(expected_prefix(path, line + shift, column, subject, field)), r)
        self.assertEqual(r.stdout, "invalid: 2 objects in 1 files, 1 errors\n")

    def test_every_error_of_every_file_is_reported(self):
        paths = [self.dir.write(name + ".yaml", case[0]) for name, case in sorted(INVALID.items())]
        valid = self.dir.write("ok.yaml", VIRTUAL_SERVICE)
        r = run("validate", *sum([["-f", p] for p in paths + [valid]], []))
        self.assertExit(r, 1)
        self.assertEqual(r.stdout, "invalid: 1 objects in %d files, %d errors\n" % (len(paths) + 1, len(paths)))
        reported = {ERROR_LINE.match(l).group("file") for l in r.stderr_lines}
        self.assertEqual(reported, set(paths))


class SemanticTest(harness.MonomeshTestCase):
    """Istio 1.1's validation rules (what Galley's webhook refused), after the schema check."""

    def setUp(self):
        self.dir = harness.TempDir(self)

    def test_each_error_names_file_line_column_object_field(self):
        for name, (text, line, column, subject, field, parts) in SEMANTIC.items():
            with self.subTest(case=name):
                path = self.dir.write(name + ".yaml", text)
                r = run("validate", "-f", path)
                self.assertExit(r, 1)
                self.assertEqual(len(r.stderr_lines), 1, r)
                error = r.stderr_lines[0]
                prefix = expected_prefix(path, line, column, subject, field)
                self.assertTrue(error.startswith(prefix), "expected %r to start with %r" % (error, prefix))
                for part in parts:
                    self.assertIn(part, error[len(prefix):])
                self.assertEqual(r.stdout, "invalid: 0 objects in 1 files, 1 errors\n")

    def test_valid_objects_next_to_an_invalid_one(self):
        path = self.dir.write("mixed.yaml", "---\n".join([VIRTUAL_SERVICE, SEMANTIC["subset_name"][0], GATEWAY]))
        r = run("validate", "-f", path)
        self.assertExit(r, 1)
        self.assertEqual(r.stdout, "invalid: 2 objects in 1 files, 1 errors\n")
        shift = (VIRTUAL_SERVICE + "---\n").count("\n")
        self.assertTrue(r.stderr.startswith("%s:%d:5: DestinationRule default/ratings: spec.subsets[1].name: " % (path, 9 + shift)), r)

    def test_schema_errors_come_before_semantic_ones(self):
        # An object with a schema error is not validated further: one error, the schema one.
        text = SEMANTIC["weights"][0] + "    timeout: soon\n"
        r = run("validate", "-f", self.dir.write("both.yaml", text))
        self.assertExit(r, 1)
        self.assertEqual(len(r.stderr_lines), 1, r)
        self.assertIn("spec.http[0].timeout", r.stderr)

    def test_notes_do_not_fail_validation(self):
        path = self.dir.write("notes.yaml", MIXER_RULE + "---\n" + RBAC_CONFIG + "---\n" + MIXER_RULE.replace("stdio", "other", 1))
        r = run("validate", "-f", path)
        self.assertExit(r, 0)
        self.assertEqual(r.stderr, "")
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 3, r.stdout)
        self.assertEqual(lines[0], "note: 2 objects (rule×2): Mixer config (config.istio.io) is checked for structure only; "
                                   "not applied until the telemetry work lands")
        self.assertTrue(lines[1].startswith("%s:12:1: RbacConfig default/default: note: RbacConfig is deprecated" % path), lines[1])
        self.assertEqual(lines[2], "valid: 3 objects in 1 files")

    def test_json_output(self):
        bad = self.dir.write("weights.yaml", SEMANTIC["weights"][0])
        notes = self.dir.write("rule.yaml", MIXER_RULE)
        r = run("validate", "-o", "json", "-f", bad, "-f", notes)
        self.assertExit(r, 1)
        self.assertEqual(r.stderr, "")
        report = json.loads(r.stdout)
        self.assertEqual(report["valid"], False)
        self.assertEqual((report["files"], report["resources"]), (2, 1))
        self.assertEqual(report["errors"], [{"file": bad, "line": 10, "column": 5, "object": "VirtualService bookinfo/reviews",
                                             "field": "spec.http[0].route", "message": "weights sum to 90, must be 100"}])
        self.assertEqual(len(report["notes"]), 1)
        note = report["notes"][0]
        self.assertEqual((note["file"], note["line"], note["object"], note["field"]), (notes, 2, "rule istio-system/stdio", "kind"))
        self.assertIn("not applied until the telemetry work lands", note["message"])

    def test_json_notes_only_is_valid(self):
        r = run("validate", "-o", "json", "-f", "-", input=RBAC_CONFIG)
        self.assertExit(r, 0)
        report = json.loads(r.stdout)
        self.assertEqual((report["valid"], report["errors"], len(report["notes"])), (True, [], 1))

    def test_standard_input(self):
        text, line, column, subject, field, _ = SEMANTIC["subset_name"]
        r = run("validate", "-f", "-", input=text)
        self.assertExit(r, 1)
        self.assertTrue(r.stderr.startswith(expected_prefix("-", line, column, subject, field)), r)

    def test_many_semantic_errors(self):
        text = SEMANTIC["weights"][0]
        docs = [text.replace("name: reviews\n", "name: r-%d\n" % i, 1) for i in range(2000)]
        r = run("validate", "-f", self.dir.write("errors.yaml", "---\n".join(docs)), timeout=120)
        self.assertExit(r, 1)
        self.assertEqual(len(r.stderr_lines), 2000)
        self.assertEqual(r.stdout, "invalid: 0 objects in 1 files, 2000 errors\n")


class InputsTest(harness.MonomeshTestCase):
    def setUp(self):
        self.dir = harness.TempDir(self)

    def test_several_f_flags(self):
        a = self.dir.write("a.yaml", VIRTUAL_SERVICE)
        b = self.dir.write("b.yaml", GATEWAY)
        r = run("validate", "-f", a, "--filename", b, "-f=" + a)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "valid: 3 objects in 3 files\n")

    def test_folder_is_read_recursively(self):
        self.dir.write("tree/a.yaml", VIRTUAL_SERVICE)
        self.dir.write("tree/sub/b.yml", GATEWAY)
        self.dir.write("tree/sub/deeper/c.json", json.dumps({
            "apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
            "metadata": {"name": "c"}, "spec": {"host": "c"}}))
        self.dir.write("tree/sub/notes.txt", "not config: {{{")
        self.dir.write("tree/README.md", "# not config")
        r = run("validate", "-f", self.dir.join("tree"))
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "valid: 3 objects in 3 files\n")

    def test_folder_errors_name_the_nested_file(self):
        self.dir.write("tree/a.yaml", VIRTUAL_SERVICE)
        bad = self.dir.write("tree/x/y/bad.yaml", INVALID["unknown_kind"][0])
        r = run("validate", "-f", self.dir.join("tree"))
        self.assertExit(r, 1)
        self.assertEqual(len(r.stderr_lines), 1, r)
        self.assertEqual(os.path.realpath(ERROR_LINE.match(r.stderr_lines[0]).group("file")), os.path.realpath(bad))

    def test_standard_input(self):
        r = run("validate", "-f", "-", input=VIRTUAL_SERVICE)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "valid: 1 objects in 1 files\n")

    def test_standard_input_errors_are_named_dash(self):
        text, line, column, subject, field, _ = INVALID["unknown_field"]
        r = run("validate", "-f", "-", input=text)
        self.assertExit(r, 1)
        self.assertTrue(r.stderr.startswith(expected_prefix("-", line, column, subject, field)), r)

    def test_standard_input_with_files(self):
        a = self.dir.write("a.yaml", GATEWAY)
        r = run("validate", "-f", a, "-f", "-", input=VIRTUAL_SERVICE)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "valid: 2 objects in 2 files\n")

    def test_positional_file(self):
        r = run("validate", self.dir.write("a.yaml", GATEWAY))
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "valid: 1 objects in 1 files\n")

    def test_missing_path_is_a_usage_error_naming_it(self):
        missing = self.dir.join("no-such.yaml")
        for args in (["-f", missing], ["-f", self.dir.write("ok.yaml", GATEWAY), "-f", missing]):
            with self.subTest(args=args):
                r = run("validate", *args)
                self.assertExit(r, 2)
                line = self.assertOneStderrLine(r)
                self.assertIn(missing, line)

    def test_no_input_is_a_usage_error(self):
        r = run("validate")
        self.assertExit(r, 2)
        self.assertOneStderrLine(r)
        r = run("validate", "-o", "json")
        self.assertExit(r, 2)
        self.assertOneStderrLine(r)


class JsonOutputTest(harness.MonomeshTestCase):
    def setUp(self):
        self.dir = harness.TempDir(self)

    def test_valid(self):
        path = self.dir.write("mixed.yaml", K8S_OBJECTS + "---\n" + VIRTUAL_SERVICE)
        r = run("validate", "-o", "json", "-f", path, "-f", self.dir.write("gw.yaml", GATEWAY))
        self.assertExit(r, 0)
        report = json.loads(r.stdout)
        self.assertEqual(report, {"valid": True, "files": 2, "resources": 2, "errors": [], "notes": [],
                                  "skipped": {"Deployment": 1, "ServiceAccount": 1}})
        self.assertEqual(r.stderr, "")

    def test_errors(self):
        paths = {}
        for name in ("unknown_field", "enum_typo", "tab_indent"):
            paths[name] = self.dir.write(name + ".yaml", INVALID[name][0])
        ok = self.dir.write("ok.yaml", VIRTUAL_SERVICE)
        r = run("validate", "--output", "json", "-f", ok, *sum([["-f", p] for p in paths.values()], []))
        self.assertExit(r, 1)
        self.assertEqual(r.stderr, "")
        report = json.loads(r.stdout)
        self.assertEqual(report["valid"], False)
        self.assertEqual(report["files"], 4)
        self.assertEqual(report["resources"], 1)
        self.assertEqual(report["skipped"], {})
        self.assertEqual(len(report["errors"]), 3)
        by_file = {e["file"]: e for e in report["errors"]}
        for name, path in paths.items():
            _text, line, column, subject, field, parts = INVALID[name]
            e = by_file[path]
            self.assertEqual(set(e), {"file", "line", "column", "object", "field", "message"})
            self.assertEqual((e["line"], e["column"], e["object"], e["field"]), (line, column, subject, field), name)
            for part in parts:
                self.assertIn(part, e["message"])

    def test_json_escapes_quotes_in_messages(self):
        path = self.dir.write("labels.yaml", INVALID["unquoted_number_label"][0])
        report = json.loads(run("validate", "-o", "json", "-f", path).stdout)
        self.assertEqual(report["errors"][0]["field"], 'spec.subsets[0].labels["version"]')

    def test_json_is_valid_utf8_whatever_the_input(self):
        # Error messages quote bits of the input; bytes that are not UTF-8 must not make the
        # report unreadable.
        cases = {
            "bad_escape": b'apiVersion: v1\nkind: "\\\x82"\n',
            "field_name": (b"apiVersion: networking.istio.io/v1alpha3\nkind: Gateway\nmetadata:\n  name: gw\n"
                           b"spec:\n  sel\xffector: {}\n"),
        }
        for name, content in cases.items():
            with self.subTest(case=name):
                path = self.dir.write(name + ".yaml", content)
                r = run("validate", "-o", "json", "-f", path)
                self.assertNoCrash(r)
                try:
                    report = json.loads(r.stdout_bytes.decode("utf-8"))
                except ValueError as e:
                    self.fail("validate -o json wrote invalid JSON/UTF-8 (%s): %r" % (e, r.stdout_bytes[:400]))
                self.assertEqual(report["valid"], False)


class SamplesTest(harness.MonomeshTestCase):
    # The shared Istio samples: these files fail, every other one passes on its own.
    EXPECTED_ERROR_FILES = {
        "api-policy-02-productpage-mTLS-disable.yaml",       # metadata.name has capitals
        "api-policy-03-productpage-mTLS-with-JWT.yaml",      # capitals, and pre-1.1 spec.target
        "api-service-entry-08-gateway-routing.yaml",         # match.gateway (1.1 has gateways)
        "api-virtual-service-08-bookinfo-Mongo.yaml",        # metadata.name has capitals
        "api-service-entry-11-external-svc-dns.yaml",        # endpoint port "https" not declared
        "api-sidecar-02-default.yaml",                       # catch-all egress listener not last
    }
    # Galley's e2e inputs: every *-invalid* file is rejected, every *-valid* one accepted.
    GALLEY_E2E = "galley-e2e"

    def setUp(self):
        self.samples = harness.samples_dir()
        if self.samples is None:
            self.skipTest("../shared/istio-samples not found; skipping")
        # MeshConfig files: no apiVersion/kind, so not objects validate can read.
        self.mesh_files = {os.path.basename(p) for p in glob.glob(os.path.join(self.samples, "*-mesh.yaml"))}
        self.assertEqual(len(self.mesh_files), 4, self.mesh_files)

    def config_files(self):
        files = []
        for root, _dirs, names in os.walk(self.samples):
            for n in names:
                if n.endswith((".yaml", ".yml", ".json")):
                    files.append(os.path.relpath(os.path.join(root, n), self.samples))
        return sorted(files)

    def test_whole_folder(self):
        r = run("validate", "-o", "json", "-f", self.samples)
        self.assertExit(r, 1)
        report = json.loads(r.stdout)
        self.assertEqual(report["files"], len(self.config_files()))
        failing = {os.path.relpath(e["file"], self.samples) for e in report["errors"]}
        self.assertEqual(failing, self.expected_failures())
        for e in report["errors"]:
            self.assertGreater(e["line"], 0, e)
            self.assertGreater(e["column"], 0, e)

    def test_whole_folder_text(self):
        r = run("validate", "-f", self.samples)
        self.assertExit(r, 1)
        # Notes (RbacConfig deprecated, Mixer config not applied) come first; the summary is last.
        self.assertRegex(r.stdout.splitlines()[-1], r"^invalid: \d+ objects in %d files, \d+ errors" % len(self.config_files()))
        self.assertIn("note: RbacConfig is deprecated", r.stdout)
        failing = {os.path.relpath(ERROR_LINE.match(l).group("file"), self.samples) for l in r.stderr_lines}
        self.assertEqual(failing, self.expected_failures())

    def galley_invalid_files(self):
        return {f for f in self.config_files() if f.startswith(self.GALLEY_E2E + "/") and "-invalid" in f}

    def expected_failures(self):
        return self.EXPECTED_ERROR_FILES | self.mesh_files | self.galley_invalid_files()

    def test_galley_e2e_inputs(self):
        if not os.path.isdir(os.path.join(self.samples, self.GALLEY_E2E)):
            self.skipTest("no Galley e2e data in the samples; skipping")
        invalid = self.galley_invalid_files()
        self.assertGreaterEqual(len(invalid), 7, invalid)
        for rel in self.config_files():
            if not rel.startswith(self.GALLEY_E2E + "/"):
                continue
            with self.subTest(file=rel):
                r = run("validate", "-o", "json", "-f", os.path.join(self.samples, rel))
                self.assertExit(r, 1 if rel in invalid else 0)

    def test_each_file_on_its_own(self):
        bad = self.expected_failures()
        for rel in self.config_files():
            with self.subTest(file=rel):
                r = run("validate", "-f", os.path.join(self.samples, rel))
                self.assertExit(r, 1 if rel in bad else 0)


class RobustnessTest(harness.MonomeshTestCase):
    """Hostile input never crashes validate: it exits 0, 1 or 2 within the timeout."""

    def setUp(self):
        self.dir = harness.TempDir(self)

    def test_binary_garbage(self):
        rng = random.Random(20190301)
        for i in range(5):
            with self.subTest(sample=i):
                path = self.dir.write("garbage%d.yaml" % i, bytes(rng.randrange(256) for _ in range(64 * 1024)))
                self.assertNoCrash(run("validate", "-f", path))
                self.assertNoCrash(run("validate", "-o", "json", "-f", path))
        self.assertNoCrash(run("validate", "-f", "-", input=bytes(range(256)) * 64))

    def test_empty_files(self):
        for name, content in [("empty.yaml", ""), ("blank.yaml", "\n\n   \n"), ("comment.yaml", "# nothing\n"),
                              ("separators.yaml", "---\n---\n...\n")]:
            with self.subTest(file=name):
                r = run("validate", "-f", self.dir.write(name, content))
                self.assertExit(r, 0)
                self.assertEqual(r.stdout, "valid: 0 objects in 1 files\n")

    def test_documents_that_are_not_objects(self):
        for name, content in [("scalar.yaml", "just a string\n"), ("list.yaml", "- 1\n- 2\n"),
                              ("nulls.yaml", "apiVersion: ~\nkind: ~\nmetadata: ~\nspec: ~\n"),
                              ("items.yaml", "apiVersion: v1\nkind: List\nitems: 7\n")]:
            with self.subTest(file=name):
                r = run("validate", "-f", self.dir.write(name, content))
                self.assertExit(r, 1)
                self.assertRegex(r.stderr, r"^%s:\d+:\d+: " % re.escape(self.dir.join(name)))

    def test_five_megabytes_of_documents(self):
        docs, size, i = [], 0, 0
        while size < 5 * 1024 * 1024:
            doc = VIRTUAL_SERVICE.replace("name: reviews\n", "name: reviews-%d\n" % i, 1)
            docs.append(doc)
            size += len(doc) + 4
            i += 1
        path = self.dir.write("big.yaml", "---\n".join(docs))
        r = run("validate", "-f", path, timeout=120)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "valid: %d objects in 1 files\n" % i)

    def test_many_errors(self):
        text, *_ = INVALID["unknown_field"]
        docs = [text.replace("name: reviews\n", "name: r-%d\n" % i, 1) for i in range(2000)]
        r = run("validate", "-f", self.dir.write("errors.yaml", "---\n".join(docs)), timeout=120)
        self.assertExit(r, 1)
        self.assertEqual(len(r.stderr_lines), 2000)

    def deep(self, body):
        return ("apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: deep\n"
                "spec:\n  hosts: [a]\n" + body)

    def test_deeply_nested_flow_lists(self):
        n = 10000
        for name, body in [("in_known_field", "  http: " + "[" * n + "]" * n + "\n"),
                           ("in_unknown_field", "  x: " + "[" * n + "]" * n + "\n"),
                           ("flow_maps", "  x: " + "{a: " * n + "1" + "}" * n + "\n")]:
            with self.subTest(case=name):
                r = run("validate", "-f", self.dir.write(name + ".yaml", self.deep(body)))
                self.assertNoCrash(r)

    def test_deeply_nested_block_collections(self):
        n = 10000
        seq = "  x:\n  " + "- " * n + "1\n"
        mapping = "".join(" " * (2 + i) + "a:\n" for i in range(3000)) + " " * 3002 + "b: 1\n"
        for name, body in [("block_lists", seq), ("block_maps", mapping)]:
            with self.subTest(case=name):
                r = run("validate", "-f", self.dir.write(name + ".yaml", self.deep(body)))
                self.assertNoCrash(r)

    def test_deep_free_form_struct(self):
        # EnvoyFilter's filterConfig is a google.protobuf.Struct: any nesting the YAML parser
        # accepts is read by our reader, recursively.
        for n in (100, 400, 10000):
            with self.subTest(depth=n):
                text = ("apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: ef\n"
                        "spec:\n  filters:\n  - listenerMatch:\n      portNumber: 8080\n    filterName: envoy.lua\n"
                        "    filterType: HTTP\n    filterConfig:\n      x: " + "[" * n + "]" * n + "\n")
                r = run("validate", "-f", self.dir.write("ef%d.yaml" % n, text))
                self.assertNoCrash(r)
                if n <= 100:
                    self.assertExit(r, 0)

    def test_yaml_that_never_ends(self):
        # An alias inside the node it names is an endless tree, and a token no document takes
        # made yaml-cpp start empty documents forever: both are errors at their place, quickly.
        cycle = ("apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: ef\nspec:\n"
                 "  filters:\n  - listenerMatch:\n      portNumber: 8080\n    filterName: envoy.lua\n"
                 "    filterType: HTTP\n    filterConfig:\n      x: &a [*a]\n")
        cases = [("cycle.yaml", cycle, "12:14: invalid YAML: alias refers to a node that contains it "
                                       "(the tree would be endless)"),
                 ("stray_comma.yaml", ", a\n", "1:1: invalid YAML: unexpected token where a document should start")]
        for name, text, error in cases:
            with self.subTest(case=name):
                path = self.dir.write(name, text)
                r = run("validate", "-f", path, preexec_fn=harness.limit_memory(1 << 30), timeout=20)
                self.assertExit(r, 1)
                self.assertEqual(r.stderr, "%s:%s\n" % (path, error))

    def test_alias_expansion_bomb(self):
        # "Billion laughs": nine levels of aliases, each nine times the one before, in a free-form
        # Struct. It must be rejected as an error naming the file, not expanded until memory runs out.
        # The child's address space is capped at 1 GiB so a runaway run cannot take the machine.
        lines = ['      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        names = "abcdefghi"
        for prev, cur in zip(names, names[1:]):
            lines.append("      %s: &%s [%s]" % (cur, cur, ",".join(["*" + prev] * 9)))
        text = ("apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: ef\n"
                "spec:\n  filters:\n  - listenerMatch:\n      portNumber: 8080\n    filterName: envoy.lua\n"
                "    filterType: HTTP\n    filterConfig:\n" + "\n".join(lines) + "\n")
        path = self.dir.write("laughs.yaml", text)
        r = run("validate", "-f", path, preexec_fn=harness.limit_memory(1 << 30))
        self.assertExit(r, 1)
        self.assertNotIn("bad_alloc", r.stderr)
        self.assertTrue(r.stderr.startswith(path + ":"), r)


if __name__ == "__main__":
    unittest.main()
