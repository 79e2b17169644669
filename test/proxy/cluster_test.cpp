// ClusterInfo::compile: Envoy Cluster settings with Envoy's defaults, endpoints, validation
// messages that name the field, and the cluster's stats.
#include <boost/test/unit_test.hpp>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "proxy/config/proto_values.h"
#include "proxy/upstream/cluster.h"
#include "proxy_test_util.h"

namespace cv3 = envoy::config::cluster::v3;
using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;

namespace {

const char* kStatic = R"(
name: backend
type: STATIC
load_assignment:
  cluster_name: backend
  endpoints:
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
)";

std::shared_ptr<ClusterInfo> compileYaml(const std::string& yaml, monomesh::observe::StatsStore& stats) {
  return ClusterInfo::compile(fromYaml<cv3::Cluster>(yaml), stats);
}

std::string compileError(const std::string& yaml) {
  monomesh::observe::StatsStore stats;
  return errorOf([&] { compileYaml(yaml, stats); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster)

BOOST_AUTO_TEST_CASE(defaults) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(kStatic, stats);
  BOOST_TEST(c->name == "backend");
  BOOST_TEST((c->type == ClusterInfo::Type::Static));
  BOOST_TEST((c->lb == ClusterInfo::LbPolicy::RoundRobin));
  BOOST_TEST(c->connect_timeout.count() == 5000);
  BOOST_TEST(c->dns_refresh.count() == 5000);
  BOOST_TEST(c->limits.max_connections == 1024u);
  BOOST_TEST(c->limits.max_pending_requests == 1024u);
  BOOST_TEST(c->limits.max_requests == 1024u);
  BOOST_TEST(c->limits.max_retries == 3u);
  BOOST_TEST(!c->outlier.enabled);
  BOOST_TEST(c->max_requests_per_connection == 0u);
  BOOST_TEST(c->per_connection_buffer_limit == 1024u * 1024u);
  BOOST_TEST(c->ring_min_size == 1024u);
  BOOST_TEST_REQUIRE(c->targets.size() == 1u);
  BOOST_TEST(c->targets[0].address == "127.0.0.1");
  BOOST_TEST(c->targets[0].port == 8080);
  BOOST_TEST(c->targets[0].weight == 1u);
  BOOST_TEST(c->targets[0].priority == 0u);
  BOOST_TEST(c->targets[0].healthy);
  BOOST_TEST(c->breakers != nullptr);
  BOOST_TEST(c->config.name() == "backend");
}

BOOST_AUTO_TEST_CASE(settings_are_read) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(std::string(kStatic) + R"(
connect_timeout: 0.25s
lb_policy: RING_HASH
ring_hash_lb_config: {minimum_ring_size: 4096}
max_requests_per_connection: 100
per_connection_buffer_limit_bytes: 32768
)",
                       stats);
  BOOST_TEST(c->connect_timeout.count() == 250);
  BOOST_TEST((c->lb == ClusterInfo::LbPolicy::RingHash));
  BOOST_TEST(c->ring_min_size == 4096u);
  BOOST_TEST(c->max_requests_per_connection == 100u);
  BOOST_TEST(c->per_connection_buffer_limit == 32768u);
}

BOOST_AUTO_TEST_CASE(idle_timeout_of_upstream_connections) {
  monomesh::observe::StatsStore stats;
  BOOST_TEST(compileYaml(kStatic, stats)->idle_timeout.count() == 3600000);  // Envoy's 1 h
  auto common = compileYaml(std::string(kStatic) + "common_http_protocol_options: {idle_timeout: 2s}\n", stats);
  BOOST_TEST(common->idle_timeout.count() == 2000);
  auto never = compileYaml(std::string(kStatic) + "common_http_protocol_options: {idle_timeout: 0s}\n", stats);
  BOOST_TEST(never->idle_timeout.count() == kNoTimeout.count());
  auto typed = compileYaml(std::string(kStatic) + R"(
typed_extension_protocol_options:
  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    common_http_protocol_options: {idle_timeout: 30s}
    explicit_http_config: {http2_protocol_options: {}}
)",
                           stats);
  BOOST_TEST(typed->idle_timeout.count() == 30000);
  BOOST_TEST(typed->http2);
  // A GOAWAY'd HTTP/2 connection lets its streams finish (their own timeouts bound them).
  BOOST_TEST(typed->h2.drain_timeout.count() == kNoTimeout.count());
}

BOOST_AUTO_TEST_CASE(pipe_endpoints_are_no_hosts) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(R"(
name: sds-grpc
type: STATIC
load_assignment:
  cluster_name: sds-grpc
  endpoints: [{lb_endpoints: [{endpoint: {address: {pipe: {path: /var/run/sds/uds_path}}}}]}]
)",
                       stats);
  BOOST_TEST(c->targets.empty());
  auto error = compileError(R"(
name: x
type: STATIC
load_assignment: {cluster_name: x, endpoints: [{lb_endpoints: [{endpoint: {address: {}}}]}]}
)");
  BOOST_TEST(contains(error, "endpoint.address: a socket_address or a pipe is required"), error);
}

BOOST_AUTO_TEST_CASE(lb_policies) {
  const std::pair<const char*, ClusterInfo::LbPolicy> policies[] = {
      {"ROUND_ROBIN", ClusterInfo::LbPolicy::RoundRobin}, {"LEAST_REQUEST", ClusterInfo::LbPolicy::LeastRequest},
      {"RANDOM", ClusterInfo::LbPolicy::Random},          {"RING_HASH", ClusterInfo::LbPolicy::RingHash},
      {"MAGLEV", ClusterInfo::LbPolicy::Maglev}};
  for (const auto& [name, policy] : policies) {
    BOOST_TEST_CONTEXT("lb_policy " << name) {
      monomesh::observe::StatsStore stats;
      auto c = compileYaml(std::string(kStatic) + "lb_policy: " + name + "\n", stats);
      BOOST_TEST((c->lb == policy));
    }
  }
}

BOOST_AUTO_TEST_CASE(circuit_breaker_thresholds) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(std::string(kStatic) + R"(
circuit_breakers:
  thresholds:
  - {priority: HIGH, max_connections: 1, max_pending_requests: 1, max_requests: 1, max_retries: 1}
  - {max_connections: 10, max_pending_requests: 20, max_requests: 30, max_retries: 4}
)",
                       stats);
  BOOST_TEST(c->limits.max_connections == 10u);
  BOOST_TEST(c->limits.max_pending_requests == 20u);
  BOOST_TEST(c->limits.max_requests == 30u);
  BOOST_TEST(c->limits.max_retries == 4u);
  auto partial = compileYaml(std::string(kStatic) + "circuit_breakers: {thresholds: [{max_requests: 7}]}\n", stats);
  BOOST_TEST(partial->limits.max_requests == 7u);
  BOOST_TEST(partial->limits.max_connections == 1024u);  // unset fields keep Envoy's defaults
  BOOST_TEST(partial->limits.max_retries == 3u);
}

BOOST_AUTO_TEST_CASE(outlier_detection_values) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(std::string(kStatic) + R"(
outlier_detection:
  consecutive_5xx: 3
  consecutive_gateway_failure: 2
  enforcing_consecutive_5xx: 0
  enforcing_consecutive_gateway_failure: 100
  interval: 5s
  base_ejection_time: 1m
  max_ejection_percent: 50
)",
                       stats);
  const OutlierSettings& o = c->outlier;
  BOOST_TEST(o.enabled);
  BOOST_TEST(o.consecutive_5xx == 3u);
  BOOST_TEST(o.consecutive_gateway_failure == 2u);
  BOOST_TEST(!o.enforce_5xx);
  BOOST_TEST(o.enforce_gateway_failure);
  BOOST_TEST(o.interval.count() == 5000);
  BOOST_TEST(o.base_ejection_time.count() == 60000);
  BOOST_TEST(o.max_ejection_percent == 50u);
}

BOOST_AUTO_TEST_CASE(outlier_detection_defaults) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(std::string(kStatic) + "outlier_detection: {}\n", stats);
  const OutlierSettings& o = c->outlier;
  BOOST_TEST(o.enabled);
  BOOST_TEST(o.consecutive_5xx == 5u);
  BOOST_TEST(o.consecutive_gateway_failure == 5u);
  BOOST_TEST(o.enforce_5xx);                // enforcing_consecutive_5xx defaults to 100
  BOOST_TEST(!o.enforce_gateway_failure);   // enforcing_consecutive_gateway_failure defaults to 0
  BOOST_TEST(o.interval.count() == 10000);
  BOOST_TEST(o.base_ejection_time.count() == 30000);
  BOOST_TEST(o.max_ejection_percent == 10u);
}

BOOST_AUTO_TEST_CASE(endpoints_with_weights_priorities_localities_and_health) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(R"(
name: multi
type: STATIC
load_assignment:
  cluster_name: multi
  endpoints:
  - locality: {region: us-east1, zone: b, sub_zone: rack1}
    lb_endpoints:
    - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
      load_balancing_weight: 3
    - endpoint: {address: {socket_address: {address: "::1", port_value: 81}}}
      health_status: UNHEALTHY
    - endpoint: {address: {socket_address: {address: 10.0.0.3, port_value: 82}}}
      health_status: HEALTHY
  - priority: 1
    lb_endpoints:
    - endpoint: {address: {socket_address: {address: 10.0.1.1, port_value: 80}}}
)",
                       stats);
  BOOST_TEST_REQUIRE(c->targets.size() == 4u);
  BOOST_TEST(c->targets[0].weight == 3u);
  BOOST_TEST(c->targets[0].locality == "us-east1/b/rack1");
  BOOST_TEST(c->targets[1].address == "::1");
  BOOST_TEST(!c->targets[1].healthy);
  BOOST_TEST(c->targets[2].healthy);
  BOOST_TEST(c->targets[3].priority == 1u);
  BOOST_TEST(c->targets[0].priority == 0u);
}

BOOST_AUTO_TEST_CASE(locality_weights_and_locality_weighted_balancing) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(R"(
name: zoned
type: STATIC
common_lb_config: {locality_weighted_lb_config: {}}
load_assignment:
  endpoints:
  - locality: {region: r, zone: a}
    load_balancing_weight: 80
    lb_endpoints:
    - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
  - locality: {region: r, zone: b}
    lb_endpoints:
    - endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}
)",
                       stats);
  BOOST_TEST(c->locality_weighted);
  BOOST_TEST_REQUIRE(c->targets.size() == 2u);
  BOOST_TEST(c->targets[0].locality_weight == 80u);
  BOOST_TEST(c->targets[1].locality_weight == 0u);  // none given: Envoy sends it no traffic
  BOOST_TEST(!compileYaml(kStatic, stats)->locality_weighted);
  std::string zero = compileError(
      "name: s\ntype: STATIC\nload_assignment: {endpoints: [{load_balancing_weight: 0, lb_endpoints: [{endpoint: "
      "{address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}\n");
  BOOST_TEST(contains(zero, "load_assignment.endpoints[0].load_balancing_weight: must be at least 1"), zero);
}

BOOST_AUTO_TEST_CASE(static_with_a_hostname_throws_naming_the_endpoint) {
  std::string error = compileError(R"(
name: bad
type: STATIC
load_assignment:
  cluster_name: bad
  endpoints:
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: 10.0.0.2, port_value: 80}}}
    - endpoint: {address: {socket_address: {address: backend.example.com, port_value: 80}}}
)");
  BOOST_TEST(contains(error, "load_assignment.endpoints[1].lb_endpoints[1]"), error);
  BOOST_TEST(contains(error, "backend.example.com"), error);
}

BOOST_AUTO_TEST_CASE(port_zero_throws) {
  std::string error = compileError(R"(
name: bad
load_assignment:
  cluster_name: bad
  endpoints:
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: 10.0.0.1}}}
)");
  BOOST_TEST(contains(error, "load_assignment.endpoints[0].lb_endpoints[0]"), error);
  BOOST_TEST(contains(error, "port_value"), error);
}

BOOST_AUTO_TEST_CASE(endpoint_without_socket_address_throws) {
  std::string error = compileError(R"(
name: bad
load_assignment:
  cluster_name: bad
  endpoints:
  - lb_endpoints:
    - endpoint: {}
)");
  BOOST_TEST(contains(error, "load_assignment.endpoints[0].lb_endpoints[0].endpoint.address"), error);
}

BOOST_AUTO_TEST_CASE(dns_cluster_without_endpoints_throws) {
  for (const char* type : {"STRICT_DNS", "LOGICAL_DNS"}) {
    BOOST_TEST_CONTEXT("type " << type) {
      std::string error = compileError(std::string("name: dns\ntype: ") + type + "\n");
      BOOST_TEST(contains(error, "load_assignment"), error);
    }
  }
}

BOOST_AUTO_TEST_CASE(dns_cluster_with_hostnames) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(R"(
name: dns
type: STRICT_DNS
dns_refresh_rate: 30s
load_assignment:
  cluster_name: dns
  endpoints:
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: backend.example.com, port_value: 443}}}
)",
                       stats);
  BOOST_TEST((c->type == ClusterInfo::Type::StrictDns));
  BOOST_TEST(c->dns_refresh.count() == 30000);
  BOOST_TEST(c->targets.at(0).address == "backend.example.com");
  BOOST_TEST(c->targets.at(0).port == 443);
}

BOOST_AUTO_TEST_CASE(eds_and_original_dst_clusters) {
  monomesh::observe::StatsStore stats;
  auto eds = compileYaml(
      "name: eds\ntype: EDS\neds_cluster_config: {service_name: reviews.default, eds_config: {ads: {}, "
      "initial_fetch_timeout: 3s}}\n",
      stats);
  BOOST_TEST((eds->type == ClusterInfo::Type::Eds));
  BOOST_TEST(eds->eds_service_name == "reviews.default");
  BOOST_TEST(eds->edsName() == "reviews.default");
  BOOST_TEST(eds->eds_initial_fetch_timeout.count() == 3000);
  BOOST_TEST(eds->targets.empty());
  auto by_name = compileYaml("name: eds\ntype: EDS\neds_cluster_config: {eds_config: {ads: {}}}\n", stats);
  BOOST_TEST(by_name->edsName() == "eds");
  BOOST_TEST(by_name->eds_initial_fetch_timeout.count() == 15000);
  std::string no_source = compileError("name: eds\ntype: EDS\neds_cluster_config: {service_name: x}\n");
  BOOST_TEST(contains(no_source, "eds_cluster_config.eds_config: required"), no_source);
  std::string rest = compileError("name: eds\ntype: EDS\neds_cluster_config: {eds_config: {api_config_source: {api_type: REST}}}\n");
  BOOST_TEST(contains(rest, "eds_cluster_config.eds_config.api_config_source"), rest);
  std::string zero = compileError(
      "name: s\ntype: STATIC\nload_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: "
      "{address: 10.0.0.1, port_value: 80}}}, load_balancing_weight: 0}]}]}\n");
  BOOST_TEST(contains(zero, "load_assignment.endpoints[0].lb_endpoints[0].load_balancing_weight: must be at least 1"), zero);
  auto odst = compileYaml("name: passthrough\ntype: ORIGINAL_DST\nlb_policy: CLUSTER_PROVIDED\n", stats);
  BOOST_TEST((odst->type == ClusterInfo::Type::OriginalDst));
  BOOST_TEST((odst->lb == ClusterInfo::LbPolicy::ClusterProvided));
  std::string error = compileError("name: passthrough\ntype: ORIGINAL_DST\nlb_policy: MAGLEV\n");
  BOOST_TEST(contains(error, "lb_policy"), error);
}

BOOST_AUTO_TEST_CASE(name_is_required) {
  std::string error = compileError("type: STATIC\n");
  BOOST_TEST(contains(error, "name"), error);
}

BOOST_AUTO_TEST_CASE(stats_names) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(kStatic, stats);
  BOOST_REQUIRE(c->stats != nullptr);
  c->stats->rq_total->inc();
  c->stats->rq_total->inc();
  c->stats->cx_active->set(3);
  auto values = stats.values();
  for (const char* name : {"cluster.backend.upstream_rq_total", "cluster.backend.upstream_rq_5xx",
                           "cluster.backend.upstream_cx_total", "cluster.backend.upstream_cx_connect_fail",
                           "cluster.backend.upstream_rq_retry", "cluster.backend.upstream_rq_pending_overflow",
                           "cluster.backend.outlier_detection.ejections_total", "cluster.backend.membership_healthy",
                           "cluster.backend.membership_total", "cluster.backend.upstream_cx_active",
                           "cluster.backend.upstream_rq_pending_active"}) {
    BOOST_TEST(values.count(name) == 1u, name << " is missing");
  }
  BOOST_TEST(values["cluster.backend.upstream_rq_total"] == 2);
  BOOST_TEST(values["cluster.backend.upstream_cx_active"] == 3);
  auto backend = [](const std::string& name) { return name.find("backend") != std::string::npos; };
  BOOST_TEST(contains(stats.renderText(backend), "cluster.backend.upstream_rq_total: 2"), stats.renderText(backend));
}

BOOST_AUTO_TEST_SUITE_END()
