// Istio 1.1's push metrics: each conflict the builders meet (outbound listeners of two services on
// one address, two services on one pod port, a cluster name built twice, a subset two merged rules
// define, an EDS cluster without endpoints, a sidecar no endpoint knows) keeps the first contender,
// is reported once per key, and shows in the pilot_* gauge of the push being served.
#include <boost/test/unit_test.hpp>

#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "observe/metrics.h"
#include "observe/prometheus_text.h"
#include "pilot/discovery/push_cache.h"
#include "registry_test_data.h"
#include "xds_test_util.h"

namespace monomesh::pilot {

using testing::TestMesh;

namespace {

constexpr const char* kClient = "sidecar~10.9.0.1~client-1.default~default.svc.cluster.local";

std::string headless(const std::string& name, const std::string& ports) {
  return testing::k8sService(name, "default", "None", ports);
}

const envoy::config::listener::v3::Listener* listener(const std::vector<envoy::config::listener::v3::Listener>& all,
                                                      const std::string& name) {
  for (const auto& l : all)
    if (l.name() == name) return &l;
  return nullptr;
}

std::vector<std::string> keys(const PushStatus& status, PushMetric metric) {
  std::vector<std::string> out;
  for (const auto& [key, event] : status.events(metric)) out.push_back(key);
  return out;
}

// The value /metrics shows for `name` (a gauge without labels); -1 when it is not there.
double scraped(const std::string& name) {
  auto text = observe::renderPrometheus(observe::MetricsRegistry::global());
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(push_status)

BOOST_AUTO_TEST_CASE(outbound_listener_conflicts_keep_the_first_service_and_report_the_other) {
  TestMesh mesh;
  // Sorted by host: a-tcp takes 0.0.0.0:8000 as TCP, then b-http and c-tcp do not fit; d-http takes
  // 0.0.0.0:7000 as HTTP, then e-tcp does not fit.
  mesh.add(headless("a-tcp", "[{name: tcp, port: 8000}]") +
           testing::k8sService("b-http", "default", "10.0.0.21", "[{name: http, port: 8000}]") +
           headless("c-tcp", "[{name: tcp, port: 8000}]") +
           testing::k8sService("d-http", "default", "10.0.0.22", "[{name: http, port: 7000}]") +
           headless("e-tcp", "[{name: tcp-db, port: 7000}]"));
  const auto& push = mesh.push();
  auto proxy = testing::proxyNode(kClient);
  xds::ProxyView view(push, proxy);
  auto listeners = xds::buildListeners(view);

  const auto& status = push.status();
  BOOST_TEST(keys(status, PushMetric::ConflictOutboundHttpOverTcp) == std::vector<std::string>{"0.0.0.0:8000"});
  BOOST_TEST(keys(status, PushMetric::ConflictOutboundTcpOverTcp) == std::vector<std::string>{"0.0.0.0:8000"});
  BOOST_TEST(keys(status, PushMetric::ConflictOutboundTcpOverHttp) == std::vector<std::string>{"0.0.0.0:7000"});
  auto http_over_tcp = status.events(PushMetric::ConflictOutboundHttpOverTcp).at("0.0.0.0:8000");
  BOOST_TEST(http_over_tcp.proxy == kClient);
  BOOST_TEST(http_over_tcp.message ==
             "Listener=0.0.0.0:8000 AcceptedTCP=a-tcp.default.svc.cluster.local RejectedHTTP=b-http.default.svc.cluster.local");

  // What the proxy gets is the first service's listener, unchanged by the others.
  const auto* tcp = listener(listeners, "0.0.0.0_8000");
  BOOST_REQUIRE(tcp != nullptr);
  BOOST_REQUIRE(tcp->filter_chains_size() == 1);
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proxy_filter;
  BOOST_REQUIRE(tcp->filter_chains(0).filters(0).typed_config().UnpackTo(&proxy_filter));
  BOOST_TEST(proxy_filter.cluster() == "outbound|8000||a-tcp.default.svc.cluster.local");
  const auto* http = listener(listeners, "0.0.0.0_7000");
  BOOST_REQUIRE(http != nullptr);
  BOOST_TEST(http->filter_chains_size() == 1);
  BOOST_TEST(http->filter_chains(0).filters(0).name() == "envoy.filters.network.http_connection_manager");

  // Building again (another proxy, the same push) reports nothing new.
  auto other = testing::proxyNode("sidecar~10.9.0.2~client-2.default~default.svc.cluster.local");
  xds::ProxyView other_view(push, other);
  xds::buildListeners(other_view);
  BOOST_TEST(status.count(PushMetric::ConflictOutboundTcpOverTcp) == 1u);
  BOOST_TEST(status.events(PushMetric::ConflictOutboundTcpOverTcp).at("0.0.0.0:8000").proxy == kClient);
}

BOOST_AUTO_TEST_CASE(tls_services_without_a_vip_share_a_port_by_sni_and_clash_on_the_same_name) {
  TestMesh mesh;
  auto tlsRoute = [](const std::string& name) {
    return "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata: {name: " + name +
           ", namespace: default}\nspec:\n  hosts: [b.example.com]\n"
           "  tls: [{match: [{port: 443, sniHosts: [b.example.com]}], route: [{destination: {host: b.example.com}}]}]\n---\n";
  };
  mesh.add(tlsRoute("b-first") + tlsRoute("b-second") + R"(
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: tls-a, namespace: default}
spec: {hosts: [a.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: tls-b, namespace: default}
spec: {hosts: [b.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
)");
  const auto& push = mesh.push();
  auto proxy = testing::proxyNode(kClient);
  xds::ProxyView view(push, proxy);
  auto listeners = xds::buildListeners(view);
  const auto* l = listener(listeners, "0.0.0.0_443");
  BOOST_REQUIRE(l != nullptr);
  // One chain per SNI name: a's, and b's from the first rule; the second rule's is the loser.
  BOOST_REQUIRE(l->filter_chains_size() == 2);
  BOOST_TEST(l->filter_chains(0).filter_chain_match().server_names(0) == "a.example.com");
  BOOST_TEST(l->filter_chains(1).filter_chain_match().server_names(0) == "b.example.com");
  BOOST_TEST(keys(push.status(), PushMetric::ConflictOutboundTcpOverTcp) == std::vector<std::string>{"0.0.0.0:443"});
}

BOOST_AUTO_TEST_CASE(two_services_on_one_pod_port_keep_the_first_inbound_listener) {
  TestMesh mesh;
  mesh.add(testing::k8sService("reviews", "default", "10.0.0.11", "[{name: http, port: 9080}]") +
           testing::k8sService("details", "default", "10.0.0.31", "[{name: http, port: 9080}]") + R"(
apiVersion: v1
kind: Endpoints
metadata: {name: reviews, namespace: default}
subsets: [{addresses: [{ip: 10.1.0.11}], ports: [{name: http, port: 9080}]}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: details, namespace: default}
subsets: [{addresses: [{ip: 10.1.0.11}], ports: [{name: http, port: 9080}]}]
)");
  const auto& push = mesh.push();
  const std::string id = "sidecar~10.1.0.11~reviews-v1-1.default~default.svc.cluster.local";
  auto proxy = testing::proxyNode(id);
  xds::ProxyView view(push, proxy);
  BOOST_REQUIRE(view.inbound.size() == 1u);
  // Services in host order: details is first and keeps the port.
  BOOST_TEST(view.inbound[0].cluster == "inbound|9080|http|details.default.svc.cluster.local");
  auto events = push.status().events(PushMetric::ConflictInboundListener);
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events.begin()->first == id);
  BOOST_TEST(events.begin()->second.message ==
             "Rejected inbound|9080|http|reviews.default.svc.cluster.local, used "
             "inbound|9080|http|details.default.svc.cluster.local for 10.1.0.11:9080");
  BOOST_TEST(push.status().count(PushMetric::NoIp) == 0u);
}

BOOST_AUTO_TEST_CASE(a_sidecar_no_endpoint_knows_is_reported_as_no_ip) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  const auto& push = mesh.push();
  auto known = testing::productpageSidecar();
  xds::ProxyView known_view(push, known);
  BOOST_TEST(push.status().count(PushMetric::NoIp) == 0u);
  auto stranger = testing::proxyNode(kClient);
  xds::ProxyView stranger_view(push, stranger);
  BOOST_TEST(keys(push.status(), PushMetric::NoIp) == std::vector<std::string>{kClient});
  auto gateway = testing::ingressGateway();  // routers serve no inbound side: never reported
  xds::ProxyView gateway_view(push, gateway);
  BOOST_TEST(push.status().count(PushMetric::NoIp) == 1u);
}

BOOST_AUTO_TEST_CASE(two_subsets_of_one_name_build_one_cluster_and_report_the_second) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v1, labels: {version: v2}}]
)");
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  auto clusters = xds::buildClusters(view);
  int v1 = 0;
  for (const auto& c : clusters) v1 += c.name() == "outbound|9080|v1|reviews.default.svc.cluster.local";
  BOOST_TEST(v1 == 1);
  auto events = push.status().events(PushMetric::DuplicateClusters);
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events.begin()->first == "outbound|9080|v1|reviews.default.svc.cluster.local");
  BOOST_TEST(events.begin()->second.message.find("subset v1 is defined twice in DestinationRule default/reviews") !=
                 std::string::npos,
             events.begin()->second.message);
}

BOOST_AUTO_TEST_CASE(a_service_entry_for_a_kubernetes_host_reports_the_clusters_it_would_duplicate) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: reviews-again, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  ports: [{number: 9080, name: http, protocol: HTTP}, {number: 9443, name: https, protocol: HTTPS}]
  resolution: DNS
)");
  const auto& push = mesh.push();
  BOOST_TEST(push.service("reviews.default.svc.cluster.local")->registry == "Kubernetes");  // the first stays
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  xds::buildClusters(view);
  // Port 9443 is the ServiceEntry's alone: no name clashes there.
  BOOST_TEST(keys(push.status(), PushMetric::DuplicateClusters) ==
             std::vector<std::string>{"outbound|9080||reviews.default.svc.cluster.local"});
  auto message = push.status().events(PushMetric::DuplicateClusters).begin()->second.message;
  BOOST_TEST(message.find("defined by Kubernetes in namespace default and again by External in namespace default") !=
                 std::string::npos,
             message);
}

BOOST_AUTO_TEST_CASE(destination_rules_for_one_host_merge_their_subsets_and_report_a_repeated_one) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews-a, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews-b, namespace: default}
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy: {loadBalancer: {simple: LEAST_CONN}}
  subsets: [{name: v1, labels: {version: v2}}, {name: v2, labels: {version: v2}}]
)");
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  auto clusters = xds::buildClusters(view);
  std::vector<std::string> reviews;
  for (const auto& c : clusters)
    if (c.name().ends_with("|reviews.default.svc.cluster.local") && c.name().starts_with("outbound|")) {
      reviews.push_back(c.name());
      // The first rule had no traffic policy: the second one's applies.
      BOOST_TEST(c.lb_policy() == envoy::config::cluster::v3::Cluster::LEAST_REQUEST, c.name());
    }
  BOOST_TEST(reviews == (std::vector<std::string>{"outbound|9080||reviews.default.svc.cluster.local",
                                                  "outbound|9080|v1|reviews.default.svc.cluster.local",
                                                  "outbound|9080|v2|reviews.default.svc.cluster.local"}));
  // v1 is the first rule's (version v1), not the second's.
  auto v1 = xds::buildLoadAssignment(view, "outbound|9080|v1|reviews.default.svc.cluster.local");
  BOOST_REQUIRE(v1->endpoints_size() == 1);
  BOOST_TEST(v1->endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address() == "10.1.0.11");
  auto events = push.status().events(PushMetric::DestruleSubsets);
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events.begin()->first == "reviews.default.svc.cluster.local");
  BOOST_TEST(events.begin()->second.message.find("Duplicate subset v1") == 0u, events.begin()->second.message);
  BOOST_TEST(push.allDestinationRules().size() == 2u);  // configz still lists both
}

BOOST_AUTO_TEST_CASE(eds_clusters_without_endpoints_are_reported_by_name) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);  // ratings has no Endpoints
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  xds::buildLoadAssignment(view, "outbound|9080||reviews.default.svc.cluster.local");
  BOOST_TEST(push.status().count(PushMetric::EdsNoInstances) == 0u);
  auto empty = xds::buildLoadAssignment(view, "outbound|9090||ratings.default.svc.cluster.local");
  BOOST_REQUIRE(empty.has_value());
  BOOST_TEST(empty->endpoints_size() == 0);
  BOOST_TEST(keys(push.status(), PushMetric::EdsNoInstances) ==
             std::vector<std::string>{"outbound|9090||ratings.default.svc.cluster.local"});
}

BOOST_AUTO_TEST_CASE(gauges_show_the_published_push_and_restart_with_the_next) {
  TestMesh mesh;
  mesh.add(headless("a-tcp", "[{name: tcp, port: 8000}]") + headless("c-tcp", "[{name: tcp, port: 8000}]"));
  const auto& first = mesh.push();
  auto first_status = first.sharedStatus();
  publishPushStatus(first_status);
  auto proxy = testing::proxyNode(kClient);
  xds::ProxyView view(first, proxy);
  xds::buildListeners(view);
  // Reports made after publishing count: the push fills in as proxies are served.
  BOOST_TEST(scraped("pilot_conflict_outbound_listener_tcp_over_current_tcp") == 1.0);
  BOOST_TEST(scraped("pilot_no_ip") == 1.0);
  BOOST_TEST(scraped("pilot_conflict_inbound_listener") == 0.0);
  BOOST_TEST(scraped("pilot_destrule_subsets") == 0.0);

  // A full push starts from nothing; a partial one keeps what was reported since the last full one.
  const auto& second = mesh.push();
  publishPushStatus(second.sharedStatus());
  BOOST_TEST(scraped("pilot_conflict_outbound_listener_tcp_over_current_tcp") == 0.0);
  second.status().carryFrom(*first_status);
  BOOST_TEST(scraped("pilot_conflict_outbound_listener_tcp_over_current_tcp") == 1.0);
  BOOST_TEST(second.status().events(PushMetric::NoIp).at(kClient).proxy == kClient);
}

BOOST_AUTO_TEST_CASE(proxies_sharing_a_cached_scope_still_get_their_own_inbound_side) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.push();
  PushCache cache(mesh.shared());
  // Both in namespace default without a Sidecar: the second view reuses the first one's scope.
  auto productpage = testing::productpageSidecar();
  auto reviews = testing::proxyNode("sidecar~10.1.0.11~reviews-v1-1.default~default.svc.cluster.local");
  auto first = cache.view(productpage);
  auto second = cache.view(reviews);
  BOOST_REQUIRE(first->inbound.size() == 1u);
  BOOST_REQUIRE(second->inbound.size() == 1u);
  BOOST_TEST(second->inbound[0].cluster == "inbound|9080|http|reviews.default.svc.cluster.local");
  BOOST_TEST(second->scope.services.size() == first->scope.services.size());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace monomesh::pilot
