// Which objects get a sidecar and where it goes: every workload kind 1.1 handled, Lists, other
// kinds untouched, the inject annotation and policy, hostNetwork, pods already injected, and
// bad input reported with its position.
#include <boost/test/unit_test.hpp>

#include "galley/injection/pod_annotations.h"
#include "injection_test_util.h"

using namespace monomesh::galley::injection;
using namespace monomesh::galley::injection::testing;

namespace {

struct KindCase {
  std::string api_version, kind;
  std::vector<std::string> template_path;
};

std::string workloadText(const KindCase& c, const std::string& template_annotations = "") {
  std::string labels = "  labels:\n    app: web\n" + (template_annotations.empty() ? "" : "  annotations:\n" + template_annotations);
  std::string pod_spec = "spec:\n  containers:\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 8080\n";
  std::string out = "apiVersion: " + c.api_version + "\nkind: " + c.kind + "\nmetadata:\n  name: web\n  namespace: shop\n";
  if (c.template_path.empty()) return out + labels + pod_spec;  // a Pod is its own template
  std::string body = "metadata:\n" + labels + pod_spec;
  // Indent the pod template under its path.
  std::string indent;
  for (const auto& key : c.template_path) {
    out += indent + key + ":\n";
    indent += "  ";
  }
  std::string indented;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    indented += indent + body.substr(start, end - start + 1);
    start = end + 1;
  }
  return out + indented;
}

YAML::Node podTemplate(const YAML::Node& object, const std::vector<std::string>& path) {
  YAML::Node t = object;
  for (const auto& key : path) t.reset(t[key]);
  return t;
}

const std::vector<KindCase> kKinds = {
    {"v1", "Pod", {}},
    {"v1", "ReplicationController", {"spec", "template"}},
    {"apps/v1", "Deployment", {"spec", "template"}},
    {"extensions/v1beta1", "Deployment", {"spec", "template"}},
    {"apps/v1beta1", "Deployment", {"spec", "template"}},
    {"apps/v1", "ReplicaSet", {"spec", "template"}},
    {"extensions/v1beta1", "ReplicaSet", {"spec", "template"}},
    {"apps/v1", "StatefulSet", {"spec", "template"}},
    {"apps/v1", "DaemonSet", {"spec", "template"}},
    {"extensions/v1beta1", "DaemonSet", {"spec", "template"}},
    {"batch/v1", "Job", {"spec", "template"}},
    {"batch/v1beta1", "CronJob", {"spec", "jobTemplate", "spec", "template"}},
    {"batch/v2alpha1", "CronJob", {"spec", "jobTemplate", "spec", "template"}},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(injector)

BOOST_AUTO_TEST_CASE(every_workload_kind_gets_the_sidecar_in_its_pod_template) {
  Injector injector = chartInjector();
  for (const auto& c : kKinds) {
    BOOST_TEST_CONTEXT(c.api_version << " " << c.kind) {
      YAML::Node input = parse(workloadText(c));
      std::string before = toJson(input);
      InjectResult r = injector.injectObject(input);
      BOOST_TEST(r.errors.empty());
      BOOST_TEST(int(r.action) == int(InjectAction::Injected));
      BOOST_TEST(toJson(input) == before);  // the input is never changed
      YAML::Node t = podTemplate(r.object, c.template_path);
      BOOST_TEST(t["spec"]["containers"].size() == 2u);
      BOOST_TEST(stringValue(t["spec"]["containers"][0]["name"]) == "web");
      BOOST_TEST(named(t["spec"]["containers"], "istio-proxy").IsDefined());
      BOOST_TEST(named(t["spec"]["initContainers"], "istio-init").IsDefined());
      BOOST_TEST(named(t["spec"]["volumes"], "istio-envoy").IsDefined());
      BOOST_TEST(named(t["spec"]["volumes"], "istio-certs").IsDefined());
      BOOST_TEST(!stringValue(t["metadata"]["annotations"]["sidecar.istio.io/status"]).empty());
      BOOST_TEST(stringValue(r.object["metadata"]["name"]) == "web");
      // kube-inject's output is injected already: a second run changes nothing.
      InjectResult again = injector.injectObject(r.object);
      BOOST_TEST(int(again.action) == int(InjectAction::Skipped));
      BOOST_TEST(again.skipped.at(0).find("already injected") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(other_objects_pass_through_unchanged) {
  Injector injector = chartInjector();
  for (const char* text : {"apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
                           "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata: {name: r}\nspec: {hosts: [r]}\n",
                           "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: crd}\nspec: {template: {}}\n",
                           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n", "just a string\n", "[1, 2]\n"}) {
    BOOST_TEST_CONTEXT(text) {
      YAML::Node input = parse(text);
      InjectResult r = injector.injectObject(input);
      BOOST_TEST(int(r.action) == int(InjectAction::NotWorkload));
      BOOST_TEST(r.errors.empty());
      BOOST_TEST(jsonEqual(r.object, input));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_list_injects_each_workload_item) {
  YAML::Node list = parse("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s}\n" +
                          std::string("- ") + [] {
                            std::string d = kDeployment, out;
                            for (size_t i = 0; i < d.size(); ++i) out += d[i] == '\n' && i + 1 < d.size() ? "\n  " : std::string(1, d[i]);
                            return out;
                          }());
  InjectResult r = chartInjector().injectObject(list);
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(int(r.action) == int(InjectAction::Injected));
  BOOST_TEST(jsonEqual(r.object["items"][0], list["items"][0]));
  BOOST_TEST(named(r.object["items"][1]["spec"]["template"]["spec"]["containers"], "istio-proxy").IsDefined());
}

BOOST_AUTO_TEST_CASE(inject_annotation_opts_out_and_in) {
  for (const char* value : {"\"false\"", "\"no\"", "\"off\"", "\"n\"", "\"disabled\""}) {
    BOOST_TEST_CONTEXT(value) {
      InjectResult r = chartInjector().injectObject(parse(pod(std::string("    sidecar.istio.io/inject: ") + value + "\n")));
      BOOST_TEST(int(r.action) == int(InjectAction::Skipped));
      BOOST_TEST(r.skipped.at(0).find("sidecar.istio.io/inject") != std::string::npos, r.skipped.at(0));
      BOOST_TEST(r.skipped.at(0).find("Pod shop/web: ") == 0u, r.skipped.at(0));
    }
  }
  InjectionConfig disabled = defaultInjectionConfig();
  disabled.policy = InjectionPolicy::Disabled;
  BOOST_TEST(int(chartInjector(disabled).injectObject(parse(pod())).action) == int(InjectAction::Skipped));
  for (const char* value : {"\"true\"", "\"yes\"", "\"On\"", "\"Y\""}) {
    BOOST_TEST_CONTEXT(value) {
      InjectResult r = chartInjector(disabled).injectObject(parse(pod(std::string("    sidecar.istio.io/inject: ") + value + "\n")));
      BOOST_TEST(int(r.action) == int(InjectAction::Injected));
    }
  }
}

BOOST_AUTO_TEST_CASE(selectors_decide_when_the_annotation_is_absent) {
  InjectionConfig config = defaultInjectionConfig();
  LabelSelector web;
  web.match_labels["app"] = "web";
  config.never_inject_selector.push_back(web);
  InjectResult r = chartInjector(config).injectObject(parse(pod()));
  BOOST_TEST(int(r.action) == int(InjectAction::Skipped));
  BOOST_TEST(r.skipped.at(0).find("neverInjectSelector") != std::string::npos);
  // The annotation wins over the selector.
  BOOST_TEST(int(chartInjector(config).injectObject(parse(pod("    sidecar.istio.io/inject: \"true\"\n"))).action) ==
             int(InjectAction::Injected));
  InjectionConfig always = defaultInjectionConfig();
  always.policy = InjectionPolicy::Disabled;
  LabelSelector exists;
  exists.match_expressions.push_back({"app", "Exists", {}});
  always.always_inject_selector.push_back(exists);
  BOOST_TEST(int(chartInjector(always).injectObject(parse(pod())).action) == int(InjectAction::Injected));
  LabelSelector not_in;
  not_in.match_expressions.push_back({"app", "NotIn", {"web"}});
  BOOST_TEST(!not_in.matches({{"app", "web"}}));
  BOOST_TEST(not_in.matches({{"app", "db"}}));
}

BOOST_AUTO_TEST_CASE(host_network_system_namespaces_and_injected_pods_are_skipped) {
  Injector injector = chartInjector();
  InjectResult host = injector.injectObject(parse(pod("", "  hostNetwork: true\n")));
  BOOST_TEST(int(host.action) == int(InjectAction::Skipped));
  BOOST_TEST(host.skipped.at(0).find("host networking") != std::string::npos);
  BOOST_TEST(int(injector.injectObject(parse(pod("", "  hostNetwork: false\n"))).action) == int(InjectAction::Injected));

  std::string system = pod();
  system.replace(system.find("namespace: shop"), 15, "namespace: kube-system");
  BOOST_TEST(int(injector.injectObject(parse(system)).action) == int(InjectAction::Skipped));

  InjectResult status = injector.injectObject(parse(pod("    sidecar.istio.io/status: '{\"version\":\"x\"}'\n")));
  BOOST_TEST(int(status.action) == int(InjectAction::Skipped));
  std::string manual = pod();
  manual += "  - name: istio-proxy\n    image: docker.io/istio/proxyv2:1.1.0\n";
  InjectResult proxy = injector.injectObject(parse(manual));
  BOOST_TEST(int(proxy.action) == int(InjectAction::Skipped));
  BOOST_TEST(proxy.skipped.at(0).find("istio-proxy container") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_input_is_reported_with_its_position) {
  Injector injector = chartInjector();
  struct Case {
    std::string text, path, message;
    int line;
  };
  const std::vector<Case> cases = {
      {pod("    sidecar.istio.io/inject: false\n"), "metadata.annotations.sidecar.istio.io/inject", "must be a string (quote it: \"false\")", 9},
      {pod("    traffic.sidecar.istio.io/includeOutboundIPRanges: \"10.0.0.0/33\"\n"),
       "metadata.annotations.traffic.sidecar.istio.io/includeOutboundIPRanges", "\"10.0.0.0/33\" is not a CIDR", 9},
      {pod("    traffic.sidecar.istio.io/excludeInboundPorts: \"80,x\"\n"),
       "metadata.annotations.traffic.sidecar.istio.io/excludeInboundPorts", "\"x\" is not a port", 9},
      {pod("    status.sidecar.istio.io/port: \"70000\"\n"), "metadata.annotations.status.sidecar.istio.io/port", "not a port", 9},
      {pod("    sidecar.istio.io/interceptionMode: \"IPVS\"\n"), "metadata.annotations.sidecar.istio.io/interceptionMode",
       "\"IPVS\" is not one of REDIRECT, TPROXY, NONE", 9},
      {pod("    readiness.status.sidecar.istio.io/periodSeconds: \"-1\"\n"),
       "metadata.annotations.readiness.status.sidecar.istio.io/periodSeconds", "not an unsigned 32-bit integer", 9},
      {pod("    sidecar.istio.io/discoveryAddress: \"pilot\"\n"), "metadata.annotations", "\"pilot\" is not host:port", 4},
      {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 1\n", "spec.template", "missing", 5},
      {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template: [a]\n", "spec.template", "expected an object", 5},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: {}\n", "spec.containers", "expected a list of containers", 5},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "spec", "missing", 1},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: [a]}\nspec: {containers: []}\n", "metadata.labels", "expected a map", 3},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [], volumes: 3}\n", "spec.volumes", "expected a list", 4},
      {"apiVersion: v1\nkind: List\nitems: 5\n", "items", "expected a list", 3},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.text) {
      InjectResult r = injector.injectObject(parse(c.text));
      BOOST_TEST_REQUIRE(r.errors.size() == 1u);
      BOOST_TEST(r.errors[0].path == c.path);
      BOOST_TEST(r.errors[0].message.find(c.message) != std::string::npos, r.errors[0].message);
      BOOST_TEST(r.errors[0].position.line == c.line);
    }
  }
  InjectResult in_list = injector.injectObject(parse("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n"));
  BOOST_TEST_REQUIRE(in_list.errors.size() == 1u);
  BOOST_TEST(in_list.errors[0].path == "items[0].spec");
  BOOST_TEST(in_list.errors[0].subject == "Pod p");
}

BOOST_AUTO_TEST_CASE(odd_shapes_never_throw) {
  Injector injector = chartInjector();
  for (const char* text : {"apiVersion: v1\nkind: Pod\nmetadata: x\nspec: {containers: []}\n",
                           "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [x, 5, {ports: a}, {ports: [1, {containerPort: [1]}]}]}\n",
                           "apiVersion: v1\nkind: Pod\nmetadata: {annotations: {a: {b: c}}}\nspec: {containers: []}\n",
                           "apiVersion: v1\nkind: Pod\nspec: {hostNetwork: [true], containers: [], serviceAccountName: {a: b}}\n",
                           "apiVersion: v1\nkind: List\nitems: [1, [2], {kind: Pod}, {kind: Deployment, apiVersion: apps/v1, spec: 3}]\n",
                           "apiVersion: [v1]\nkind: {Pod: 1}\n", "kind: Pod\napiVersion: v1\nmetadata: ~\nspec:\n  containers:\n"}) {
    BOOST_TEST_CONTEXT(text) {
      InjectResult r = injector.injectObject(parse(text));
      for (const auto& e : r.errors) BOOST_TEST(!e.message.empty());
    }
  }
  InjectResult weird = injector.injectObject(parse("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [x, {ports: [1, {containerPort: [1]}]}]}\n"));
  BOOST_TEST(int(weird.action) == int(InjectAction::Injected));
  BOOST_TEST(argAfter(named(weird.object["spec"]["initContainers"], "istio-init")["args"], "-b") == "");
}

BOOST_AUTO_TEST_SUITE_END()
