// Istio 1.1's xDS names: clusters "outbound|9080|v1|reviews.default.svc.cluster.local" and
// "inbound|9080|http|reviews.default.svc.cluster.local", sidecar route configurations named by
// port ("9080"), gateway route configurations "http.80" / "https.443.<server>".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace monomesh::pilot::xds {

enum class Direction { Inbound, Outbound };

std::string clusterName(Direction direction, uint32_t port, std::string_view subset, std::string_view host);

// "outbound_.9080_.v1_.reviews.default.svc.cluster.local": the SNI that ISTIO_MUTUAL clusters
// send and gateways in AUTO_PASSTHROUGH mode route on.
std::string sniClusterName(uint32_t port, std::string_view subset, std::string_view host);

struct ClusterKey {
  Direction direction = Direction::Outbound;
  uint32_t port = 0;
  std::string subset;
  std::string host;
};
std::optional<ClusterKey> parseClusterName(std::string_view name);

inline constexpr std::string_view kBlackHoleCluster = "BlackHoleCluster";
inline constexpr std::string_view kPassthroughCluster = "PassthroughCluster";
inline constexpr std::string_view kVirtualListenerName = "virtual";
inline constexpr uint32_t kVirtualListenerPort = 15001;

}  // namespace monomesh::pilot::xds
