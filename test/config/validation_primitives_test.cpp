// The shared pieces of semantic validation: host names, addresses, values, field paths, and how
// an error found after reading is placed at the field's line and column.
#include <boost/test/unit_test.hpp>
#include <google/protobuf/duration.pb.h>
#include <yaml-cpp/yaml.h>

#include "config/field_locator.h"
#include "config/validation/addresses.h"
#include "config/validation/common_checks.h"
#include "config/validation/field_path.h"
#include "config/validation/hosts.h"
#include "validation_test_util.h"

using namespace monomesh::config;
using namespace monomesh::config::validation;
using monomesh::config::testing::contains;
using monomesh::config::testing::joinErrors;
using monomesh::config::testing::loadValidated;

namespace {

google::protobuf::Duration duration(int64_t seconds, int32_t nanos) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  d.set_nanos(nanos);
  return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(validation_primitives)

BOOST_AUTO_TEST_CASE(dns_labels_and_domains) {
  for (const char* ok : {"a", "a-b", "A1", "x0"}) BOOST_TEST(isDns1123Label(ok), ok);
  BOOST_TEST(isDns1123Label(std::string(63, 'a')));
  for (const char* bad : {"", "-a", "a-", "a_b", "a.b", "*"}) BOOST_TEST(!isDns1123Label(bad), bad);
  BOOST_TEST(!isDns1123Label(std::string(64, 'a')));
  for (const char* ok : {"*", "*foo", "*-foo", "foo"}) BOOST_TEST(isWildcardDns1123Label(ok), ok);
  for (const char* bad : {"**", "f*o", "*_a", "*-"}) BOOST_TEST(!isWildcardDns1123Label(bad), bad);

  BOOST_TEST(fqdnError("reviews.default.svc.cluster.local").empty());
  BOOST_TEST(fqdnError("reviews").empty());
  BOOST_TEST(contains(fqdnError(""), "cannot be empty"));
  BOOST_TEST(contains(fqdnError(std::string(256, 'a')), "longer than 255"));
  BOOST_TEST(contains(fqdnError("a..b"), "label \"\""));
  BOOST_TEST(contains(fqdnError("a.com."), "label \"\""));  // Istio 1.1 rejected the trailing dot
  BOOST_TEST(contains(fqdnError("*.a.com"), "first label"));
  BOOST_TEST(contains(fqdnError("1.2.3.4"), "all digits"));

  BOOST_TEST(wildcardDomainError("*").empty());
  BOOST_TEST(wildcardDomainError("*.example.com").empty());
  BOOST_TEST(wildcardDomainError("*-foo.example.com").empty());
  BOOST_TEST(contains(wildcardDomainError("a.*.com"), "only allowed as the first label"));
  BOOST_TEST(contains(wildcardDomainError("f*o.com"), "label \"f*o\""));
  BOOST_TEST(contains(wildcardDomainError("10.0.0.1"), "all digits"));
}

BOOST_AUTO_TEST_CASE(host_matching) {
  // Istio's Hostname.Matches, both ways round.
  BOOST_TEST(hostsOverlap("a.foo.com", "a.foo.com"));
  BOOST_TEST(hostsOverlap("*.foo.com", "a.foo.com"));
  BOOST_TEST(hostsOverlap("a.foo.com", "*.foo.com"));
  BOOST_TEST(hostsOverlap("*.com", "*.foo.com"));
  BOOST_TEST(hostsOverlap("*", "anything"));
  BOOST_TEST(!hostsOverlap("*.foo.com", "foo.com"));
  BOOST_TEST(!hostsOverlap("a.foo.com", "b.foo.com"));
  // SubsetOf is one way.
  BOOST_TEST(hostIsSubsetOf("a.foo.com", "*.foo.com"));
  BOOST_TEST(hostIsSubsetOf("*.a.foo.com", "*.foo.com"));
  BOOST_TEST(!hostIsSubsetOf("*.foo.com", "*.a.foo.com"));
  BOOST_TEST(!hostIsSubsetOf("*.foo.com", "a.foo.com"));
  BOOST_TEST(hostIsSubsetOf("x", "*"));
}

BOOST_AUTO_TEST_CASE(namespaced_hosts) {
  for (const char* ok : {"*", "a.com", "prod/*", "./a.com", "*/*.a.com", "1.2.3.4", "ns/1.2.3.4"})
    BOOST_TEST(namespacedHostError(ok, HostScope::Gateway).empty(), ok);
  for (const char* ok : {"*/*", "./*", "~/*", "prod/a.b.com", "*/*.a.com"})
    BOOST_TEST(namespacedHostError(ok, HostScope::Sidecar).empty(), ok);
  BOOST_TEST(contains(namespacedHostError("a.com", HostScope::Sidecar), "namespace/dnsName"));
  BOOST_TEST(contains(namespacedHostError("~/*", HostScope::Gateway), "not a namespace"));
  BOOST_TEST(contains(namespacedHostError("ns/1.2.3.4", HostScope::Sidecar), "all digits"));
  BOOST_TEST(contains(namespacedHostError("ns/", HostScope::Sidecar), "cannot be empty"));
  BOOST_TEST(contains(namespacedHostError("foo", HostScope::Gateway), "short names"));
}

BOOST_AUTO_TEST_CASE(addresses_ports_protocols) {
  BOOST_TEST(ipv4AddressError("10.0.0.1").empty());
  BOOST_TEST(contains(ipv4AddressError("10.0.0"), "not a valid IPv4 address"));
  BOOST_TEST(contains(ipv4AddressError("::1"), "IPv6"));
  BOOST_TEST(ipv4SubnetError("10.0.0.0/8").empty());
  BOOST_TEST(ipv4SubnetError("10.0.0.1/32").empty());
  BOOST_TEST(ipv4SubnetError("0.0.0.0/0").empty());
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/a", "10.0.0/8", "/8"})
    BOOST_TEST(contains(ipv4SubnetError(bad), "not a valid CIDR block"), bad);
  BOOST_TEST(contains(ipv4SubnetError("fd00::/8"), "IPv6"));
  BOOST_TEST(unixPathError("/var/run/a.sock").empty());
  BOOST_TEST(contains(unixPathError(""), "cannot be empty"));
  BOOST_TEST(contains(unixPathError("/var/run/"), "not an absolute path"));
  BOOST_TEST(portError(1).empty());
  BOOST_TEST(portError(65535).empty());
  BOOST_TEST(contains(portError(0), "not in 1..65535"));
  BOOST_TEST(contains(portError(65536), "not in 1..65535"));
  BOOST_TEST((parseProtocol("http") == Protocol::HTTP));
  BOOST_TEST((parseProtocol("gRPC-web") == Protocol::GRPCWeb));
  BOOST_TEST((parseProtocol("MONGO") == Protocol::Mongo));
  BOOST_TEST((parseProtocol("HTTP/2") == Protocol::Unsupported));
  BOOST_TEST(isHttpProtocol(Protocol::GRPC));
  BOOST_TEST(isTlsProtocol(Protocol::HTTPS));
  BOOST_TEST(!isTlsProtocol(Protocol::TCP));
}

BOOST_AUTO_TEST_CASE(values) {
  BOOST_TEST(durationError(duration(0, 1000000)).empty());
  BOOST_TEST(contains(durationError(duration(0, 999999)), "less than 1ms"));
  BOOST_TEST(contains(durationError(duration(-1, 0)), "less than 1ms"));
  BOOST_TEST(contains(durationError(duration(1, 500)), "whole number of milliseconds"));
  BOOST_TEST(wholeSecondsError(duration(86400, 0)).empty());
  BOOST_TEST(contains(wholeSecondsError(duration(1, 5000000)), "1005ms is not a whole number of seconds"));
  BOOST_TEST(percentError(0).empty());
  BOOST_TEST(percentError(100).empty());
  BOOST_TEST(!percentError(101).empty());
  BOOST_TEST(percentageError(0).empty());
  BOOST_TEST(percentageError(0.0001).empty());
  BOOST_TEST(percentageError(100).empty());
  BOOST_TEST(!percentageError(0.00009).empty());
  BOOST_TEST(!percentageError(100.5).empty());
  BOOST_TEST(headerNameError("x").empty());
  BOOST_TEST(!headerNameError("").empty());
  BOOST_TEST(regexError("^/api/v[0-9]+$").empty());
  BOOST_TEST(contains(regexError("a(b"), "missing )"));
}

BOOST_AUTO_TEST_CASE(field_paths_render_lazily) {
  const FieldPath spec("spec");
  const FieldPath http = spec / "http";
  const FieldPath route = http[2];
  const FieldPath labels = route / "labels";
  BOOST_TEST(route.str() == "spec.http[2]");
  BOOST_TEST(labels.key("app.kubernetes.io/name").str() == "spec.http[2].labels[\"app.kubernetes.io/name\"]");
  BOOST_TEST((spec / "a.b").str() == "spec.a.b");
}

BOOST_AUTO_TEST_CASE(locating_fields_in_yaml) {
  const std::string text =
      "kind: X\n"                       // 1
      "spec:\n"                         // 2
      "  http:\n"                       // 3
      "  - route:\n"                    // 4
      "    - destination: {host: a}\n"  // 5
      "      per_try: 1\n"              // 6
      "  labels:\n"                     // 7
      "    app.io/name: x\n"            // 8
      "  hosts: [a, b]\n";              // 9
  YAML::Node doc = YAML::Load(text);
  SourcePosition fallback{"f", 1, 1};
  auto at = [&](const char* path) { return locateField(doc, path, "f", fallback).str(); };
  BOOST_TEST(at("spec.http[0].route") == "f:4:5");
  BOOST_TEST(at("spec.http[0].route[0]") == "f:5:7");
  BOOST_TEST(at("spec.http[0].route[0].destination.host") == "f:5:21");
  BOOST_TEST(at("spec.http[0].route[0].perTry") == "f:6:7");                      // snake_case as written
  BOOST_TEST(at("spec.labels[\"app.io/name\"]") == "f:8:5");                      // map key with dots
  BOOST_TEST(at("spec.hosts[1]") == "f:9:14");                                     // flow list item
  BOOST_TEST(at("spec.http[0].route[0].weight") == "f:5:7");                       // absent: nearest parent
  BOOST_TEST(at("spec.http[7]") == "f:3:3");                                       // out of range: the list
  BOOST_TEST(at("nothing") == "f:1:1");                                            // nothing matches: fallback
  BOOST_TEST(at("spec.http[0].route[0].destination.host") == "f:5:21");           // the document is unchanged
}

BOOST_AUTO_TEST_CASE(loader_places_semantic_errors_and_keeps_schema_errors_first) {
  const std::string text =
      "apiVersion: networking.istio.io/v1alpha3\n"
      "kind: VirtualService\n"
      "metadata: {name: reviews, namespace: bookinfo}\n"
      "spec:\n"
      "  hosts: [reviews]\n"
      "  http:\n"
      "  - route:\n"
      "    - destination: {host: reviews, subset: v1}\n"
      "      weight: 50\n"
      "    - destination: {host: reviews, subset: v_2}\n"
      "      weight: 40\n";
  LoadResult result = loadValidated(text);
  BOOST_TEST_REQUIRE(result.errors.size() == 2u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].str() == "case.yaml:10:36: VirtualService bookinfo/reviews: spec.http[0].route[1].destination.subset: "
                                       "subset name \"v_2\" is not a DNS-1123 label");
  BOOST_TEST(result.errors[1].str() ==
             "case.yaml:7:5: VirtualService bookinfo/reviews: spec.http[0].route: weights sum to 90, must be 100");
  BOOST_TEST(result.resources.empty());

  // Off unless asked: the same text loads.
  BOOST_TEST(loadYaml(text, "case.yaml").ok());
  // A schema error stops the object before semantic validation.
  LoadResult schema = loadValidated(text + "  bogus: 1\n");
  BOOST_TEST_REQUIRE(schema.errors.size() == 1u, joinErrors(schema.errors));
  BOOST_TEST(contains(schema.errors[0].message, "unknown field \"bogus\""));
}

BOOST_AUTO_TEST_CASE(semantic_errors_in_lists_and_json) {
  const std::string list =
      "apiVersion: v1\nkind: List\nitems:\n"
      "- apiVersion: networking.istio.io/v1alpha3\n"
      "  kind: DestinationRule\n"
      "  metadata: {name: a}\n"
      "  spec: {host: a, subsets: [{name: v.1}]}\n";
  LoadResult result = loadValidated(list);
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].position.str() == "case.yaml:7:30");

  const std::string json =
      "{\"apiVersion\": \"networking.istio.io/v1alpha3\", \"kind\": \"Gateway\", \"metadata\": {\"name\": \"gw\"},\n"
      " \"spec\": {\"servers\": [{\"port\": {\"number\": 80, \"name\": \"http\", \"protocol\": \"HTTP\"}, \"hosts\": [\"foo\"]}]}}\n";
  result = loadValidated(json);
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].path == "spec.servers[0].hosts[0]");
  BOOST_TEST(result.errors[0].position.str() == "case.yaml:2:94");
}

BOOST_AUTO_TEST_CASE(kubernetes_objects_have_no_semantic_rules) {
  LoadResult result = loadValidated("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 0}]}\n");
  BOOST_TEST(result.ok(), joinErrors(result.errors));
}

BOOST_AUTO_TEST_SUITE_END()
