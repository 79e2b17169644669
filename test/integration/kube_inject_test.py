"""`monomesh kube-inject`: bookinfo's Deployments get istio-init and istio-proxy, its Services come
out byte for byte; standard input and -o; the flags and config files; a second run changes nothing;
every Istio sample passes through; bad input is a clean file:line error with exit 1."""
import json
import os
import re
import unittest
import urllib.request

import harness
import pilot_harness
import proxy_harness as ph
from harness import run

SEPARATOR = re.compile(r"^---[ \t]*$")
ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")
WORKLOAD_KINDS = {"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
                  "ReplicationController", "List"}

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels: {app: web}
      annotations:
        traffic.sidecar.istio.io/excludeOutboundIPRanges: "10.96.0.0/12"
    spec:
      serviceAccountName: web-sa
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}, {containerPort: 8443}]
"""


def documents(text):
    """The documents of a YAML stream as Kubernetes splits it (a line that is `---`)."""
    docs, current = [], []
    for line in text.splitlines(keepends=True):
        if SEPARATOR.match(line.rstrip("\n")):
            docs.append("".join(current))
            current = []
        else:
            current.append(line)
    docs.append("".join(current))
    return docs


def kind_of(doc):
    m = re.search(r"^kind:\s*(\S+)", doc, re.M)
    return m.group(1) if m else None


def scalar(text):
    if text.startswith('"'):
        return json.loads(text)
    if text in ("{}", "[]"):
        return {} if text == "{}" else []
    if text == "null":
        return None
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def is_entry(text):
    """Whether a line (or what follows `- `) is `key: value` rather than a lone scalar."""
    if text.startswith('"'):
        _, end = json.JSONDecoder().raw_decode(text)
        return text[end:].startswith(":")
    return ": " in text or text.endswith(":")


def split_key(text):
    """(key, rest after the colon) of a `key: value` line as the writer prints it."""
    if text.startswith('"'):
        key, end = json.JSONDecoder().raw_decode(text)
    else:
        end = text.index(":")
        key = text[:end]
    return key, text[end + 1:].strip()


def parse_block(text):
    """Reads the block YAML monomesh writes for an injected object (maps, `- ` lists at the key's
    indent, plain or JSON-quoted scalars, {} and []). Enough to inspect the output with the
    standard library; not a general YAML reader."""
    lines = [(len(l) - len(l.lstrip(" ")), l.strip()) for l in text.splitlines()
             if l.strip() and not l.lstrip().startswith("#")]

    def node(i, indent):
        if lines[i][1].startswith("-"):
            return sequence(i, indent)
        if is_entry(lines[i][1]):
            return mapping(i, indent)
        return scalar(lines[i][1]), i + 1

    def sequence(i, indent):
        out = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
            rest = lines[i][1][1:].strip()
            if not rest:
                value, i = node(i + 1, lines[i + 1][0])
            elif not is_entry(rest):
                value, i = scalar(rest), i + 1
            else:
                lines[i] = (indent + 2, rest)
                value, i = mapping(i, indent + 2)
            out.append(value)
        return out, i

    def mapping(i, indent):
        out = {}
        while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
            key, rest = split_key(lines[i][1])
            if rest:
                out[key], i = scalar(rest), i + 1
            elif i + 1 < len(lines) and (lines[i + 1][0] > indent or lines[i + 1][1].startswith("-")):
                out[key], i = node(i + 1, lines[i + 1][0])
            else:
                out[key], i = None, i + 1
        return out, i

    value, _ = node(0, lines[0][0])
    return value


def named(items, name):
    return next((c for c in items or [] if c.get("name") == name), None)


def arg_after(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


class KubeInjectTest(unittest.TestCase):
    def setUp(self):
        self.tmp = harness.TempDir(self)

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code, r)

    def inject(self, text, *flags, code=0):
        r = run("kube-inject", "-f", "-", *flags, input=text)
        self.assertExit(r, code)
        return r

    def test_deployment_gets_init_and_proxy(self):
        r = self.inject(DEPLOYMENT)
        self.assertEqual(r.stderr, "")
        out = parse_block(r.stdout)
        pod = out["spec"]["template"]
        self.assertEqual([c["name"] for c in pod["spec"]["containers"]], ["web", "istio-proxy"])
        init = named(pod["spec"]["initContainers"], "istio-init")
        self.assertEqual(init["command"], ["monomesh", "iptables"])
        self.assertEqual(init["args"], ["-p", "15001", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "10.96.0.0/12",
                                        "-b", "80,8443", "-d", "15020"])
        self.assertEqual(init["securityContext"]["capabilities"]["add"], ["NET_ADMIN"])
        proxy = named(pod["spec"]["containers"], "istio-proxy")
        self.assertEqual(proxy["command"], ["monomesh"])
        self.assertEqual(proxy["args"][0], "proxy")
        self.assertEqual(arg_after(proxy["args"], "--service-node"),
                         "sidecar~$(INSTANCE_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local")
        self.assertEqual(arg_after(proxy["args"], "--service-cluster"), "web.default")
        bootstrap = json.loads(arg_after(proxy["args"], "--config-yaml"))
        xds = next(c for c in bootstrap["static_resources"]["clusters"] if c["name"] == "xds-grpc")
        self.assertEqual(xds["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"],
                         {"address": "istio-pilot.istio-system", "port_value": 15010})
        self.assertEqual(proxy["ports"], [{"containerPort": 15090, "protocol": "TCP", "name": "http-envoy-prom"}])
        self.assertEqual(proxy["readinessProbe"]["httpGet"], {"path": "/healthz/ready", "port": 15020})
        self.assertEqual(proxy["securityContext"]["runAsUser"], 1337)
        self.assertEqual(proxy["resources"], {"requests": {"cpu": "10m", "memory": "40Mi"}})
        self.assertEqual([e["name"] for e in proxy["env"]][:6], ["POD_NAME", "POD_NAMESPACE", "INSTANCE_IP", "ISTIO_META_POD_NAME",
                                                                 "ISTIO_META_CONFIG_NAMESPACE", "ISTIO_META_INTERCEPTION_MODE"])
        self.assertEqual(named(pod["spec"]["volumes"], "istio-certs")["secret"], {"optional": True, "secretName": "istio.web-sa"})
        self.assertEqual(named(pod["spec"]["volumes"], "istio-envoy")["emptyDir"], {"medium": "Memory"})
        status = json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])
        self.assertEqual(status["containers"], ["istio-proxy"])
        self.assertEqual(status["initContainers"], ["istio-init"])
        self.assertEqual(status["volumes"], ["istio-envoy", "istio-certs"])
        self.assertIsNone(status["imagePullSecrets"])
        self.assertRegex(status["version"], r"^[0-9a-f]{64}$")
        # The user's annotation stays a string.
        self.assertEqual(pod["metadata"]["annotations"]["traffic.sidecar.istio.io/excludeOutboundIPRanges"], "10.96.0.0/12")

    def test_bookinfo(self):
        samples = harness.samples_dir()
        path = os.path.join(samples, "bookinfo.yaml") if samples else None
        if not path or not os.path.isfile(path):
            self.skipTest("../shared/istio-samples/bookinfo.yaml not found; skipping")
        with open(path) as f:
            original = f.read()
        out_path = self.tmp.join("bookinfo-injected.yaml")
        r = run("kube-inject", "-f", path, "-o", out_path)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "")
        with open(out_path) as f:
            injected = f.read()
        before, after = documents(original), documents(injected)
        self.assertEqual(len(before), len(after))
        kinds = [kind_of(d) for d in before]
        self.assertEqual(kinds.count("Deployment"), 6, kinds)
        self.assertEqual(kinds.count("Service"), 4, kinds)
        for doc_in, doc_out in zip(before, after):
            kind = kind_of(doc_in)
            with self.subTest(kind=kind, doc=doc_in[-120:]):
                if kind != "Deployment":
                    self.assertEqual(doc_out, doc_in)
                    continue
                obj = parse_block(doc_out)
                spec = obj["spec"]["template"]["spec"]
                names = [c["name"] for c in spec["containers"]]
                self.assertEqual(len(names), 2, names)
                self.assertEqual(names[-1], "istio-proxy")
                self.assertEqual([c["name"] for c in spec["initContainers"]], ["istio-init"])
                port = re.search(r"containerPort: (\d+)", doc_in).group(1)
                self.assertEqual(arg_after(spec["initContainers"][0]["args"], "-b"), port)
                app = obj["spec"]["template"]["metadata"]["labels"]["app"]
                self.assertEqual(arg_after(spec["containers"][1]["args"], "--service-cluster"), app + ".default")
                self.assertEqual(obj["metadata"], parse_block(doc_in)["metadata"])
        # Injecting the output again changes nothing: every workload says it is injected already.
        again = run("kube-inject", "-f", out_path)
        self.assertExit(again, 0)
        self.assertEqual(again.stdout, injected)
        self.assertEqual(len([l for l in again.stderr_lines if "already injected" in l]), 6, again.stderr)

    def test_every_sample_passes_through(self):
        samples = harness.samples_dir()
        if samples is None:
            self.skipTest("../shared/istio-samples not found; skipping")
        for root, _dirs, names in os.walk(samples):
            for name in sorted(names):
                if not name.endswith(".yaml"):
                    continue
                path = os.path.join(root, name)
                with self.subTest(file=os.path.relpath(path, samples)):
                    with open(path) as f:
                        text = f.read()
                    r = run("kube-inject", "-f", path)
                    self.assertExit(r, 0)
                    for doc_in, doc_out in zip(documents(text), documents(r.stdout)):
                        if kind_of(doc_in) not in WORKLOAD_KINDS:
                            self.assertEqual(doc_out, doc_in)
                        else:
                            self.assertIn("istio-proxy", doc_out)

    def test_opt_out_and_host_network_are_left_alone(self):
        opted = DEPLOYMENT.replace('        traffic.sidecar.istio.io/excludeOutboundIPRanges: "10.96.0.0/12"\n',
                                   '        sidecar.istio.io/inject: "false"\n')
        r = self.inject(opted)
        self.assertEqual(r.stdout, opted)
        self.assertEqual(r.stderr_lines, ['monomesh kube-inject: skipped Deployment web: annotation sidecar.istio.io/inject: "false"'])
        host = DEPLOYMENT.replace("      serviceAccountName: web-sa\n", "      hostNetwork: true\n")
        r = self.inject(host)
        self.assertEqual(r.stdout, host)
        self.assertIn("host networking", r.stderr)

    def test_config_files_and_flags(self):
        mesh = self.tmp.write("mesh.yaml", "defaultConfig:\n  discoveryAddress: pilot.mesh:15010\n  concurrency: 4\n")
        config = self.tmp.write("inject.yaml", "values:\n  hub: registry.local/mm\n  tag: t1\n  initCommand: []\n")
        r = self.inject(DEPLOYMENT, "--meshConfigFile", mesh, "--injectConfigFile", config,
                        "--includeIPRanges", "10.0.0.0/8", "--excludeInboundPorts", "22")
        pod = parse_block(r.stdout)["spec"]["template"]["spec"]
        init, proxy = pod["initContainers"][0], named(pod["containers"], "istio-proxy")
        self.assertEqual(init["image"], "registry.local/mm/monomesh:t1")
        self.assertNotIn("command", init)
        self.assertEqual(arg_after(init["args"], "-i"), "10.0.0.0/8")
        self.assertEqual(arg_after(init["args"], "-d"), "22,15020")
        self.assertEqual(arg_after(proxy["args"], "--concurrency"), "4")
        self.assertIn('"address":"pilot.mesh","port_value":15010', arg_after(proxy["args"], "--config-yaml"))

    def test_bad_input_is_a_clean_error(self):
        bad_yaml = self.tmp.write("bad.yaml", "apiVersion: v1\nkind: Service\n---\nkind: Pod\nmetadata: {name: [x\n")
        r = run("kube-inject", "-f", bad_yaml)
        self.assertExit(r, 1)
        self.assertEqual(r.stdout, "")
        m = ERROR_LINE.match(r.stderr_lines[0])
        self.assertIsNotNone(m, r.stderr)
        self.assertEqual(m.group("file"), bad_yaml)
        self.assertGreaterEqual(int(m.group("line")), 5)
        self.assertIn("invalid YAML", m.group("message"))

        bad_value = DEPLOYMENT.replace('"10.96.0.0/12"', '"10.96.0.0/40"')
        r = self.inject(bad_value, code=1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr_lines, [
            '-:10:59: Deployment web: spec.template.metadata.annotations.traffic.sidecar.istio.io/excludeOutboundIPRanges: '
            '"10.96.0.0/40" is not a CIDR (address/prefix)'])
        out_path = self.tmp.join("never.yaml")
        r = run("kube-inject", "-f", "-", "-o", out_path, input=DEPLOYMENT.replace('"10.96.0.0/12"', "false"))
        self.assertExit(r, 1)
        self.assertIn("must be a string (quote it", r.stderr)
        self.assertFalse(os.path.exists(out_path))

        bad_config = self.tmp.write("inject.yaml", "policy: sometimes\n")
        r = self.inject(DEPLOYMENT, "--injectConfigFile", bad_config, code=1)
        self.assertEqual(r.stderr_lines, [bad_config + ':1:9: policy: "sometimes" is not enabled or disabled'])
        bad_mesh = self.tmp.write("mesh.yaml", "defaultConfig: {nope: 1}\n")
        r = self.inject(DEPLOYMENT, "--meshConfigFile", bad_mesh, code=1)
        self.assertTrue(r.stderr.startswith(bad_mesh + ":1:"), r.stderr)

        r = run("kube-inject", "-f", self.tmp.join("missing.yaml"))
        self.assertExit(r, 1)
        self.assertIn("missing.yaml: cannot read the file", r.stderr)
        self.assertExit(run("kube-inject"), 2)
        self.assertExit(run("kube-inject", "-f", "-", "--includeIPRanges", "10.0.0.0/99"), 2)
        self.assertExit(run("kube-inject", "-f", "-", "--nope"), 2)
        r = self.inject("kind: Pod\nmetadata: {name: a}\nspec: a: b: c\n", code=1)
        self.assertRegex(r.stderr, r"^-:3:\d+: invalid YAML")
        # Binary noise: an answer either way (yaml-cpp reads some of it as UTF-16 text), never a crash.
        for noise in (b"\xff\xfe{{{\x00 not yaml", bytes(range(256)), b"\x00" * 64, b"- [" * 3000):
            r = run("kube-inject", "-f", "-", input=noise)
            self.assertIn(r.returncode, (0, 1), r)

    def test_injected_proxy_follows_pilot(self):
        """The sidecar as injected, started the way Kubernetes would (its $(VAR)s expanded; fixed
        ports moved to free ones): it follows Pilot and its status port reports ready."""
        pilot = pilot_harness.Pilot(self.tmp.join("empty-config"))
        os.makedirs(pilot.config_dir)
        pilot.start()
        self.addCleanup(pilot.stop)
        admin, status, stats = harness.free_port(), harness.free_port(), harness.free_port()
        mesh = self.tmp.write("mesh.yaml", "defaultConfig:\n  discoveryAddress: 127.0.0.1:%d\n  proxyAdminPort: %d\n"
                              % (pilot.grpc_port, admin))
        deployment = DEPLOYMENT.replace('        traffic.sidecar.istio.io/excludeOutboundIPRanges: "10.96.0.0/12"\n',
                                        '        sidecar.istio.io/interceptionMode: NONE\n'
                                        '        status.sidecar.istio.io/port: "%d"\n' % status)
        r = self.inject(deployment, "--meshConfigFile", mesh)
        proxy_spec = named(parse_block(r.stdout)["spec"]["template"]["spec"]["containers"], "istio-proxy")
        args = proxy_spec["args"]

        def expand(text):
            for var, value in (("INSTANCE_IP", "127.0.0.1"), ("POD_NAME", "web-1"), ("POD_NAMESPACE", "default")):
                text = text.replace("$(%s)" % var, value)
            return text
        bootstrap = json.loads(expand(arg_after(args, "--config-yaml")))
        for listener in bootstrap["static_resources"]["listeners"]:
            address = listener["address"]["socket_address"]
            address["address"] = "127.0.0.1"
            if address["port_value"] == 15090:
                address["port_value"] = stats
        node = expand(arg_after(args, "--service-node"))
        self.assertEqual(node, "sidecar~127.0.0.1~web-1.default~default.svc.cluster.local")
        proxy = ph.Proxy(bootstrap, extra_args=["--service-node", node, "--service-cluster", arg_after(args, "--service-cluster")])
        proxy.start()
        self.addCleanup(proxy.stop)
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz/ready" % status, timeout=5) as ready:
            self.assertEqual(ready.status, 200)
        with urllib.request.urlopen("http://127.0.0.1:%d/stats/prometheus" % stats, timeout=5) as prom:
            self.assertIn(b"# TYPE", prom.read())
        self.assertIn("following the control plane at 127.0.0.1:%d" % pilot.grpc_port, proxy.log())

    def test_help_names_the_command(self):
        r = run("kube-inject", "--help")
        self.assertExit(r, 0)
        self.assertIn("monomesh kube-inject -f FILE|-", r.stdout)
        self.assertIn("kube-inject", run("--help").stdout)


if __name__ == "__main__":
    unittest.main()
