"""The `monomesh` command line: help texts, exit codes (0 ok, 1 failure, 2 usage error, 3 capability
not available yet), the one-line usage errors, the roles that are not available yet, `proxy`'s
start-up errors and `version`."""
import json
import re
import shutil
import unittest

import harness
from harness import run

COMMANDS = ["proxy", "pilot", "galley", "multicluster-sync", "demo", "validate", "version"]
ROLES = ["proxy", "pilot", "galley", "multicluster-sync", "demo"]
# Roles that still answer "not available" (exit 3). proxy, pilot, galley and demo run (their own
# integration suites cover them).
NOT_AVAILABLE = ["multicluster-sync"]

LOGGING = {"log_output_level": "default:info", "log_as_json": None, "log_target": "stdout"}
RUNTIME = {"concurrency": "0", "drain-duration": "45s"}

# Flags each command must list in its --help, with the default shown (None: no default shown).
EXPECTED_FLAGS = {
    "proxy": dict({"config-path": None, "config-yaml": None, "concurrency": "0", "drain-time-s": "600",
                   "service-cluster": None, "service-node": None, "file-flush-interval-msec": "10000"}, **LOGGING),
    "pilot": dict({"configDir": None, "grpcAddr": ":15010", "httpAddr": ":8080", "monitoringAddr": ":15014",
                   "meshConfig": "/etc/istio/config/mesh", "networksConfig": "/etc/istio/config/meshNetworks",
                   "kubeconfig": None, "registries": "Kubernetes", "clusterID": "Kubernetes", "domain": "cluster.local",
                   "debounceAfter": "100ms", "debounceMax": "10s"},
                  **RUNTIME, **LOGGING),
    "galley": dict({"configPath": None, "server-address": "tcp://0.0.0.0:9901", "validation-port": "443",
                    "tlsCertFile": "/etc/certs/cert-chain.pem", "tlsKeyFile": "/etc/certs/key.pem",
                    "caCertFile": "/etc/certs/root-cert.pem", "monitoringPort": "15014", "kubeconfig": None,
                    "enable-server": "true", "enable-validation": "true"},
                   **RUNTIME, **LOGGING),
    "multicluster-sync": dict({"kubeconfig": None, "clusterID": "Kubernetes",
                               "networksConfig": "/etc/istio/config/meshNetworks", "monitoringAddr": ":15014"},
                              **RUNTIME, **LOGGING),
    "demo": dict({"config-dir": None, "ingress-port": "8080", "pilot-port": "15010", "pilot-debug-port": "8081",
                  "monitoring-port": "15014", "gateway-admin-port": "15000", "app-base-port": "19080",
                  "concurrency": "0", "drain-duration": "5s"}, **LOGGING),
    "validate": {"filename": None, "output": "text"},
    "version": {"output": "text"},
}
SHORT_FLAGS = {"proxy": {"c": "config-path"}, "validate": {"f": "filename", "o": "output"},
               "version": {"o": "output"}}

FLAG_LINE = re.compile(r"^\s+(?:-(?P<short>\w), )?--(?P<name>[\w-]+)(?: (?P<type>\S+))?\s{2,}(?P<help>.*)$")
DEFAULT = re.compile(r"\(default (?P<value>[^()]*)\)(?: \(repeatable\))?$")


def parse_flags(help_text):
    """{name: (short, type, default)} from the Flags: section of a command's --help."""
    flags = {}
    in_flags = False
    for line in help_text.splitlines():
        if line.strip() == "Flags:":
            in_flags = True
            continue
        if not in_flags:
            continue
        m = FLAG_LINE.match(line)
        if not m:
            continue
        d = DEFAULT.search(m.group("help"))
        flags[m.group("name")] = (m.group("short"), m.group("type"), d.group("value") if d else None)
    return flags


def setUpModule():
    harness.binary()  # fail early, with a clear message, when the binary is not built


class TopLevelHelpTest(harness.MonomeshTestCase):
    def assertListsEveryCommand(self, text):
        for command in COMMANDS + ["help"]:
            self.assertRegex(text, r"(?m)^  %s\s" % re.escape(command), "help does not list %r" % command)

    def test_no_arguments_prints_help_and_exits_2(self):
        r = run()
        self.assertExit(r, 2)
        self.assertListsEveryCommand(r.stdout)
        self.assertIn("Usage: monomesh <command> [flags]", r.stdout)

    def test_help_flags_and_help_command_exit_0_with_the_same_text(self):
        bare = run().stdout
        for args in (["--help"], ["-h"], ["help"]):
            with self.subTest(args=args):
                r = run(*args)
                self.assertExit(r, 0)
                self.assertListsEveryCommand(r.stdout)
                self.assertEqual(r.stdout, bare)
                self.assertEqual(r.stderr, "")


class CommandHelpTest(harness.MonomeshTestCase):
    def test_every_command_lists_its_flags_with_defaults(self):
        for command, expected in EXPECTED_FLAGS.items():
            with self.subTest(command=command):
                r = run(command, "--help")
                self.assertExit(r, 0)
                self.assertTrue(r.stdout.startswith("Usage: monomesh %s" % command), r)
                listed = parse_flags(r.stdout)
                for name, default in expected.items():
                    self.assertIn(name, listed, "%s --help does not list --%s:\n%s" % (command, name, r.stdout))
                    self.assertEqual(listed[name][2], default, "%s --%s default" % (command, name))
                for short, name in SHORT_FLAGS.get(command, {}).items():
                    self.assertEqual(listed[name][0], short, "%s --%s short form" % (command, name))
                self.assertIn("help", listed)

    def test_pilot_help_shows_istio_defaults(self):
        text = run("pilot", "--help").stdout
        self.assertRegex(text, r"(?m)^\s+--grpcAddr host:port\s+.*\(default :15010\)$")
        self.assertRegex(text, r"(?m)^\s+--monitoringAddr host:port\s+.*\(default :15014\)$")
        self.assertRegex(text, r"(?m)^\s+--domain string\s+.*\(default cluster\.local\)$")

    def test_galley_help_shows_istio_defaults(self):
        text = run("galley", "--help").stdout
        self.assertRegex(text, r"(?m)^\s+--server-address string\s+.*\(default tcp://0\.0\.0\.0:9901\)$")
        self.assertRegex(text, r"(?m)^\s+--validation-port int\s+.*\(default 443\)$")

    def test_proxy_help_shows_config_path_and_c(self):
        text = run("proxy", "--help").stdout
        self.assertRegex(text, r"(?m)^\s+-c, --config-path string\s")

    def test_every_role_has_the_logging_flags(self):
        for role in ROLES:
            with self.subTest(role=role):
                listed = parse_flags(run(role, "--help").stdout)
                self.assertIn("log_output_level", listed)
                self.assertIn("log_as_json", listed)

    def test_help_command_equals_dash_dash_help(self):
        for command in COMMANDS:
            with self.subTest(command=command):
                a, b, c = run("help", command), run(command, "--help"), run(command, "-h")
                for r in (a, b, c):
                    self.assertExit(r, 0)
                self.assertEqual(a.stdout, b.stdout)
                self.assertEqual(c.stdout, b.stdout)

    def test_help_wins_over_bad_flags(self):
        r = run("pilot", "--concurrency", "abc", "--help")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, run("pilot", "--help").stdout)

    def test_every_default_shown_is_accepted(self):
        # A default printed by --help, given back explicitly, is never a usage error. (`proxy`
        # also needs a bootstrap: a missing file makes it fail at start-up, exit 1, not 2.)
        for role in ROLES:
            with self.subTest(role=role):
                args = [role]
                for name, (_short, typ, default) in parse_flags(run(role, "--help").stdout).items():
                    if name == "help":
                        continue
                    if typ is None:
                        args.append("--%s=false" % name)
                    elif default is not None:
                        args.append("--%s=%s" % (name, default))
                if role == "proxy":
                    r = run(*(args + ["-c", "/nonexistent/bootstrap.yaml"]))
                    self.assertExit(r, 1)
                elif role == "galley":
                    r = run(*args)  # no --configPath and not in a cluster: the first start-up step fails
                    self.assertExit(r, 1)
                    self.assertIn("no config source", r.stdout + r.stderr)
                elif role == "pilot":
                    r = run(*(args + ["--configDir", "/nonexistent/monomesh-config"]))  # a start-up step fails before listening
                    self.assertExit(r, 1)
                    self.assertIn("start-up step", r.stdout + r.stderr)
                elif role == "demo":
                    r = run(*(args + ["--config-dir", "/proc/monomesh-demo"]))  # cannot be created
                    self.assertExit(r, 1)
                    self.assertIn("cannot create the config folder", r.stdout + r.stderr)
                else:
                    r = run(*args)
                    self.assertExit(r, 3)


class UnknownCommandTest(harness.MonomeshTestCase):
    def test_unknown_command_is_one_line_naming_it(self):
        for name in ["frobnicate", "Pilot", "--version", "-x"]:
            with self.subTest(name=name):
                r = run(name)
                self.assertExit(r, 2)
                line = self.assertOneStderrLine(r)
                self.assertIn('"%s"' % name, line)
                self.assertIn("unknown command", line)

    def test_help_for_an_unknown_command(self):
        r = run("help", "frobnicate")
        self.assertExit(r, 2)
        self.assertIn('"frobnicate"', self.assertOneStderrLine(r))


class UsageErrorTest(harness.MonomeshTestCase):
    def test_unknown_flags(self):
        cases = [
            (["pilot", "--bogus"], "--bogus"),
            (["validate", "--nope=1"], "--nope"),
            (["proxy", "-x"], "-x"),
            (["pilot", "-c", "x"], "-c"),           # -c is proxy's, not pilot's
            (["version", "--output-format", "json"], "--output-format"),
        ]
        for args, flag in cases:
            with self.subTest(args=args):
                r = run(*args)
                self.assertExit(r, 2)
                line = self.assertOneStderrLine(r)
                self.assertIn("unknown flag", line)
                self.assertIn(flag, line)

    def test_bad_values_name_the_flag_and_the_value(self):
        cases = [
            (["pilot", "--concurrency", "abc"], "concurrency", "abc"),
            (["pilot", "--concurrency", "999"], "concurrency", "999"),
            (["pilot", "--concurrency=-1"], "concurrency", "-1"),
            (["pilot", "--drain-duration", "5"], "drain-duration", "5"),
            (["pilot", "--drain-duration", "-5s"], "drain-duration", "-5s"),
            (["pilot", "--grpcAddr", "nonsense"], "grpcAddr", "nonsense"),
            (["pilot", "--grpcAddr", "127.0.0.1:99999"], "grpcAddr", "127.0.0.1:99999"),
            (["pilot", "--monitoringAddr", "example.com:15014"], "monitoringAddr", "example.com:15014"),
            (["pilot", "--log_output_level", "default:loud"], "log_output_level", "default:loud"),
            (["pilot", "--log_output_level", "nosuchscope:info"], "log_output_level", "nosuchscope:info"),
            (["pilot", "--log_as_json=maybe"], "log_as_json", "maybe"),
            (["galley", "--validation-port", "70000"], "validation-port", "70000"),
            (["demo", "--ingress-port", "-1"], "ingress-port", "-1"),
            (["proxy", "--concurrency", "64"], "concurrency", "64"),
            (["proxy", "--file-flush-interval-msec", "0"], "file-flush-interval-msec", "0"),
            (["proxy", "--file-flush-interval-msec", "soon"], "file-flush-interval-msec", "soon"),
            (["multicluster-sync", "--monitoringAddr", ":http"], "monitoringAddr", ":http"),
            (["version", "-o", "yaml"], "output", "yaml"),
            (["validate", "-o", "yaml", "-f", "-"], "output", "yaml"),
        ]
        for args, flag, value in cases:
            with self.subTest(args=args):
                r = run(*args)
                self.assertExit(r, 2)
                line = self.assertOneStderrLine(r)
                self.assertIn("--" + flag, line)
                self.assertIn('"%s"' % value, line)

    def test_flag_missing_its_value(self):
        for args, flag in [(["pilot", "--configDir"], "configDir"), (["proxy", "-c"], "config-path"),
                           (["validate", "-f"], "filename"), (["version", "-o"], "output")]:
            with self.subTest(args=args):
                r = run(*args)
                self.assertExit(r, 2)
                line = self.assertOneStderrLine(r)
                self.assertIn("--" + flag, line)
                self.assertIn("needs a value", line)


class ProxyCommandTest(harness.MonomeshTestCase):
    """`proxy` is available: without a bootstrap it is a usage error; a bootstrap it cannot read
    is a start-up failure."""

    def test_no_config_is_one_line_naming_config_path(self):
        r = run("proxy")
        self.assertExit(r, 2)
        self.assertIn("--config-path", self.assertOneStderrLine(r))

    def test_nonexistent_config_exits_1(self):
        r = run("proxy", "-c", "/nonexistent")
        self.assertExit(r, 1)
        self.assertIn("/nonexistent", r.stdout + r.stderr)

    def test_valid_flags_with_a_nonexistent_config_exit_1(self):
        r = run("proxy", "-c", "/nonexistent", "--concurrency", "2", "--drain-time-s", "5", "--service-node", "n1",
                "--service-cluster", "c1", "--log_output_level", "debug")
        self.assertExit(r, 1)
        self.assertIn("/nonexistent", r.stdout + r.stderr)

    def test_log_as_json(self):
        r = run("proxy", "--log_as_json", "--log_output_level", "debug", "-c", "/nonexistent")
        self.assertExit(r, 1)
        lines = [l for l in r.stdout_lines if l.strip()]
        self.assertTrue(lines, r)
        for line in lines:
            try:
                json.loads(line)
            except ValueError:
                self.fail("proxy --log_as_json wrote a non-JSON line to stdout: %r" % line)


class NotAvailableRoleTest(harness.MonomeshTestCase):
    def assertNotAvailable(self, r, role):
        self.assertExit(r, 3)
        self.assertIn("not available", r.stderr)
        self.assertIn("Nothing was started", r.stderr)
        self.assertTrue(r.stderr.startswith("monomesh %s:" % role), r)

    def test_every_role_says_not_available_and_exits_3(self):
        for role in NOT_AVAILABLE:
            with self.subTest(role=role):
                self.assertNotAvailable(run(role), role)

    def test_roles_with_valid_flags(self):
        d = harness.TempDir(self)
        cases = {
            "multicluster-sync": ["--clusterID", "east", "--monitoringAddr", "[::1]:0"],
        }
        for role, args in cases.items():
            with self.subTest(role=role):
                self.assertNotAvailable(run(role, *args), role)

    def test_roles_never_listen(self):
        # Every address and port flag set to a free loopback port: the role exits 3 and every port
        # is still free afterwards.
        for role, port_flags in [("multicluster-sync", ["monitoringAddr"])]:
            with self.subTest(role=role):
                args, ports = [role], []
                for flag in port_flags:
                    port = harness.free_port()
                    ports.append(port)
                    if flag.endswith("Addr"):
                        value = "127.0.0.1:%d" % port
                    elif flag == "server-address":
                        value = "tcp://127.0.0.1:%d" % port
                    else:
                        value = str(port)
                    args += ["--" + flag, value]
                self.assertNotAvailable(run(*args), role)
                for port in ports:
                    self.assertTrue(harness.port_is_free(port), "port %d not free after %s" % (port, role))

    @unittest.skipUnless(shutil.which("strace"), "strace not installed")
    def test_roles_make_no_socket(self):
        d = harness.TempDir(self)
        for role in NOT_AVAILABLE:
            with self.subTest(role=role):
                trace = d.join(role + ".strace")
                r = run(role, wrapper=["strace", "-f", "-qq", "-e", "trace=socket,bind,listen", "-o", trace])
                if r.returncode != 3 and "ptrace" in r.stderr:
                    self.skipTest("strace cannot trace here: %s" % r.stderr.strip())
                self.assertNotAvailable(r, role)
                with open(trace) as f:
                    calls = [l for l in f if re.search(r"\b(socket|bind|listen)\(", l)]
                self.assertEqual(calls, [], "%s made socket calls" % role)

    def test_log_as_json(self):
        for role in NOT_AVAILABLE:
            with self.subTest(role=role):
                r = run(role, "--log_as_json", "--log_output_level", "debug")
                self.assertNotAvailable(r, role)
                for line in r.stdout_lines:
                    if line.strip():
                        try:
                            json.loads(line)
                        except ValueError:
                            self.fail("%s --log_as_json wrote a non-JSON line to stdout: %r" % (role, line))

    def test_unusable_log_target_is_a_usage_error(self):
        # A path that cannot be opened for writing (a folder): one line naming it, exit 2.
        d = harness.TempDir(self)
        r = run("pilot", "--log_target", d.path)
        self.assertExit(r, 2)
        self.assertIn(d.path, self.assertOneStderrLine(r))


class VersionTest(harness.MonomeshTestCase):
    def test_text(self):
        r = run("version")
        self.assertExit(r, 0)
        self.assertEqual(len(r.stdout_lines), 1, r)
        self.assertTrue(r.stdout.startswith("monomesh "), r)
        self.assertEqual(r.stderr, "")

    def test_short(self):
        for args in (["-o", "short"], ["--output", "short"], ["--output=short"], ["-o=short"]):
            with self.subTest(args=args):
                r = run("version", *args)
                self.assertExit(r, 0)
                self.assertRegex(r.stdout, r"^\d+\.\d+\.\d+\S*\n$")

    def test_json(self):
        r = run("version", "-o", "json")
        self.assertExit(r, 0)
        info = json.loads(r.stdout)
        self.assertIsInstance(info, dict)
        self.assertIn("version", info)

    def test_formats_agree(self):
        short = run("version", "-o", "short").stdout.strip()
        self.assertEqual(json.loads(run("version", "-o", "json").stdout)["version"], short)
        self.assertTrue(run("version").stdout.startswith("monomesh %s " % short))


if __name__ == "__main__":
    unittest.main()
