// An upstream cluster as the data plane uses it: the immutable settings compiled from an Envoy
// Cluster (ClusterInfo), the hosts it currently has (HostSet, replaced as DNS or EDS changes),
// and the state shared by every worker: circuit-breaker counts and each host's outlier state.
#pragma once
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/h2/h2_options.h"
#include "proxy/config/tls_config.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "observe/stats_store.h"

namespace monomesh::proxy {

using Clock = std::chrono::steady_clock;

struct OutlierSettings {
  bool enabled = false;
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway_failure = 5;
  bool enforce_5xx = true;
  bool enforce_gateway_failure = false;
  std::chrono::milliseconds interval{10000};
  std::chrono::milliseconds base_ejection_time{30000};
  uint32_t max_ejection_percent = 10;
};

struct CircuitBreakerLimits {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
};

// One upstream endpoint. Shared by every worker; only atomics change after creation.
struct Host {
  boost::asio::ip::tcp::endpoint address;
  std::string hostname;  // what DNS resolved, or the address text
  uint32_t weight = 1;
  uint32_t priority = 0;
  std::string locality;  // "region/zone/subzone"
  uint32_t locality_weight = 0;  // its LocalityLbEndpoints' load_balancing_weight (0: none)
  bool healthy = true;   // from EDS health status

  // Outlier detection, updated by every worker.
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway{0};
  std::atomic<int64_t> ejected_until_ns{0};  // steady-clock time; 0: not ejected
  std::atomic<uint32_t> times_ejected{0};
  std::atomic<int64_t> active_requests{0};  // for LEAST_REQUEST

  std::string str() const;
  bool ejected(Clock::time_point now) const {
    return ejected_until_ns.load(std::memory_order_relaxed) > now.time_since_epoch().count();
  }
};

using HostPtr = std::shared_ptr<Host>;

struct HostSet {
  std::vector<HostPtr> hosts;
  uint64_t version = 0;
};

struct ClusterStats {
  observe::Counter *rq_total, *rq_2xx, *rq_3xx, *rq_4xx, *rq_5xx, *rq_timeout, *rq_retry, *rq_retry_overflow,
      *rq_pending_overflow, *cx_total, *cx_connect_fail, *cx_connect_timeout, *cx_overflow, *cx_destroy,
      *rq_per_try_timeout, *outlier_ejections_total, *outlier_ejections_consecutive_5xx, *membership_change,
      *ssl_handshake, *ssl_connection_error;
  observe::Gauge *cx_active, *rq_active, *rq_pending_active, *membership_total, *membership_healthy;
  ClusterStats(observe::StatsStore& store, const std::string& cluster);
};

// Counts shared by every worker, so limits hold for the whole proxy as in Envoy.
struct CircuitBreakerState {
  std::atomic<uint32_t> connections{0}, pending{0}, requests{0}, retries{0};
};

struct ClusterInfo {
  enum class Type { Static, StrictDns, LogicalDns, Eds, OriginalDst };
  enum class LbPolicy { RoundRobin, LeastRequest, Random, RingHash, Maglev, ClusterProvided };

  std::string name;
  Type type = Type::Static;
  LbPolicy lb = LbPolicy::RoundRobin;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds dns_refresh{5000};
  std::chrono::milliseconds idle_timeout{3600000};
  uint32_t max_requests_per_connection = 0;  // 0: unlimited
  uint32_t per_connection_buffer_limit = 1024 * 1024;
  uint64_t ring_min_size = 1024;
  // common_lb_config.locality_weighted_lb_config: localities share traffic by their weights.
  bool locality_weighted = false;
  CircuitBreakerLimits limits;
  OutlierSettings outlier;
  // Endpoints as configured: for STATIC the addresses, for DNS types the names to resolve.
  struct Target {
    std::string address;
    uint16_t port = 0;
    uint32_t weight = 1;
    uint32_t priority = 0;
    std::string locality;
    uint32_t locality_weight = 0;  // the locality's load_balancing_weight (0: not given)
    bool healthy = true;
  };
  std::vector<Target> targets;
  std::string eds_service_name;  // eds_cluster_config.service_name as given
  // EDS: how long the cluster may warm without its first ClusterLoadAssignment (0: for ever).
  std::chrono::milliseconds eds_initial_fetch_timeout{15000};
  // The ClusterLoadAssignment an EDS cluster subscribes to: service_name, else the cluster's name.
  const std::string& edsName() const { return eds_service_name.empty() ? name : eds_service_name; }
  std::shared_ptr<const UpstreamTls> tls;
  uint64_t tls_generation = 0;  // bumped when certificate files change: same config, new contexts
  // HTTP/2 to the endpoints (http2_protocol_options, or the HttpProtocolOptions extension).
  bool http2 = false;
  net::h2::H2Options h2;  // transport_socket: TLS origination (SNI, SAN checks)
  envoy::config::cluster::v3::Cluster config;  // as given, for /config_dump

  std::shared_ptr<CircuitBreakerState> breakers = std::make_shared<CircuitBreakerState>();
  std::shared_ptr<ClusterStats> stats;

  // Throws std::invalid_argument naming the field that is wrong.
  static std::shared_ptr<ClusterInfo> compile(const envoy::config::cluster::v3::Cluster& cluster,
                                              observe::StatsStore& stats, const SecretStore* secrets = nullptr);
};

// The endpoints of a ClusterLoadAssignment (a cluster's load_assignment, or an EDS resource).
// `require_ip`: addresses must be IP addresses (STATIC and EDS clusters; DNS ones resolve names).
// Throws std::invalid_argument naming the field below `field` ("load_assignment", "").
std::vector<ClusterInfo::Target> compileLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment,
                                                       bool require_ip, const std::string& field);

}  // namespace monomesh::proxy
