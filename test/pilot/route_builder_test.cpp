// Sidecar route configurations (RDS "<port>"): Istio's bookinfo routing samples against golden
// files, the names a virtual host answers to, VirtualService binding and the fall-through host.
#include <boost/test/unit_test.hpp>

#include "xds_test_util.h"
#include "xds_text.h"

namespace monomesh::pilot::testing {
namespace {

namespace rv3 = envoy::config::route::v3;


const rv3::VirtualHost* findHost(const rv3::RouteConfiguration& config, const std::string& name) {
  for (const auto& vh : config.virtual_hosts())
    if (vh.name() == name) return &vh;
  return nullptr;
}

std::vector<std::string> domainsOf(const rv3::VirtualHost& vh) { return {vh.domains().begin(), vh.domains().end()}; }

rv3::RouteConfiguration sidecarRoutes(TestMesh& mesh, const std::string& name, const ProxyNode& node = productpageSidecar()) {
  xds::ProxyView view(mesh.push(), node);
  auto config = xds::buildRouteConfiguration(view, name);
  BOOST_REQUIRE_MESSAGE(config.has_value(), "no route configuration " << name);
  checkProxyAccepts(*config);
  return *config;
}

BOOST_AUTO_TEST_SUITE(sidecar_routes)

// Every bookinfo routing file of Istio 1.1's samples, as the productpage sidecar sees port 9080.
BOOST_AUTO_TEST_CASE(bookinfo_samples_match_golden_files) {
  if (skipWithoutSamples()) return;
  for (std::string sample : {"", "virtual-service-all-v1", "virtual-service-reviews-test-v2", "virtual-service-reviews-50-v3",
                             "virtual-service-ratings-test-delay", "virtual-service-ratings-test-abort",
                             "virtual-service-reviews-jason-v2-v3", "virtual-service-reviews-v3",
                             "virtual-service-reviews-80-20", "virtual-service-reviews-90-10",
                             "virtual-service-reviews-v2-v3", "virtual-service-details-v2"}) {
    BOOST_TEST_CONTEXT("sample " << (sample.empty() ? "(none)" : sample)) {
      TestMesh mesh;
      mesh.addSample("bookinfo.yaml");
      mesh.addSample("destination-rule-all.yaml");
      if (!sample.empty()) mesh.addSample(sample + ".yaml");
      auto config = sidecarRoutes(mesh, "9080");
      checkGolden("bookinfo-" + (sample.empty() ? std::string("no-rules") : sample.substr(std::string("virtual-service-").size())),
                  describeRoutes(config));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_service_answers_to_its_short_names_and_vip_from_its_namespace) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  auto config = sidecarRoutes(mesh, "9080");
  const auto* vh = findHost(config, "reviews.default.svc.cluster.local:9080");
  BOOST_REQUIRE(vh != nullptr);
  std::vector<std::string> expected = {
      "reviews.default.svc.cluster.local", "reviews.default.svc.cluster.local:9080", "reviews", "reviews:9080",
      "reviews.default.svc.cluster", "reviews.default.svc.cluster:9080", "reviews.default.svc", "reviews.default.svc:9080",
      "reviews.default", "reviews.default:9080", "10.0.0.3", "10.0.0.3:9080"};
  BOOST_TEST(domainsOf(*vh) == expected, boost::test_tools::per_element());
  // From another namespace the bare name belongs to that namespace's own services.
  const auto* other = findHost(config, "httpbin.other.svc.cluster.local:9080");
  BOOST_REQUIRE(other != nullptr);
  std::vector<std::string> other_expected = {
      "httpbin.other.svc.cluster.local", "httpbin.other.svc.cluster.local:9080", "httpbin.other", "httpbin.other:9080",
      "httpbin.other.svc.cluster", "httpbin.other.svc.cluster:9080", "httpbin.other.svc", "httpbin.other.svc:9080",
      "10.0.0.5", "10.0.0.5:9080"};
  BOOST_TEST(domainsOf(*other) == other_expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(only_services_with_an_http_port_of_that_number_get_a_virtual_host) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  auto on8000 = sidecarRoutes(mesh, "8000");
  BOOST_TEST(on8000.virtual_hosts_size() == 2);  // httpbin, then allow_any
  BOOST_TEST(on8000.virtual_hosts(0).name() == "httpbin.other.svc.cluster.local:8000");
  BOOST_TEST(on8000.virtual_hosts(0).routes(0).route().cluster() == "outbound|8000||httpbin.other.svc.cluster.local");
  BOOST_TEST(on8000.virtual_hosts(0).routes(0).name() == "default");
  auto on27017 = sidecarRoutes(mesh, "27017");  // mongo is TCP
  BOOST_TEST(on27017.virtual_hosts_size() == 1);
  BOOST_TEST(on27017.virtual_hosts(0).name() == "allow_any");
}

BOOST_AUTO_TEST_CASE(route_names_that_are_not_ports_have_no_configuration) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  auto node = productpageSidecar();
  xds::ProxyView view(mesh.push(), node);
  for (const char* name : {"", "http.80", "9080x", "0", "70000", "-1", "http_proxy"})
    BOOST_TEST(!xds::buildRouteConfiguration(view, name).has_value(), "name " << name);
}

BOOST_AUTO_TEST_CASE(default_routes_disable_timeouts_and_retry_as_istio_1_1) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  auto config = sidecarRoutes(mesh, "9080");
  const auto& route = findHost(config, "ratings.default.svc.cluster.local:9080")->routes(0);
  BOOST_TEST(describeRoute(route) ==
             "route [default] prefix=/ -> outbound|9080||ratings.default.svc.cluster.local timeout=0s\n"
             "        retry=2 on=connect-failure,refused-stream,unavailable,cancelled,resource-exhausted,retriable-status-codes "
             "codes=503 host_predicate=envoy.retry_host_predicates.previous_hosts host_attempts=3");
}

BOOST_AUTO_TEST_CASE(outbound_traffic_policy_decides_the_last_virtual_host) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  auto allow = sidecarRoutes(mesh, "9080");
  const auto& last = allow.virtual_hosts(allow.virtual_hosts_size() - 1);
  BOOST_TEST(last.name() == "allow_any");
  BOOST_TEST(domainsOf(last) == std::vector<std::string>{"*"});
  BOOST_TEST(last.routes(0).route().cluster() == "PassthroughCluster");

  mesh.mesh().mutable_outbound_traffic_policy()->set_mode(istio::mesh::v1alpha1::MeshConfig::OutboundTrafficPolicy::REGISTRY_ONLY);
  auto block = sidecarRoutes(mesh, "9080");
  const auto& blocked = block.virtual_hosts(block.virtual_hosts_size() - 1);
  BOOST_TEST(blocked.name() == "block_all");
  BOOST_TEST(blocked.routes(0).direct_response().status() == 502u);
}

BOOST_AUTO_TEST_CASE(external_hosts_of_mesh_rules_are_served_on_port_80) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(virtualService("external", "default", "[api.example.com]", R"(
  http:
  - route:
    - destination: {host: api.example.com}
)"));
  auto on80 = sidecarRoutes(mesh, "80");
  const auto* vh = findHost(on80, "api.example.com:80");
  BOOST_REQUIRE(vh != nullptr);
  BOOST_TEST(domainsOf(*vh) == (std::vector<std::string>{"api.example.com", "api.example.com:80"}));
  BOOST_TEST(vh->routes(0).route().cluster() == "outbound|80||api.example.com");
  BOOST_TEST(findHost(sidecarRoutes(mesh, "9080"), "api.example.com:9080") == nullptr);
}

BOOST_AUTO_TEST_CASE(rules_for_one_host_are_combined_with_catch_alls_last) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(virtualService("a-first", "default", "[reviews]", R"(
  http:
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: b-second, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http:
  - match: [{uri: {prefix: /api}}]
    route:
    - destination: {host: reviews, subset: v2}
)"));
  auto config = sidecarRoutes(mesh, "9080");
  const auto* vh = findHost(config, "reviews.default.svc.cluster.local:9080");
  BOOST_REQUIRE(vh != nullptr);
  BOOST_REQUIRE(vh->routes_size() == 2);
  BOOST_TEST(vh->routes(0).route().cluster() == "outbound|9080|v2|reviews.default.svc.cluster.local");
  BOOST_TEST(vh->routes(1).route().cluster() == "outbound|9080|v1|reviews.default.svc.cluster.local");
}

BOOST_AUTO_TEST_CASE(rules_whose_routes_do_not_apply_leave_the_default_route) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(virtualService("reviews", "default", "[reviews]", R"(
  http:
  - match: [{sourceLabels: {app: reviews}}]
    route:
    - destination: {host: reviews, subset: v2}
)"));
  auto config = sidecarRoutes(mesh, "9080");
  const auto& route = findHost(config, "reviews.default.svc.cluster.local:9080")->routes(0);
  BOOST_TEST(route.name() == "default");
  BOOST_TEST(route.route().cluster() == "outbound|9080||reviews.default.svc.cluster.local");
}

BOOST_AUTO_TEST_CASE(private_rules_of_other_namespaces_are_not_seen) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(virtualService("httpbin", "other", "[httpbin]", R"(
  exportTo: ["."]
  http:
  - route:
    - destination: {host: httpbin, subset: v2}
)"));
  auto config = sidecarRoutes(mesh, "8000");
  BOOST_TEST(findHost(config, "httpbin.other.svc.cluster.local:8000")->routes(0).name() == "default");
}

BOOST_AUTO_TEST_CASE(a_sidecar_resource_limits_services_and_rules) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: httpbin, namespace: other}
spec:
  hosts: [httpbin.other.svc.cluster.local]
  http:
  - route:
    - destination: {host: httpbin.other.svc.cluster.local, subset: v2}
)");
  auto config = sidecarRoutes(mesh, "9080");
  BOOST_TEST(findHost(config, "reviews.default.svc.cluster.local:9080") != nullptr);
  BOOST_TEST(findHost(config, "httpbin.other.svc.cluster.local:9080") == nullptr);
}

BOOST_AUTO_TEST_CASE(a_domain_is_served_by_one_virtual_host_only) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  // A second service with reviews' VIP (a stale ClusterIP): the proxy would reject two hosts with one domain.
  mesh.add(R"(
apiVersion: v1
kind: Service
metadata: {name: reviews-copy, namespace: default}
spec: {clusterIP: 10.0.0.3, ports: [{name: http, port: 9080}]}
)");
  auto config = sidecarRoutes(mesh, "9080");  // checkProxyAccepts inside
  int vip_hosts = 0;
  for (const auto& vh : config.virtual_hosts())
    for (const auto& d : vh.domains()) vip_hosts += d == "10.0.0.3";
  BOOST_TEST(vip_hosts == 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::pilot::testing
