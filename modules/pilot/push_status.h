// What building one push found wrong, kept the way Istio 1.1's PushContext kept its ProxyStatus:
// per metric, the keys it was reported for (a listener address, a cluster, a host, a proxy), each
// with the proxy concerned and a message. The builders report as they find a conflict (keeping the
// first of two contenders and reporting the loser); a key is reported once however many proxies
// hit it. The pilot_* gauges of the same names count the keys of the push being served
// (publishPushStatus), so they restart from zero with every full push, as 1.1's did.
#pragma once
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace monomesh::pilot {

enum class PushMetric {
  NoIp,                         // pilot_no_ip: a sidecar whose IPs no service endpoint has (by proxy)
  EdsNoInstances,               // pilot_eds_no_instances: an EDS cluster without endpoints (by cluster)
  DuplicateClusters,            // pilot_duplicate_envoy_clusters: a cluster name built twice (by cluster)
  DestruleSubsets,              // pilot_destrule_subsets: a subset name in two merged rules (by host)
  ConflictInboundListener,      // two service ports on one workload ip:port (by proxy)
  ConflictOutboundTcpOverTcp,   // pilot_conflict_outbound_listener_tcp_over_current_tcp (by ip:port)
  ConflictOutboundTcpOverHttp,  // pilot_conflict_outbound_listener_tcp_over_current_http
  ConflictOutboundHttpOverTcp,  // pilot_conflict_outbound_listener_http_over_current_tcp
};
inline constexpr size_t kPushMetricCount = 8;

std::string_view pushMetricName(PushMetric metric);
std::string_view pushMetricHelp(PushMetric metric);

struct PushEvent {
  std::string proxy;  // node ID, "" when no single proxy is concerned
  std::string message;
};

class PushStatus {
 public:
  // Builders may run for several proxies at once in the future; the lock is per report, never on
  // the data path.
  void add(PushMetric metric, std::string key, std::string_view proxy, std::string message);
  size_t count(PushMetric metric) const;
  std::map<std::string, PushEvent> events(PushMetric metric) const;

  // A push that re-evaluates only some xDS types (an endpoint-only or route-only change) keeps
  // what was reported since the last full push, as 1.1 kept one PushContext between full pushes:
  // the resources not rebuilt, and so their conflicts, are unchanged.
  void carryFrom(const PushStatus& previous);

 private:
  mutable std::mutex mutex_;
  std::array<std::map<std::string, PushEvent>, kPushMetricCount> events_;
};

// The status the pilot_* push gauges report from now on (the discovery server's current push).
void publishPushStatus(std::shared_ptr<const PushStatus> status);

}  // namespace monomesh::pilot
