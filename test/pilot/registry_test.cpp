// The registries and the PushContext: Kubernetes objects and ServiceEntries become services with
// Istio's protocols, endpoints carry their workload's labels, identity and locality; node IDs
// parse; DestinationRule lookup follows 1.1's order; Sidecar egress hosts scope what a proxy sees.
#include <boost/test/unit_test.hpp>

#include "pilot/model/hostname.h"
#include "pilot/model/protocol.h"
#include "registry_test_data.h"
#include "xds_test_util.h"

namespace monomesh::pilot {

using testing::TestMesh;

BOOST_AUTO_TEST_SUITE(registry)

BOOST_AUTO_TEST_CASE(port_names_give_protocols) {
  BOOST_TEST(protocolName(protocolFromPortName("http-foo")) == "HTTP");
  BOOST_TEST(protocolName(protocolFromPortName("HTTP2")) == "HTTP2");
  BOOST_TEST(protocolName(protocolFromPortName("grpc-web-ui")) == "GRPC-Web");
  BOOST_TEST(protocolName(protocolFromPortName("grpc")) == "GRPC");
  BOOST_TEST(protocolName(protocolFromPortName("")) == "TCP");
  BOOST_TEST(protocolName(protocolFromPortName("httpfoo")) == "TCP");  // no '-': the whole name is the prefix
  BOOST_TEST(protocolName(parseProtocol("mongo")) == "Mongo");
  BOOST_TEST(protocolName(parseProtocol("SCTP")) == "UNSUPPORTED");
}

BOOST_AUTO_TEST_CASE(host_names_resolve_and_match) {
  BOOST_TEST(resolveShortName("reviews", "default", "cluster.local") == "reviews.default.svc.cluster.local");
  BOOST_TEST(resolveShortName("a.b", "default", "cluster.local") == "a.b");
  BOOST_TEST(hostMatches("*.example.com", "a.example.com"));
  BOOST_TEST(!hostMatches("*.example.com", "example.com"));
  BOOST_TEST(hostMatches("*", "anything"));
  BOOST_TEST(hostMatches("*.com", "*.example.com"));
  BOOST_TEST(!hostMatches("*.example.com", "*.com"));
  std::vector<std::string> patterns{"*", "*.default.svc.cluster.local", "reviews.default.svc.cluster.local"};
  BOOST_TEST(mostSpecificMatch(patterns, "reviews.default.svc.cluster.local") == 2);
  BOOST_TEST(mostSpecificMatch(patterns, "ratings.default.svc.cluster.local") == 1);
  BOOST_TEST(mostSpecificMatch(patterns, "x.y") == 0);
}

BOOST_AUTO_TEST_CASE(istio_node_ids_parse) {
  auto p = testing::proxyNode("sidecar~10.1.0.1~productpage-v1-1.default~default.svc.cluster.local", {{"app", "x"}, {"NETWORK", "n1"}});
  BOOST_TEST((p.type == NodeType::Sidecar));
  BOOST_TEST(p.ip == "10.1.0.1");
  BOOST_TEST(p.pod_name == "productpage-v1-1");
  BOOST_TEST(p.namespace_ == "default");
  BOOST_TEST(p.network == "n1");
  BOOST_TEST(p.metadata_labels.at("app") == "x");
  BOOST_TEST(p.metadata_labels.count("NETWORK") == 0u);
  envoy::config::core::v3::Node bad;
  std::string error;
  bad.set_id("productpage");
  BOOST_TEST(!ProxyNode::parse(bad, error).has_value());
  BOOST_TEST(error.find("<type>~<ip>~<pod>.<namespace>~<domain>") != std::string::npos);
  bad.set_id("gateway~1.2.3.4~a.b~b.svc.cluster.local");
  BOOST_TEST(!ProxyNode::parse(bad, error).has_value());
  BOOST_TEST(error.find("unknown proxy type") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(kubernetes_objects_become_services_and_endpoints) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  const auto& push = mesh.push();
  const Service* reviews = push.service("reviews.default.svc.cluster.local");
  BOOST_REQUIRE(reviews != nullptr);
  BOOST_TEST(reviews->address == "10.0.0.11");
  BOOST_TEST((reviews->ports.at(0).protocol == Protocol::HTTP));
  BOOST_TEST(reviews->service_accounts.at(0) == "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
  const Service* mongo = push.service("mongodb.default.svc.cluster.local");
  BOOST_REQUIRE(mongo != nullptr);
  BOOST_TEST(mongo->ports.size() == 1u);  // the UDP port is not proxied
  BOOST_TEST((mongo->ports.at(0).protocol == Protocol::Mongo));
  const Service* ratings = push.service("ratings.default.svc.cluster.local");
  BOOST_TEST((ratings->ports.at(0).protocol == Protocol::GRPC));
  BOOST_TEST((ratings->ports.at(1).protocol == Protocol::TCP));
  const auto& endpoints = push.endpoints("reviews.default.svc.cluster.local");
  BOOST_REQUIRE(endpoints.size() == 2u);
  BOOST_TEST(endpoints[1].address == "10.1.0.12");
  BOOST_TEST(endpoints[1].labels.at("version") == "v2");
  BOOST_TEST(endpoints[1].locality == "us-west/us-west-1a");
  BOOST_TEST(endpoints[1].service_account == "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
  BOOST_TEST(endpoints[1].cluster_id == "Kubernetes");
}

BOOST_AUTO_TEST_CASE(service_entries_become_services) {
  TestMesh mesh;
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: external, namespace: default}
spec:
  hosts: [api.example.com, db]
  ports: [{number: 443, name: https, protocol: HTTPS}, {number: 5432, name: tcp-pg, protocol: TCP}]
  resolution: STATIC
  location: MESH_INTERNAL
  exportTo: ["."]
  endpoints:
  - {address: 10.5.0.1, ports: {https: 8443}, labels: {zone: a}, locality: r1/z1, weight: 3, network: n2}
)");
  const auto& push = mesh.push();
  const Service* api = push.service("api.example.com");
  BOOST_REQUIRE(api != nullptr);
  BOOST_TEST(!api->mesh_external);
  BOOST_TEST((api->resolution == Resolution::ClientSideLB));
  BOOST_TEST(push.service("db.default.svc.cluster.local") != nullptr);  // short hosts are qualified
  BOOST_TEST(!push.visibleFrom(*api, "other"));
  BOOST_TEST(push.visibleFrom(*api, "default"));
  const auto& endpoints = push.endpoints("api.example.com");
  BOOST_REQUIRE(endpoints.size() == 2u);
  BOOST_TEST(endpoints[0].port == 8443u);  // mapped by port name
  BOOST_TEST(endpoints[1].port == 5432u);
  BOOST_TEST(endpoints[0].weight == 3u);
  BOOST_TEST(endpoints[0].network == "n2");
  BOOST_TEST(endpoints[0].locality == "r1/z1");
}

BOOST_AUTO_TEST_CASE(destination_rules_follow_the_1_1_lookup_order) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: everything, namespace: istio-system}
spec: {host: "*.svc.cluster.local"}
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews, namespace: istio-system}
spec: {host: reviews.default.svc.cluster.local}
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: local, namespace: team}
spec: {host: "*.default.svc.cluster.local", exportTo: ["."]}
)");
  const auto& push = mesh.push();
  // From "default": no local rule; the exported ones, most specific first.
  BOOST_TEST(push.destinationRule("default", "reviews.default.svc.cluster.local")->resource->meta.name == "reviews");
  BOOST_TEST(push.destinationRule("default", "ratings.default.svc.cluster.local")->resource->meta.name == "everything");
  // From "team": its own rule wins even though an exported one is more specific.
  BOOST_TEST(push.destinationRule("team", "reviews.default.svc.cluster.local")->resource->meta.name == "local");
  BOOST_TEST(push.destinationRule("default", "x.example.com") == nullptr);
}

BOOST_AUTO_TEST_CASE(sidecar_egress_hosts_scope_the_services) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  egress:
  - hosts: ["./reviews.default.svc.cluster.local", "istio-system/*"]
)");
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  auto scope = push.sidecarScope(proxy, push.proxyLabels(proxy));
  BOOST_REQUIRE(scope.sidecar != nullptr);
  BOOST_REQUIRE(scope.services.size() == 1u);
  BOOST_TEST(scope.services[0]->hostname == "reviews.default.svc.cluster.local");
  // Labels come from the pod at the proxy's IP.
  BOOST_TEST(push.proxyLabels(proxy).at("app") == "productpage");
  auto instances = push.serviceInstances(proxy);
  BOOST_REQUIRE(instances.size() == 1u);
  BOOST_TEST(instances[0].first->hostname == "productpage.default.svc.cluster.local");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace monomesh::pilot
