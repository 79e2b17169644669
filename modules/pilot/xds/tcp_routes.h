// Istio 1.1's TCP and TLS routes (the `tcp` and `tls` sections of a VirtualService), which are
// not RDS: they decide which cluster(s) a listener's tcp_proxy sends a connection to. Used by the
// sidecar outbound listeners and the gateway listeners.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "envoy/config/listener/v3/listener_components.pb.h"
#include "pilot/push_context.h"

namespace monomesh::pilot::xds {

struct WeightedDestination {
  std::string cluster;  // "outbound|9080|v1|reviews.default.svc.cluster.local"
  uint32_t weight = 100;
};
using Destinations = std::vector<WeightedDestination>;

// Who is connecting, for L4 match conditions.
struct L4Source {
  uint32_t port = 0;                  // the listener (service or server) port
  const Labels* labels = nullptr;     // the sidecar's labels; null for gateways (sourceLabels never match)
  std::vector<std::string> gateways;  // "mesh", or the gateways ("ns/name") of the router
};

// A TCP route that applies: where to send, and the destination subnets it was limited to (for a
// sidecar's filter chain match; empty: any).
struct TcpRouteTarget {
  Destinations destinations;
  std::vector<std::string> destination_subnets;
};

// The first `tcp` route of `vs` whose match (port, gateways, sourceLabels; no match: always)
// holds for `source`; nullopt when none does.
std::optional<TcpRouteTarget> tcpRouteTarget(const PushContext& push, const VirtualServiceEntry& vs, const L4Source& source);

// Each `tls` match of `vs` that holds for `source`, with its SNI names (resolved against the
// rule's namespace like hosts) and where that route sends: one filter chain each.
struct TlsRouteTarget {
  std::vector<std::string> sni_hosts;
  std::vector<std::string> destination_subnets;
  Destinations destinations;
};
std::vector<TlsRouteTarget> tlsRouteTargets(const PushContext& push, const VirtualServiceEntry& vs, const L4Source& source);

// A RouteDestination list as weighted clusters: 0-weight destinations dropped unless alone (as
// HTTP routes), destination ports defaulted as destinationCluster() does.
Destinations routeDestinations(const PushContext& push,
                               const google::protobuf::RepeatedPtrField<istio::networking::v1alpha3::RouteDestination>& route,
                               std::string_view rule_namespace, uint32_t listener_port);

// The tcp_proxy network filter for `destinations`: one cluster (stat prefix: the cluster), or
// weighted clusters (stat prefix `stat_prefix`, 1.1 used "<rule>.<namespace>"). Empty
// destinations send to BlackHoleCluster.
envoy::config::listener::v3::Filter tcpProxyFilter(const Destinations& destinations, const std::string& stat_prefix);

}  // namespace monomesh::pilot::xds
