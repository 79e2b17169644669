// loader: YAML/JSON text (multi-document, `kind: List`) to resources, with Kubernetes metadata rules.
#include <boost/test/unit_test.hpp>
#include <google/protobuf/struct.pb.h>

#include "config/loader.h"
#include "config_test_util.h"
#include "istio/authentication/v1alpha1/policy.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "k8s/api/core/v1/core.pb.h"

namespace net = istio::networking::v1alpha3;
namespace kcore = k8s::io::api::core::v1;
using namespace monomesh::config;
using monomesh::config::testing::contains;
using monomesh::config::testing::joinErrors;

namespace {

const char* kVirtualService =
    "apiVersion: networking.istio.io/v1alpha3\n"
    "kind: VirtualService\n"
    "metadata:\n"
    "  name: reviews\n"
    "spec:\n"
    "  hosts: [reviews]\n";

// A one-document file holding `kind` with `spec` lines appended.
std::string istioDoc(const std::string& api_version, const std::string& kind, const std::string& metadata,
                     const std::string& spec = "") {
  return "apiVersion: " + api_version + "\nkind: " + kind + "\nmetadata:\n" + metadata + (spec.empty() ? "" : "spec:\n" + spec);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(loader)

BOOST_AUTO_TEST_CASE(single_virtual_service) {
  auto result = loadYaml(kVirtualService, "vs.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  BOOST_TEST_REQUIRE(result.resources.size() == 1u);
  const Resource& r = result.resources[0];
  BOOST_TEST(r.schema->kind == "VirtualService");
  BOOST_TEST(r.meta.name == "reviews");
  BOOST_TEST(r.as<net::VirtualService>().hosts(0) == "reviews");
  BOOST_TEST(r.origin.file == "vs.yaml");
  BOOST_TEST(r.origin.line == 1);
  BOOST_TEST(r.key().str() == "VirtualService default/reviews");
}

BOOST_AUTO_TEST_CASE(multi_document_with_empty_documents) {
  std::string text = std::string("---\n") + kVirtualService +
                     "---\n"
                     "---\n"
                     "# only a comment\n"
                     "---\n"
                     "apiVersion: networking.istio.io/v1alpha3\n"
                     "kind: DestinationRule\n"
                     "metadata: {name: reviews, namespace: ns1}\n"
                     "spec: {host: reviews}\n"
                     "---\n";
  auto result = loadYaml(text, "multi.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  BOOST_TEST_REQUIRE(result.resources.size() == 2u);
  BOOST_TEST(result.resources[0].schema->kind == "VirtualService");
  BOOST_TEST(result.resources[0].origin.line == 2);
  BOOST_TEST(result.resources[1].schema->kind == "DestinationRule");
  BOOST_TEST(result.resources[1].meta.namespace_ == "ns1");
  BOOST_TEST(result.resources[1].origin.line == 12);
  BOOST_TEST(result.resources[1].as<net::DestinationRule>().host() == "reviews");
}

BOOST_AUTO_TEST_CASE(empty_text_loads_nothing) {
  auto result = loadYaml("", "empty.yaml");
  BOOST_TEST(result.ok());
  BOOST_TEST(result.resources.empty());
  BOOST_TEST(result.skipped.empty());
}

BOOST_AUTO_TEST_CASE(kind_list_with_items) {
  auto result = loadYaml(
      "apiVersion: v1\n"
      "kind: List\n"
      "items:\n"
      "- apiVersion: networking.istio.io/v1alpha3\n"
      "  kind: VirtualService\n"
      "  metadata: {name: a}\n"
      "  spec: {hosts: [a]}\n"
      "- apiVersion: v1\n"
      "  kind: Service\n"
      "  metadata: {name: b, namespace: web}\n"
      "  spec: {ports: [{port: 80}]}\n"
      "- apiVersion: apps/v1\n"
      "  kind: Deployment\n"
      "  metadata: {name: c}\n",
      "list.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  BOOST_TEST_REQUIRE(result.resources.size() == 2u);
  BOOST_TEST(result.resources[0].key().str() == "VirtualService default/a");
  BOOST_TEST(result.resources[1].key().str() == "Service web/b");
  BOOST_TEST(result.resources[1].origin.line == 8);
  BOOST_TEST(result.skipped.size() == 1u);
}

BOOST_AUTO_TEST_CASE(kind_list_items_must_be_a_list) {
  auto result = loadYaml("apiVersion: v1\nkind: List\nitems: {a: 1}\n", "list.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "items");
  BOOST_TEST(contains(result.errors[0].message, "expected a list"), result.errors[0].message);
}

BOOST_AUTO_TEST_CASE(missing_api_version) {
  auto result = loadYaml("kind: VirtualService\nmetadata: {name: a}\n", "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "apiVersion");
  BOOST_TEST(contains(result.errors[0].message, "required"), result.errors[0].message);
  BOOST_TEST(result.errors[0].position.line == 1);
  BOOST_TEST(result.resources.empty());
}

BOOST_AUTO_TEST_CASE(missing_kind) {
  auto result = loadYaml("apiVersion: networking.istio.io/v1alpha3\nmetadata: {name: a}\n", "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "kind");
  BOOST_TEST(contains(result.errors[0].message, "required"), result.errors[0].message);
}

BOOST_AUTO_TEST_CASE(document_that_is_not_a_mapping) {
  auto result = loadYaml("- a\n- b\n", "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(contains(result.errors[0].message, "a document must be a mapping"), result.errors[0].message);
  BOOST_TEST(contains(result.errors[0].message, "got a list"), result.errors[0].message);
}

BOOST_AUTO_TEST_CASE(unknown_kind_in_an_istio_group) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualServise", "  name: a\n"), "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "kind");
  BOOST_TEST(result.errors[0].message == "unknown kind \"VirtualServise\" in networking.istio.io");
  BOOST_TEST(result.errors[0].position.line == 2);
  BOOST_TEST(result.errors[0].position.column == 7);
  BOOST_TEST(result.skipped.empty());
}

BOOST_AUTO_TEST_CASE(wrong_version_names_the_right_one) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1beta1", "VirtualService", "  name: a\n", "  hosts: [a]\n"),
                         "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "apiVersion");
  BOOST_TEST(contains(result.errors[0].message, "\"networking.istio.io/v1beta1\" is not an Istio 1.1 API version"),
             result.errors[0].message);
  BOOST_TEST(contains(result.errors[0].message, "use networking.istio.io/v1alpha3"), result.errors[0].message);
  BOOST_TEST(result.errors[0].position.line == 1);
  BOOST_TEST(result.errors[0].position.column == 13);
  BOOST_TEST(result.resources.empty());
}

BOOST_AUTO_TEST_CASE(deployment_and_service_account_are_skipped_not_errors) {
  auto result = loadYaml(
      "apiVersion: v1\n"
      "kind: ServiceAccount\n"
      "metadata: {name: bookinfo-details}\n"
      "---\n"
      "apiVersion: extensions/v1beta1\n"
      "kind: Deployment\n"
      "metadata: {name: details-v1}\n"
      "spec: {replicas: 1, anything: [goes]}\n",
      "f.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  BOOST_TEST(result.resources.empty());
  BOOST_TEST_REQUIRE(result.skipped.size() == 2u);
  BOOST_TEST(result.skipped[0].kind == "ServiceAccount");
  BOOST_TEST(result.skipped[0].api_version == "v1");
  BOOST_TEST(result.skipped[0].name == "bookinfo-details");
  BOOST_TEST(result.skipped[1].kind == "Deployment");
  BOOST_TEST(result.skipped[1].api_version == "extensions/v1beta1");
  BOOST_TEST(result.skipped[1].name == "details-v1");
  BOOST_TEST(result.skipped[1].position.line == 5);
}

BOOST_AUTO_TEST_CASE(default_namespace_is_default) {
  auto result = loadYaml(kVirtualService, "f.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  BOOST_TEST(result.resources.at(0).meta.namespace_ == "default");
}

BOOST_AUTO_TEST_CASE(default_namespace_comes_from_options) {
  LoadOptions options;
  options.default_namespace = "team-a";
  auto result = loadYaml(kVirtualService, "f.yaml", options);
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  BOOST_TEST(result.resources.at(0).meta.namespace_ == "team-a");
}

BOOST_AUTO_TEST_CASE(cluster_scoped_kinds_have_no_namespace) {
  auto result = loadYaml(
      "apiVersion: authentication.istio.io/v1alpha1\n"
      "kind: MeshPolicy\n"
      "metadata: {name: default, namespace: istio-system}\n"
      "spec: {peers: [{mtls: {}}]}\n"
      "---\n"
      "apiVersion: rbac.istio.io/v1alpha1\n"
      "kind: ClusterRbacConfig\n"
      "metadata: {name: default}\n"
      "spec: {mode: 'ON'}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Node\n"
      "metadata: {name: node-1, namespace: default}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Namespace\n"
      "metadata: {name: bookinfo}\n",
      "f.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  BOOST_TEST_REQUIRE(result.resources.size() == 4u);
  const char* kinds[] = {"MeshPolicy", "ClusterRbacConfig", "Node", "Namespace"};
  for (size_t i = 0; i < 4; ++i) {
    BOOST_TEST_CONTEXT(kinds[i]) {
      BOOST_TEST(result.resources[i].schema->kind == kinds[i]);
      BOOST_TEST(result.resources[i].meta.namespace_.empty());
      BOOST_TEST(!result.resources[i].schema->namespaced());
    }
  }
  BOOST_TEST(result.resources[0].key().str() == "MeshPolicy default");
}

BOOST_AUTO_TEST_CASE(metadata_is_read) {
  auto result = loadYaml(
      "apiVersion: networking.istio.io/v1alpha3\n"
      "kind: Gateway\n"
      "metadata:\n"
      "  name: gw.example\n"
      "  namespace: istio-system\n"
      "  labels: {app: ingress, version: \"1\"}\n"
      "  annotations: {note: hello}\n"
      "  resourceVersion: \"17\"\n"
      "  uid: abc-123\n"
      "  generation: 4\n"
      "  creationTimestamp: 2019-03-19T16:04:28Z\n"
      "spec: {selector: {istio: ingressgateway}}\n",
      "f.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  const ObjectMeta& meta = result.resources.at(0).meta;
  BOOST_TEST(meta.name == "gw.example");
  BOOST_TEST(meta.namespace_ == "istio-system");
  BOOST_TEST(meta.labels.size() == 2u);
  BOOST_TEST(meta.labels.at("version") == "1");
  BOOST_TEST(meta.annotations.at("note") == "hello");
  BOOST_TEST(meta.resource_version == "17");
  BOOST_TEST(meta.uid == "abc-123");
  BOOST_TEST(meta.generation == 4);
  BOOST_TEST(meta.creation_timestamp == "2019-03-19T16:04:28Z");
}

BOOST_AUTO_TEST_CASE(invalid_metadata_name) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: Reviews_V1\n",
                                  "  hosts: [reviews]\n"),
                         "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  const ConfigError& e = result.errors[0];
  BOOST_TEST(e.subject == "VirtualService default/Reviews_V1");
  BOOST_TEST(e.path == "metadata.name");
  BOOST_TEST(contains(e.message, "\"Reviews_V1\" is not a valid name"), e.message);
  BOOST_TEST(e.position.line == 4);
  BOOST_TEST(e.position.column == 9);
  BOOST_TEST(result.resources.empty());
}

BOOST_AUTO_TEST_CASE(missing_metadata_name) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  namespace: a\n"), "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "metadata.name");
  BOOST_TEST(result.errors[0].message == "required");
}

BOOST_AUTO_TEST_CASE(missing_metadata) {
  auto result = loadYaml("apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nspec: {hosts: [a]}\n", "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "metadata");
  BOOST_TEST(contains(result.errors[0].message, "required"), result.errors[0].message);
}

BOOST_AUTO_TEST_CASE(invalid_namespace) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: a\n  namespace: Team.A\n"),
                         "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "metadata.namespace");
  BOOST_TEST(contains(result.errors[0].message, "is not a valid namespace name"), result.errors[0].message);
}

BOOST_AUTO_TEST_CASE(numeric_label_value_is_rejected) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1alpha3", "DestinationRule",
                                  "  name: reviews\n  labels:\n    version: 1\n", "  host: reviews\n"),
                         "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  const ConfigError& e = result.errors[0];
  BOOST_TEST(e.path == "metadata.labels[\"version\"]");
  BOOST_TEST(contains(e.message, "the number 1"), e.message);
  BOOST_TEST(contains(e.message, "quote it"), e.message);
  BOOST_TEST(e.subject == "DestinationRule default/reviews");
  BOOST_TEST(e.position.line == 6);
  BOOST_TEST(e.position.column == 14);
}

BOOST_AUTO_TEST_CASE(unknown_top_level_field_in_an_istio_object) {
  auto result = loadYaml(std::string(kVirtualService) + "specs: {}\n", "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  const ConfigError& e = result.errors[0];
  BOOST_TEST(e.path == "specs");
  BOOST_TEST(contains(e.message, "unknown top-level field"), e.message);
  BOOST_TEST(e.subject == "VirtualService default/reviews");
  BOOST_TEST(e.position.line == 7);
  BOOST_TEST(result.resources.empty());
}

BOOST_AUTO_TEST_CASE(unknown_spec_field_in_an_istio_object) {
  auto result = loadYaml(std::string(kVirtualService) + "  http:\n  - foo: 1\n", "vs.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].str() ==
             "vs.yaml:8:5: VirtualService default/reviews: spec.http[0].foo: "
             "unknown field \"foo\" in istio.networking.v1alpha3.HTTPRoute");
  BOOST_TEST(result.resources.empty());
}

BOOST_AUTO_TEST_CASE(invalid_yaml_reports_the_line) {
  auto result = loadYaml(
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata:\n"
      "  name: [unclosed\n"
      "spec: {}\n",
      "bad.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  const ConfigError& e = result.errors[0];
  BOOST_TEST(contains(e.message, "invalid YAML"), e.message);
  BOOST_TEST(e.position.file == "bad.yaml");
  BOOST_TEST(e.position.line >= 4);
  BOOST_TEST(e.position.line <= 6);
  BOOST_TEST(result.resources.empty());
}

BOOST_AUTO_TEST_CASE(invalid_yaml_bad_indentation_line) {
  auto result = loadYaml("a: 1\nb:\n  c: 2\n d: 3\n", "bad.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(contains(result.errors[0].message, "invalid YAML"), result.errors[0].message);
  BOOST_TEST(result.errors[0].position.line == 4, result.errors[0].str());
}

BOOST_AUTO_TEST_CASE(k8s_service_target_port_as_number_and_string) {
  auto result = loadYaml(
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata: {name: reviews, labels: {app: reviews}}\n"
      "spec:\n"
      "  ports:\n"
      "  - {port: 9080, name: http, targetPort: 9080}\n"
      "  - {port: 9443, name: https, targetPort: https-port}\n"
      "  selector: {app: reviews}\n",
      "svc.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  const auto& svc = result.resources.at(0).as<kcore::Service>();
  BOOST_TEST_REQUIRE(svc.spec().ports_size() == 2);
  BOOST_TEST(svc.spec().ports(0).port() == 9080);
  BOOST_TEST(svc.spec().ports(0).targetport() == "9080");
  BOOST_TEST(svc.spec().ports(1).targetport() == "https-port");
  BOOST_TEST(svc.spec().selector().at("app") == "reviews");
}

BOOST_AUTO_TEST_CASE(k8s_unknown_fields_are_ignored) {
  auto result = loadYaml(
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata: {name: reviews, managedFields: [{manager: kubectl}]}\n"
      "spec:\n"
      "  ports: [{port: 80, futureField: 1}]\n"
      "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 10}}\n"
      "status: {loadBalancer: {}, conditions: []}\n"
      "extra: true\n",
      "svc.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  BOOST_TEST(result.resources.at(0).as<kcore::Service>().spec().ports(0).port() == 80);
}

BOOST_AUTO_TEST_CASE(k8s_mistyped_known_field_is_still_an_error) {
  auto result = loadYaml("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: http}]}\n", "svc.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "spec.ports[0].port");
  BOOST_TEST(result.errors[0].subject == "Service default/s");
}

BOOST_AUTO_TEST_CASE(k8s_secret_data_is_base64) {
  auto result = loadYaml(
      "apiVersion: v1\n"
      "kind: Secret\n"
      "metadata: {name: certs, namespace: istio-system}\n"
      "type: Opaque\n"
      "data:\n"
      "  hello: aGVsbG8=\n"
      "  bin: AAEC/w==\n"
      "stringData: {plain: text}\n",
      "secret.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  const auto& secret = result.resources.at(0).as<kcore::Secret>();
  BOOST_TEST(secret.type() == "Opaque");
  BOOST_TEST(secret.data().at("hello") == "hello");
  BOOST_TEST(secret.data().at("bin") == std::string("\x00\x01\x02\xff", 4));
  BOOST_TEST(secret.stringdata().at("plain") == "text");
}

BOOST_AUTO_TEST_CASE(k8s_secret_bad_base64_is_an_error) {
  auto result = loadYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {key: \"not*base64\"}\n", "secret.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "data[\"key\"]");
  BOOST_TEST(contains(result.errors[0].message, "not valid base64"), result.errors[0].message);
}

BOOST_AUTO_TEST_CASE(error_subject_names_kind_namespace_and_name) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: reviews\n",
                                  "  hosts: [reviews]\n  http: [{timeout: soon}]\n"),
                         "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].subject == "VirtualService default/reviews");
  BOOST_TEST(result.errors[0].path == "spec.http[0].timeout");
}

BOOST_AUTO_TEST_CASE(config_error_str_format) {
  ConfigError full{SourcePosition{"f.yaml", 7, 3}, "VirtualService default/reviews", "spec.hosts", "bad"};
  BOOST_TEST(full.str() == "f.yaml:7:3: VirtualService default/reviews: spec.hosts: bad");
  ConfigError no_column{SourcePosition{"f.yaml", 7, 0}, "", "spec", "bad"};
  BOOST_TEST(no_column.str() == "f.yaml:7: spec: bad");
  ConfigError no_line{SourcePosition{"f.yaml", 0, 0}, "", "", "cannot read"};
  BOOST_TEST(no_line.str() == "f.yaml: cannot read");
  ConfigError nothing{SourcePosition{}, "", "", "bad"};
  BOOST_TEST(nothing.str() == "bad");
}

BOOST_AUTO_TEST_CASE(mixer_untyped_kind_keeps_its_spec_as_struct) {
  auto result = loadYaml(istioDoc("config.istio.io/v1alpha2", "prometheus", "  name: handler\n  namespace: istio-system\n",
                                  "  metrics:\n  - name: requests_total\n    buckets: [1, 2.5]\n"),
                         "mixer.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  const auto& spec = result.resources.at(0).as<google::protobuf::Struct>();
  BOOST_TEST(spec.fields().at("metrics").list_value().values(0).struct_value().fields().at("name").string_value() ==
             "requests_total");
}

BOOST_AUTO_TEST_CASE(authentication_policy_is_typed) {
  auto result = loadYaml(istioDoc("authentication.istio.io/v1alpha1", "Policy", "  name: details\n  namespace: bookinfo\n",
                                  "  targets: [{name: details}]\n  peers: [{mtls: {}}]\n"),
                         "policy.yaml");
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  const auto& policy = result.resources.at(0).as<istio::authentication::v1alpha1::Policy>();
  BOOST_TEST(policy.targets(0).name() == "details");
  BOOST_TEST(policy.peers_size() == 1);
}

BOOST_AUTO_TEST_CASE(one_bad_document_does_not_hide_errors_of_the_next) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: A\n") + "---\n" +
                             istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: B\n"),
                         "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 2u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].position.line == 4);
  BOOST_TEST(result.errors[1].position.line == 9);
}

// The reader rejects a key written twice inside spec; the document's own keys (spec, metadata,
// kind) and metadata's keys must follow the same rule instead of silently keeping the first.
BOOST_AUTO_TEST_CASE(duplicate_top_level_key_is_an_error) {
  auto result = loadYaml(std::string(kVirtualService) + "spec:\n  hosts: [ratings]\n", "dup.yaml");
  BOOST_TEST(!result.ok(), "a second `spec:` was silently ignored; loaded " << result.resources.size() << " resource(s)");
  if (!result.ok()) BOOST_TEST(result.errors[0].position.line == 7);
}

BOOST_AUTO_TEST_CASE(duplicate_metadata_name_is_an_error) {
  auto result = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: reviews\n  name: ratings\n",
                                  "  hosts: [reviews]\n"),
                         "dup.yaml");
  BOOST_TEST(!result.ok(), "a second metadata.name was silently ignored");
}

BOOST_AUTO_TEST_CASE(non_integer_generation_is_an_error) {
  auto bad = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: a\n  generation: abc\n"), "f.yaml");
  BOOST_TEST_REQUIRE(bad.errors.size() == 1u, joinErrors(bad.errors));
  BOOST_TEST(bad.errors[0].path == "metadata.generation");
  auto trailing = loadYaml(istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: a\n  generation: 1x\n"),
                           "f.yaml");
  BOOST_TEST(!trailing.ok(), "generation \"1x\" was accepted as " << (trailing.resources.empty() ? 0 : trailing.resources[0].meta.generation));
}

BOOST_AUTO_TEST_CASE(load_file_on_a_missing_file) {
  auto result = loadFile("/nonexistent/monomesh/missing.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].position.file == "/nonexistent/monomesh/missing.yaml");
  BOOST_TEST(contains(result.errors[0].message, "cannot read"), result.errors[0].message);
}

// Documents are parsed one at a time (splitting before each "---" line); line numbers still
// count from the top of the file, and text that is not YAML anywhere still yields no objects.
BOOST_AUTO_TEST_CASE(documents_are_parsed_one_at_a_time_with_file_line_numbers) {
  const std::string bad_vs = istioDoc("networking.istio.io/v1alpha3", "VirtualService", "  name: b\n", "  hosts: [b]\n  foo: 1\n");
  std::string text = std::string(kVirtualService) + "--- # a comment on the marker\n" + bad_vs + "---\n" +
                     "apiVersion: v1\nkind: Service\nmetadata:\n  name: c\n  name: d\n";
  auto result = loadYaml(text, "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 2u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].position.str() == "f.yaml:14:3");  // spec.foo, after the 6-line first document and the marker
  BOOST_TEST(result.errors[1].position.str() == "f.yaml:20:3");
  BOOST_TEST(contains(result.errors[1].message, "first at line 19"), result.errors[1].message);
  BOOST_TEST(result.resources.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_syntax_error_in_a_later_document_loads_nothing) {
  std::string text = std::string(kVirtualService) + "---\n" + kVirtualService + "---\napiVersion: v1\nkind: [\n";
  auto result = loadYaml(text, "f.yaml");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(contains(result.errors[0].message, "invalid YAML"));
  BOOST_TEST(result.errors[0].position.line >= 15);
  BOOST_TEST(result.resources.empty());
}

BOOST_AUTO_TEST_CASE(document_markers_end_markers_and_directives) {
  // "..." ends a document without a following "---"; "--- {...}" starts one on the marker line;
  // a "%YAML" directive makes the text parse whole. Each of these holds two objects.
  const std::string flow = "--- {apiVersion: v1, kind: Service, metadata: {name: f}}\n";
  for (const std::string& text : {std::string(kVirtualService) + "...\n" + kVirtualService,
                                   flow + flow.substr(0, flow.size() - 4) + "g}}\n",
                                   "%YAML 1.2\n---\n" + std::string(kVirtualService) + "---\n" + flow.substr(4)}) {
    auto result = loadYaml(text, "f.yaml");
    BOOST_TEST(result.ok(), text << joinErrors(result.errors));
    BOOST_TEST(result.resources.size() == 2u, text);
  }
}

BOOST_AUTO_TEST_SUITE_END()
