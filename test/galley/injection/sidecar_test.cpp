// What the sidecar is: istio-init's capture arguments, the istio-proxy container (command,
// bootstrap, env, probe, security, resources, mounts), the volumes and the status annotation,
// with the annotations and values that change them; and the injection config file.
#include <boost/test/unit_test.hpp>

#include "galley/injection/sidecar_spec.h"
#include "galley/injection/yaml_writer.h"
#include "injection_test_util.h"
#include "observe/build_info.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "proxy/config/bootstrap_loader.h"

using namespace monomesh::galley::injection;
using namespace monomesh::galley::injection::testing;

namespace {

YAML::Node injectedSpec(const std::string& text, InjectionConfig config = defaultInjectionConfig()) {
  InjectResult r = chartInjector(std::move(config)).injectObject(parse(text));
  BOOST_TEST_REQUIRE(r.errors.empty(), (r.errors.empty() ? "" : r.errors[0].str()));
  BOOST_TEST_REQUIRE(int(r.action) == int(InjectAction::Injected));
  return stringValue(r.object["kind"]) == "Pod" ? r.object : YAML::Node(r.object["spec"]["template"]);
}

std::vector<std::string> initArgs(const YAML::Node& t) { return stringList(named(t["spec"]["initContainers"], "istio-init")["args"]); }
YAML::Node proxy(const YAML::Node& t) { return named(t["spec"]["containers"], "istio-proxy"); }
YAML::Node bootstrapOf(const YAML::Node& t) { return YAML::Load(argAfter(proxy(t)["args"], "--config-yaml")); }

}  // namespace

BOOST_AUTO_TEST_SUITE(sidecar)

BOOST_AUTO_TEST_CASE(init_container_runs_the_capture_with_1_1_arguments) {
  YAML::Node t = injectedSpec(kDeployment);
  YAML::Node init = named(t["spec"]["initContainers"], "istio-init");
  BOOST_TEST(stringValue(init["image"]) == "docker.io/monomesh/monomesh:" + monomesh::observe::buildInfo().version);
  BOOST_TEST(stringList(init["command"]) == (std::vector<std::string>{"monomesh", "iptables"}), boost::test_tools::per_element());
  BOOST_TEST(initArgs(t) == (std::vector<std::string>{"-p", "15001", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b",
                                                     "9080", "-d", "15020"}),
             boost::test_tools::per_element());
  BOOST_TEST(stringList(init["securityContext"]["capabilities"]["add"]) == std::vector<std::string>{"NET_ADMIN"},
             boost::test_tools::per_element());
  BOOST_TEST(int(jsonKind(init["args"][1])) == int(JsonKind::String));  // "15001", not 15001
}

BOOST_AUTO_TEST_CASE(capture_annotations_change_the_arguments) {
  YAML::Node t = injectedSpec(pod("    traffic.sidecar.istio.io/includeOutboundIPRanges: \"10.0.0.0/8,172.16.0.0/12\"\n"
                                  "    traffic.sidecar.istio.io/excludeOutboundIPRanges: \"10.1.0.0/16\"\n"
                                  "    traffic.sidecar.istio.io/excludeInboundPorts: \"8080\"\n"
                                  "    traffic.sidecar.istio.io/kubevirtInterfaces: \"net1\"\n"));
  BOOST_TEST(initArgs(t) == (std::vector<std::string>{"-p", "15001", "-u", "1337", "-m", "REDIRECT", "-i", "10.0.0.0/8,172.16.0.0/12",
                                                     "-x", "10.1.0.0/16", "-b", "80,443", "-d", "8080,15020", "-k", "net1"}),
             boost::test_tools::per_element());
  YAML::Node all = injectedSpec(pod("    traffic.sidecar.istio.io/includeInboundPorts: \"*\"\n    status.sidecar.istio.io/port: \"0\"\n"));
  BOOST_TEST(argAfter(named(all["spec"]["initContainers"], "istio-init")["args"], "-b") == "*");
  BOOST_TEST(argAfter(named(all["spec"]["initContainers"], "istio-init")["args"], "-d") == "");
  BOOST_TEST(!proxy(all)["readinessProbe"].IsDefined());
  BOOST_TEST(bootstrapOf(all)["static_resources"]["listeners"].size() == 1u);  // no status listener

  YAML::Node none = injectedSpec(pod("    sidecar.istio.io/interceptionMode: NONE\n"));
  BOOST_TEST(!none["spec"]["initContainers"].IsDefined());
  BOOST_TEST(stringValue(none["metadata"]["annotations"]["sidecar.istio.io/status"]).find("\"initContainers\":null") != std::string::npos);

  YAML::Node tproxy = injectedSpec(pod("    sidecar.istio.io/interceptionMode: TPROXY\n"));
  BOOST_TEST(argAfter(named(tproxy["spec"]["initContainers"], "istio-init")["args"], "-m") == "TPROXY");
  BOOST_TEST(stringList(proxy(tproxy)["securityContext"]["capabilities"]["add"]) == std::vector<std::string>{"NET_ADMIN"},
             boost::test_tools::per_element());
  BOOST_TEST(!proxy(tproxy)["securityContext"]["runAsUser"].IsDefined());
}

BOOST_AUTO_TEST_CASE(proxy_container_runs_monomesh_proxy_as_pilot_agent_would_start_envoy) {
  YAML::Node t = injectedSpec(kDeployment);
  YAML::Node p = proxy(t);
  BOOST_TEST(stringList(p["command"]) == std::vector<std::string>{"monomesh"}, boost::test_tools::per_element());
  BOOST_TEST(p["args"][0].Scalar() == "proxy");
  const std::string node_id = "sidecar~$(INSTANCE_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local";
  BOOST_TEST(argAfter(p["args"], "--service-node") == node_id);
  BOOST_TEST(argAfter(p["args"], "--service-cluster") == "details.bookinfo");
  BOOST_TEST(argAfter(p["args"], "--drain-time-s") == "45");
  BOOST_TEST(argAfter(p["args"], "--concurrency") == "2");
  YAML::Node port = p["ports"][0];
  BOOST_TEST(toJson(port) == R"({"containerPort":15090,"protocol":"TCP","name":"http-envoy-prom"})");
  std::vector<std::string> env;
  for (const auto& e : p["env"]) env.push_back(stringValue(e["name"]));
  BOOST_TEST(env == (std::vector<std::string>{"POD_NAME", "POD_NAMESPACE", "INSTANCE_IP", "ISTIO_META_POD_NAME", "ISTIO_META_CONFIG_NAMESPACE",
                                              "ISTIO_META_INTERCEPTION_MODE", "ISTIO_METAJSON_LABELS"}),
             boost::test_tools::per_element());
  BOOST_TEST(toJson(p["env"][2]) == R"({"name":"INSTANCE_IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}})");
  BOOST_TEST(stringValue(p["env"][5]["value"]) == "REDIRECT");
  BOOST_TEST(stringValue(p["env"][6]["value"]) == "{\"app\":\"details\",\"version\":\"v1\"}\n");
  BOOST_TEST(toJson(p["readinessProbe"]) ==
             R"({"httpGet":{"path":"/healthz/ready","port":15020},"initialDelaySeconds":1,"periodSeconds":2,"failureThreshold":30})");
  BOOST_TEST(toJson(p["securityContext"]) == R"({"readOnlyRootFilesystem":true,"runAsUser":1337})");
  BOOST_TEST(toJson(p["resources"]) == R"({"requests":{"cpu":"10m","memory":"40Mi"}})");
  BOOST_TEST(toJson(p["volumeMounts"]) ==
             R"([{"mountPath":"/etc/istio/proxy","name":"istio-envoy"},{"mountPath":"/etc/certs/","name":"istio-certs","readOnly":true}])");
  BOOST_TEST(toJson(t["spec"]["volumes"]) ==
             R"([{"emptyDir":{"medium":"Memory"},"name":"istio-envoy"},{"name":"istio-certs","secret":{"optional":true,"secretName":"istio.default"}}])");
}

BOOST_AUTO_TEST_CASE(bootstrap_is_one_the_proxy_loads) {
  YAML::Node t = injectedSpec(kDeployment);
  std::string json = argAfter(proxy(t)["args"], "--config-yaml");
  YAML::Node b = YAML::Load(json);
  BOOST_TEST(stringValue(b["node"]["id"]) == "sidecar~$(INSTANCE_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local");
  BOOST_TEST(stringValue(b["node"]["cluster"]) == "details.bookinfo");
  BOOST_TEST(stringValue(b["node"]["metadata"]["app"]) == "details");
  BOOST_TEST(stringValue(b["node"]["metadata"]["CONFIG_NAMESPACE"]) == "$(POD_NAMESPACE)");
  BOOST_TEST(stringValue(b["node"]["metadata"]["INTERCEPTION_MODE"]) == "REDIRECT");
  YAML::Node xds = named(b["static_resources"]["clusters"], "xds-grpc");
  BOOST_TEST(toJson(xds["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]) ==
             R"({"socket_address":{"address":"istio-pilot.istio-system","port_value":15010}})");
  BOOST_TEST(stringValue(xds["connect_timeout"]) == "10s");
  BOOST_TEST(!xds["transport_socket"].IsDefined());
  // The typed configs resolve through the generated descriptor pool: keep their types linked in.
  BOOST_TEST(!envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::descriptor()->full_name().empty());
  BOOST_TEST(!envoy::extensions::filters::http::router::v3::Router::descriptor()->full_name().empty());
  BOOST_TEST(!envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext::descriptor()->full_name().empty());
  envoy::config::bootstrap::v3::Bootstrap loaded;
  auto errors = monomesh::proxy::loadBootstrap("", json, loaded);
  BOOST_TEST(errors.empty(), (errors.empty() ? "" : errors[0].str()));
  BOOST_TEST_REQUIRE(loaded.static_resources().listeners_size() == 2);
  BOOST_TEST(loaded.static_resources().listeners(1).address().socket_address().port_value() == 15020u);

  YAML::Node mtls = injectedSpec(pod("    sidecar.istio.io/controlPlaneAuthPolicy: MUTUAL_TLS\n"
                                     "    sidecar.istio.io/discoveryAddress: istio-pilot.istio-control:15011\n"));
  std::string mtls_json = argAfter(proxy(mtls)["args"], "--config-yaml");
  YAML::Node tls = named(YAML::Load(mtls_json)["static_resources"]["clusters"], "xds-grpc")["transport_socket"];
  BOOST_TEST(toJson(tls["typed_config"]["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"]) ==
             R"([{"san_type":"URI","matcher":{"exact":"spiffe://cluster.local/ns/istio-control/sa/istio-pilot-service-account"}}])");
  errors = monomesh::proxy::loadBootstrap("", mtls_json, loaded);
  BOOST_TEST(errors.empty(), (errors.empty() ? "" : errors[0].str()));
}

BOOST_AUTO_TEST_CASE(pod_text_in_args_is_kept_from_kubernetes_expansion) {
  std::string text = pod();
  text.replace(text.find("app: web"), 8, "app: $(HOME)");
  YAML::Node t = injectedSpec(text);
  BOOST_TEST(argAfter(proxy(t)["args"], "--service-cluster") == "$$(HOME).shop");
  BOOST_TEST(stringValue(bootstrapOf(t)["node"]["metadata"]["app"]) == "$$(HOME)");
}

BOOST_AUTO_TEST_CASE(status_annotation_lists_what_was_added) {
  YAML::Node t = injectedSpec(kDeployment);
  std::string status = stringValue(t["metadata"]["annotations"]["sidecar.istio.io/status"]);
  std::string version = chartInjector().version();
  BOOST_TEST(version.size() == 64u);
  BOOST_TEST(status == R"({"version":")" + version +
                           R"(","initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-certs"],"imagePullSecrets":null})");
  InjectionConfig other = defaultInjectionConfig();
  other.values.tag = "other";
  BOOST_TEST(chartInjector(other).version() != version);
}

BOOST_AUTO_TEST_CASE(values_and_pod_annotations_shape_the_sidecar) {
  InjectionConfig config = defaultInjectionConfig();
  config.values.hub = "registry.local/mesh";
  config.values.tag = "7";
  config.values.init_image = "proxy_init";
  config.values.init_command.clear();
  config.values.include_inbound_ports = "*";
  config.values.limits_cpu = "2";
  config.values.network = "net-a";
  std::string text = pod("    sidecar.istio.io/proxyImage: other/proxy:1\n    sidecar.istio.io/proxyMemory: 64Mi\n"
                         "    readiness.status.sidecar.istio.io/periodSeconds: \"9\"\n    status.sidecar.istio.io/port: \"15021\"\n",
                         "  serviceAccountName: web-sa\n");
  YAML::Node t = injectedSpec(text, config);
  YAML::Node init = named(t["spec"]["initContainers"], "istio-init");
  BOOST_TEST(stringValue(init["image"]) == "registry.local/mesh/proxy_init:7");
  BOOST_TEST(!init["command"].IsDefined());
  BOOST_TEST(argAfter(init["args"], "-b") == "*");
  BOOST_TEST(argAfter(init["args"], "-d") == "15021");
  YAML::Node p = proxy(t);
  BOOST_TEST(stringValue(p["image"]) == "other/proxy:1");
  BOOST_TEST(toJson(p["resources"]) == R"({"requests":{"memory":"64Mi"}})");
  BOOST_TEST(toJson(p["readinessProbe"]["httpGet"]["port"]) == "15021");
  BOOST_TEST(toJson(p["readinessProbe"]["periodSeconds"]) == "9");
  BOOST_TEST(stringValue(named(p["env"], "ISTIO_META_NETWORK")["value"]) == "net-a");
  BOOST_TEST(stringValue(bootstrapOf(t)["node"]["metadata"]["NETWORK"]) == "net-a");
  BOOST_TEST(stringValue(named(t["spec"]["volumes"], "istio-certs")["secret"]["secretName"]) == "istio.web-sa");
}

BOOST_AUTO_TEST_CASE(injected_objects_write_back_as_equal_yaml) {
  InjectResult r = chartInjector().injectObject(parse(kDeployment));
  std::string written = toYaml(r.object);
  BOOST_TEST(jsonEqual(YAML::Load(written), r.object), written);
}

BOOST_AUTO_TEST_CASE(injection_config_file_is_read_with_positions) {
  InjectionConfig config = defaultInjectionConfig();
  std::vector<std::string> notes;
  auto errors = readInjectionConfig(R"(policy: disabled
alwaysInjectSelector:
- matchLabels: {team: a}
template: |
  initContainers: []
values:
  hub: example.com/x
  statusPort: 15021
  resources:
    requests: {cpu: 1, memory: 1Gi}
  privileged: true
)", "inject.yaml", config, notes);
  BOOST_TEST(errors.empty(), (errors.empty() ? "" : errors[0].str()));
  BOOST_TEST(int(config.policy) == int(InjectionPolicy::Disabled));
  BOOST_TEST(config.always_inject_selector.at(0).match_labels.at("team") == "a");
  BOOST_TEST(config.values.hub == "example.com/x");
  BOOST_TEST(config.values.status_port == 15021);
  BOOST_TEST(config.values.requests_cpu == "1");
  BOOST_TEST(config.values.privileged);
  BOOST_TEST_REQUIRE(notes.size() == 1u);
  BOOST_TEST(notes[0].find("inject.yaml:4: note:") == 0u, notes[0]);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"policy: sometimes\n", "inject.yaml:1:9: policy: \"sometimes\" is not enabled or disabled"},
      {"values:\n  statusPort: 70000\n", "inject.yaml:2:15: values.statusPort: expected an integer from 0 to 65535"},
      {"values:\n  hub: [a]\n", "inject.yaml:2:8: values.hub: expected a string"},
      {"values:\n  nope: 1\n", "inject.yaml:2:3: values.nope: unknown field"},
      {"neverInjectSelector:\n- matchExpressions: [{key: a, operator: Near}]\n", "operator: \"Near\" is not one of"},
      {"neverInjectSelector:\n- matchExpressions: [{key: a, operator: In}]\n", "In and NotIn need values"},
      {"policy: [\n", "inject.yaml:2:1: invalid YAML"},
      {"- a\n", "expected an object"},
      {"values:\n  proxyCommand: []\n", "the proxy container needs a command"},
  };
  for (const auto& [text, expected] : bad) {
    BOOST_TEST_CONTEXT(text) {
      InjectionConfig c = defaultInjectionConfig();
      auto errs = readInjectionConfig(text, "inject.yaml", c, notes);
      BOOST_TEST_REQUIRE(!errs.empty());
      BOOST_TEST(errs[0].str().find(expected) != std::string::npos, errs[0].str());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
