// CDS, EDS and sidecar LDS for the bookinfo mesh: Istio 1.1's names, DestinationRule fields on
// clusters, subsets and localities in assignments, the listeners a sidecar gets — and our proxy
// accepting every generated cluster and listener.
#include <boost/test/unit_test.hpp>

#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "pilot/discovery/push_debouncer.h"
#include "pilot/xds/access_log.h"
#include "proxy/upstream/cluster.h"
#include "registry_test_data.h"
#include "xds_test_util.h"

namespace monomesh::pilot {

using testing::TestMesh;
namespace cv3 = envoy::config::cluster::v3;

namespace {

const cv3::Cluster* findCluster(const std::vector<cv3::Cluster>& clusters, const std::string& name) {
  for (const auto& c : clusters)
    if (c.name() == name) return &c;
  return nullptr;
}

const envoy::config::listener::v3::Listener* findListener(const std::vector<envoy::config::listener::v3::Listener>& ls,
                                                         const std::string& name) {
  for (const auto& l : ls)
    if (l.name() == name) return &l;
  return nullptr;
}

constexpr const char* kReviewsRule = R"(
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: LEAST_CONN}
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 3s}
      http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 5, maxRetries: 4}
    outlierDetection: {consecutiveErrors: 7, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 50}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {consistentHash: {httpHeaderName: x-user, minimumRingSize: 2048}}
      tls: {mode: ISTIO_MUTUAL}
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(sidecar_xds)

BOOST_AUTO_TEST_CASE(clusters_have_istio_names_and_destination_rule_settings) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(kReviewsRule);
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  auto clusters = xds::buildClusters(view);
  const auto* plain = findCluster(clusters, "outbound|9080||reviews.default.svc.cluster.local");
  BOOST_REQUIRE(plain != nullptr);
  BOOST_TEST((plain->type() == cv3::Cluster::EDS));
  BOOST_TEST(plain->eds_cluster_config().service_name() == plain->name());
  BOOST_TEST(plain->eds_cluster_config().eds_config().has_ads());
  BOOST_TEST((plain->lb_policy() == cv3::Cluster::LEAST_REQUEST));
  BOOST_TEST(plain->connect_timeout().seconds() == 3);
  BOOST_TEST(plain->circuit_breakers().thresholds(0).max_connections().value() == 100u);
  BOOST_TEST(plain->circuit_breakers().thresholds(0).max_pending_requests().value() == 10u);
  BOOST_TEST(plain->circuit_breakers().thresholds(0).max_retries().value() == 4u);
  BOOST_TEST(plain->max_requests_per_connection().value() == 5u);
  BOOST_TEST(plain->outlier_detection().consecutive_5xx().value() == 7u);
  BOOST_TEST(plain->outlier_detection().base_ejection_time().seconds() == 900);
  BOOST_TEST(!plain->has_transport_socket());

  const auto* v2 = findCluster(clusters, "outbound|9080|v2|reviews.default.svc.cluster.local");
  BOOST_REQUIRE(v2 != nullptr);
  BOOST_TEST((v2->lb_policy() == cv3::Cluster::RING_HASH));
  BOOST_TEST(v2->ring_hash_lb_config().minimum_ring_size().value() == 2048u);
  BOOST_TEST(v2->outlier_detection().consecutive_5xx().value() == 7u);  // inherited from the top level
  BOOST_REQUIRE(v2->has_transport_socket());
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext tls;
  BOOST_REQUIRE(v2->transport_socket().typed_config().UnpackTo(&tls));
  BOOST_TEST(tls.sni() == "outbound_.9080_.v2_.reviews.default.svc.cluster.local");
  BOOST_TEST(tls.common_tls_context().alpn_protocols(0) == "istio");
  BOOST_TEST(tls.common_tls_context().validation_context().match_subject_alt_names(0).exact() ==
             "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");

  BOOST_TEST(findCluster(clusters, "outbound|9090||ratings.default.svc.cluster.local")->has_http2_protocol_options());
  BOOST_TEST(findCluster(clusters, "outbound|27017||mongodb.default.svc.cluster.local") != nullptr);
  BOOST_TEST(findCluster(clusters, "outbound|53||mongodb.default.svc.cluster.local") == nullptr);
  const auto* inbound = findCluster(clusters, "inbound|9080|http|productpage.default.svc.cluster.local");
  BOOST_REQUIRE(inbound != nullptr);
  BOOST_TEST(inbound->load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address() ==
             "127.0.0.1");
  BOOST_TEST(findCluster(clusters, "BlackHoleCluster") != nullptr);
  BOOST_TEST((findCluster(clusters, "PassthroughCluster")->type() == cv3::Cluster::ORIGINAL_DST));

  // Our proxy takes every one of them (files of ISTIO_MUTUAL aside: they exist only in a pod).
  observe::StatsStore stats;
  for (const auto& c : clusters) {
    if (c.has_transport_socket()) continue;
    BOOST_CHECK_NO_THROW(proxy::ClusterInfo::compile(c, stats));
  }
}

BOOST_AUTO_TEST_CASE(endpoints_follow_subsets_and_localities) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(kReviewsRule);
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  auto all = xds::buildLoadAssignment(view, "outbound|9080||reviews.default.svc.cluster.local");
  BOOST_REQUIRE(all.has_value());
  BOOST_REQUIRE(all->endpoints_size() == 2);  // two localities
  BOOST_TEST(all->endpoints(0).locality().region() == "us-east");
  BOOST_TEST(all->endpoints(0).priority() == 0u);  // locality LB is off by default
  auto v2 = xds::buildLoadAssignment(view, "outbound|9080|v2|reviews.default.svc.cluster.local");
  BOOST_REQUIRE(v2->endpoints_size() == 1);
  BOOST_TEST(v2->endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address() == "10.1.0.12");
  BOOST_TEST(xds::buildLoadAssignment(view, "outbound|9080|v9|reviews.default.svc.cluster.local")->endpoints_size() == 0);
  BOOST_TEST(!xds::buildLoadAssignment(view, "not-a-cluster").has_value());

  // With locality load balancing, the proxy's own zone comes first, the other region last.
  mesh.mesh().mutable_locality_lb_setting();
  const auto& local_push = mesh.push();
  xds::ProxyView local_view(local_push, proxy);
  auto prioritised = xds::buildLoadAssignment(local_view, "outbound|9080||reviews.default.svc.cluster.local");
  BOOST_TEST(prioritised->endpoints(0).priority() == 0u);  // us-east/us-east-1a, like productpage's node
  BOOST_TEST(prioritised->endpoints(1).priority() == 3u);  // us-west
  for (const auto& c : xds::buildClusters(local_view))
    BOOST_TEST(!c.common_lb_config().has_locality_weighted_lb_config());  // failover only: priorities

  // With `distribute`, localities carry weights, and EDS clusters turn locality weighting on.
  auto* d = mesh.mesh().mutable_locality_lb_setting()->add_distribute();
  d->set_from("us-east/*");
  (*d->mutable_to())["us-east/*"] = 80;
  (*d->mutable_to())["us-west/*"] = 20;
  const auto& weighted_push = mesh.push();
  xds::ProxyView weighted_view(weighted_push, proxy);
  auto weighted = xds::buildLoadAssignment(weighted_view, "outbound|9080||reviews.default.svc.cluster.local");
  BOOST_REQUIRE(weighted->endpoints_size() == 2);
  BOOST_TEST(weighted->endpoints(0).load_balancing_weight().value() == 80u);
  BOOST_TEST(weighted->endpoints(1).load_balancing_weight().value() == 20u);
  bool found = false;
  for (const auto& c : xds::buildClusters(weighted_view))
    if (c.name() == "outbound|9080||reviews.default.svc.cluster.local") {
      found = true;
      BOOST_TEST(c.common_lb_config().has_locality_weighted_lb_config());
    }
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(sidecar_listeners_as_istio_1_1) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  auto listeners = xds::buildListeners(view);
  const auto* virt = findListener(listeners, "virtual");
  BOOST_REQUIRE(virt != nullptr);
  BOOST_TEST(virt->address().socket_address().port_value() == 15001u);
  BOOST_TEST(virt->use_original_dst().value());
  const auto* http = findListener(listeners, "0.0.0.0_9080");
  BOOST_REQUIRE(http != nullptr);
  BOOST_TEST(!http->bind_to_port().value());
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  BOOST_REQUIRE(http->filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  BOOST_TEST(hcm.rds().route_config_name() == "9080");
  BOOST_TEST(findListener(listeners, "10.0.0.12_27017") != nullptr);  // TCP by VIP
  BOOST_TEST(findListener(listeners, "10.0.0.13_7070") != nullptr);
  BOOST_TEST(findListener(listeners, "0.0.0.0_9090") != nullptr);    // gRPC is HTTP: by port
  BOOST_TEST(findListener(listeners, "10.1.0.1_9080") != nullptr);   // inbound
  for (const auto& l : listeners) testing::checkProxyAccepts(l);

  // INTERCEPTION_MODE NONE: no capture, so listeners bind and there is no virtual listener.
  auto uncaptured = testing::proxyNode("sidecar~10.1.0.1~productpage-v1-1.default~default.svc.cluster.local",
                                       {{"INTERCEPTION_MODE", "NONE"}});
  xds::ProxyView bound_view(push, uncaptured);
  auto bound = xds::buildListeners(bound_view);
  BOOST_TEST(findListener(bound, "virtual") == nullptr);
  BOOST_REQUIRE(findListener(bound, "127.0.0.1_9080") != nullptr);
  BOOST_TEST(findListener(bound, "127.0.0.1_9080")->bind_to_port().value());
}

BOOST_AUTO_TEST_CASE(mesh_access_log_reaches_every_connection_manager_and_tcp_proxy) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  auto proxy = testing::productpageSidecar();
  namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;
  namespace file_v3 = envoy::extensions::access_loggers::file::v3;
  // Counts the listeners' HCMs and tcp_proxies, and those with exactly one log to `path`.
  auto count = [](const std::vector<envoy::config::listener::v3::Listener>& listeners, const std::string& path) {
    std::pair<int, int> filters_logged{0, 0};
    for (const auto& l : listeners) {
      for (const auto& chain : l.filter_chains()) {
        for (const auto& f : chain.filters()) {
          google::protobuf::RepeatedPtrField<envoy::config::accesslog::v3::AccessLog> logs;
          if (f.name() == "envoy.filters.network.http_connection_manager") {
            hcm_v3::HttpConnectionManager m;
            BOOST_REQUIRE(f.typed_config().UnpackTo(&m));
            logs = m.access_log();
          } else if (f.name() == "envoy.filters.network.tcp_proxy") {
            envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy t;
            BOOST_REQUIRE(f.typed_config().UnpackTo(&t));
            logs = t.access_log();
          } else {
            continue;
          }
          ++filters_logged.first;
          file_v3::FileAccessLog file;
          if (logs.size() == 1 && logs[0].name() == "envoy.file_access_log" && logs[0].typed_config().UnpackTo(&file) &&
              file.path() == path)
            ++filters_logged.second;
        }
      }
    }
    return filters_logged;
  };

  // 1.1's chart default: off.
  mesh.mesh().set_access_log_file("");
  xds::ProxyView off_view(mesh.push(), proxy);
  auto off = count(xds::buildListeners(off_view), "");
  BOOST_TEST(off.first > 3);
  BOOST_TEST(off.second == 0);

  // TEXT with 1.1's default format; every listener still compiles in our proxy.
  mesh.mesh().set_access_log_file("/dev/stdout");
  xds::ProxyView text_view(mesh.push(), proxy);
  auto listeners = xds::buildListeners(text_view);
  auto text = count(listeners, "/dev/stdout");
  BOOST_TEST(text.first == off.first);
  BOOST_TEST(text.second == text.first);
  for (const auto& l : listeners) testing::checkProxyAccepts(l);
  auto log = xds::meshAccessLog(mesh.mesh());
  file_v3::FileAccessLog file;
  BOOST_REQUIRE(log.typed_config().UnpackTo(&file));
  BOOST_TEST(file.log_format().text_format().rfind("[%START_TIME%] \"%REQ(:METHOD)%", 0) == 0u);
  BOOST_TEST(file.log_format().text_format().back() == '\n');

  // A custom TEXT format gets its newline; JSON: 1.1's fields, or the format read as JSON.
  mesh.mesh().set_access_log_format("%RESPONSE_CODE% %DURATION%");
  BOOST_REQUIRE(xds::meshAccessLog(mesh.mesh()).typed_config().UnpackTo(&file));
  BOOST_TEST(file.log_format().text_format() == "%RESPONSE_CODE% %DURATION%\n");
  mesh.mesh().set_access_log_encoding(istio::mesh::v1alpha1::MeshConfig::JSON);
  BOOST_REQUIRE(xds::meshAccessLog(mesh.mesh()).typed_config().UnpackTo(&file));
  BOOST_TEST(file.log_format().json_format().fields().size() == 21u);  // not JSON: the default fields
  BOOST_TEST(file.log_format().json_format().fields().at("response_code").string_value() == "%RESPONSE_CODE%");
  mesh.mesh().set_access_log_format(R"({"code": "%RESPONSE_CODE%", "took": "%DURATION%"})");
  BOOST_REQUIRE(xds::meshAccessLog(mesh.mesh()).typed_config().UnpackTo(&file));
  BOOST_TEST(file.log_format().json_format().fields().size() == 2u);
  BOOST_TEST(file.log_format().json_format().fields().at("took").string_value() == "%DURATION%");
}

BOOST_AUTO_TEST_CASE(sidecar_resource_binds_egress_and_ingress_listeners) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: Sidecar
metadata: {name: productpage, namespace: default}
spec:
  workloadSelector: {labels: {app: productpage}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    bind: 127.0.0.5
    captureMode: NONE
    defaultEndpoint: 127.0.0.1:19080
  egress:
  - port: {number: 9080, protocol: HTTP, name: http}
    bind: 127.0.0.5
    captureMode: NONE
    hosts: ["./*"]
)");
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  auto listeners = xds::buildListeners(view);
  const auto* ingress = findListener(listeners, "127.0.0.5_9080");
  BOOST_REQUIRE(ingress != nullptr);
  BOOST_TEST(ingress->bind_to_port().value());
  BOOST_TEST((ingress->traffic_direction() == envoy::config::core::v3::INBOUND));
  // The inbound cluster sends to the defaultEndpoint, where the application listens.
  auto clusters = xds::buildClusters(view);
  const auto* inbound = findCluster(clusters, "inbound|9080|http|productpage.default.svc.cluster.local");
  BOOST_REQUIRE(inbound != nullptr);
  const auto& sa = inbound->load_assignment().endpoints(0).lb_endpoints(0).endpoint().address().socket_address();
  BOOST_TEST(sa.address() == "127.0.0.1");
  BOOST_TEST(sa.port_value() == 19080u);
  BOOST_TEST(findListener(listeners, "127.0.0.5_9080") != nullptr);
}

BOOST_AUTO_TEST_CASE(tcp_routes_choose_the_clusters_of_tcp_listeners) {
  TestMesh mesh;
  mesh.add(testing::kBookinfoRegistry);
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: mongo, namespace: default}
spec:
  hosts: [mongodb]
  tcp:
  - match: [{port: 27017}]
    route:
    - {destination: {host: mongodb, subset: v1}, weight: 80}
    - {destination: {host: mongodb, subset: v2}, weight: 20}
)");
  const auto& push = mesh.push();
  auto proxy = testing::productpageSidecar();
  xds::ProxyView view(push, proxy);
  auto listeners = xds::buildListeners(view);
  const auto* mongo = findListener(listeners, "10.0.0.12_27017");
  BOOST_REQUIRE(mongo != nullptr);
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  BOOST_REQUIRE(mongo->filter_chains(0).filters(0).typed_config().UnpackTo(&tcp));
  BOOST_REQUIRE(tcp.weighted_clusters().clusters_size() == 2);
  BOOST_TEST(tcp.weighted_clusters().clusters(0).name() == "outbound|27017|v1|mongodb.default.svc.cluster.local");
  BOOST_TEST(tcp.weighted_clusters().clusters(0).weight() == 80u);
  testing::checkProxyAccepts(*mongo);
  // Without a rule, the service's own cluster.
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy plain;
  BOOST_REQUIRE(findListener(listeners, "10.0.0.13_7070")->filter_chains(0).filters(0).typed_config().UnpackTo(&plain));
  BOOST_TEST(plain.cluster() == "outbound|7070||ratings.default.svc.cluster.local");
}

BOOST_AUTO_TEST_CASE(debouncer_waits_for_quiet_and_respects_the_cap) {
  boost::asio::io_context io;
  std::vector<bool> pushes;
  PushDebouncer debouncer(io, {std::chrono::milliseconds(30), std::chrono::milliseconds(200)},
                          [&](bool full, auto) { pushes.push_back(full); });
  debouncer.change(false);
  debouncer.change(true);
  io.run_for(std::chrono::milliseconds(100));
  BOOST_REQUIRE(pushes.size() == 1u);  // two changes, one push
  BOOST_TEST(pushes[0]);               // a full one, since one change needed it
  // A steady trickle of changes still pushes once the cap passes.
  boost::asio::steady_timer trickle(io);
  int left = 30;
  std::function<void()> tick = [&] {
    debouncer.change(false);
    if (--left == 0) return;
    trickle.expires_after(std::chrono::milliseconds(10));
    trickle.async_wait([&](auto) { tick(); });
  };
  tick();
  io.restart();
  io.run_for(std::chrono::milliseconds(260));
  BOOST_TEST(pushes.size() >= 2u);
  BOOST_TEST(!pushes[1]);
}

BOOST_AUTO_TEST_CASE(undebounced_endpoint_changes_push_at_once_unless_a_full_push_waits) {
  boost::asio::io_context io;
  std::vector<bool> pushes;
  PushDebouncer debouncer(io, {std::chrono::milliseconds(30), std::chrono::milliseconds(200), false},
                          [&](bool full, auto) { pushes.push_back(full); });
  debouncer.change(false);
  BOOST_REQUIRE(pushes.size() == 1u);  // no wait at all
  BOOST_TEST(!pushes[0]);
  // A config change waits for quiet as before, and an endpoint change meanwhile joins its push.
  debouncer.change(true);
  debouncer.change(false);
  BOOST_TEST(pushes.size() == 1u);
  io.run_for(std::chrono::milliseconds(100));
  BOOST_REQUIRE(pushes.size() == 2u);
  BOOST_TEST(pushes[1]);
  BOOST_TEST(debouncer.pushes() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace monomesh::pilot
