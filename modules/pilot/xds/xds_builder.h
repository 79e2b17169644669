// The xDS builders' shared input and entry points: one push, one proxy. Each xDS type has its own
// builder file (cluster_builder, endpoint_builder, listener_builder, gateway_listener_builder,
// route_builder); the discovery server calls these and never builds resources itself.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "pilot/push_context.h"

namespace monomesh::pilot::xds {

// One inbound port of a sidecar: where its listener takes traffic, and the local endpoint its
// inbound cluster sends it to (the workload's own port, or a Sidecar ingress defaultEndpoint).
struct InboundPort {
  std::string cluster;     // "inbound|9080|http|reviews.default.svc.cluster.local"
  std::string listen_ip;   // the listener's address
  uint32_t listen_port = 0;
  bool bind = false;       // bind_to_port (capture mode NONE), else reached through 15001
  std::string endpoint_ip = "127.0.0.1";
  uint32_t endpoint_port = 0;
  Protocol protocol = Protocol::TCP;
};

// What the builders need to know about one proxy in one push, worked out once.
struct ProxyView {
  const PushContext& push;
  const ProxyNode& proxy;
  Labels labels;                // the workload's labels
  SidecarScope scope;           // sidecars: the services it sees
  std::vector<std::pair<const Service*, const Endpoint*>> instances;  // its inbound service ports
  std::vector<InboundPort> inbound;  // sidecars: from the Sidecar's ingress listeners, else the instances

  ProxyView(const PushContext& push, const ProxyNode& proxy);
  // With the scope already worked out for another proxy of the same outboundKey.
  ProxyView(const PushContext& push, const ProxyNode& proxy, Labels labels, SidecarScope scope);
  bool isRouter() const { return proxy.type == NodeType::Router; }

 private:
  void findInstances();
};

// What a proxy's outbound configuration depends on, as a cache key within one push: router or
// sidecar, namespace, and the Sidecar resource that applies (PushContext::sidecarFor; the scope's
// own for a view). Proxies with equal keys see the same services and DestinationRules.
std::string outboundKey(const ProxyNode& proxy, const config::ResourcePtr& sidecar);

// Cache keys within one push for the builders below: two proxies whose keys are equal get the
// same resource. Each names every input of its builder that differs between proxies.
std::string loadAssignmentKey(const ProxyView& view, std::string_view cluster_name);
std::string routeConfigurationKey(const ProxyView& view, std::string_view name);  // "": do not cache

// CDS: outbound clusters for every visible service port and subset, inbound clusters for the
// workload's ports (sidecars), BlackHoleCluster and PassthroughCluster.
std::vector<envoy::config::cluster::v3::Cluster> buildClusters(const ProxyView& view);
// Its two parts: the outbound clusters, which depend only on outboundKey(view), and the proxy's
// own (inbound, BlackHoleCluster, PassthroughCluster).
std::vector<envoy::config::cluster::v3::Cluster> buildOutboundClusters(const ProxyView& view);
std::vector<envoy::config::cluster::v3::Cluster> buildLocalClusters(const ProxyView& view);
// One service's outbound clusters under the DestinationRule that applies to the proxy (its
// subsets and traffic policy): the same for every proxy that sees the service under that rule.
std::vector<envoy::config::cluster::v3::Cluster> buildServiceClusters(const ProxyView& view, const Service& service,
                                                                      const DestinationRuleEntry* rule);

// EDS: the assignment of one cluster (by name), as seen from `view`'s proxy; nullopt when the
// name is not an EDS cluster Pilot knows.
// Locality load balancing is on (mesh config localityLbSetting, or PILOT_ENABLE_LOCALITY_LOAD_BALANCING).
bool localityLbEnabled(const PushContext& push);
std::optional<envoy::config::endpoint::v3::ClusterLoadAssignment> buildLoadAssignment(const ProxyView& view,
                                                                                      std::string_view cluster_name);

// LDS: sidecar listeners (virtual 15001, outbound per service port, inbound per workload port),
// or, for routers, one listener per Gateway server port.
std::vector<envoy::config::listener::v3::Listener> buildListeners(const ProxyView& view);
std::vector<envoy::config::listener::v3::Listener> buildSidecarListeners(const ProxyView& view);
std::vector<envoy::config::listener::v3::Listener> buildGatewayListeners(const ProxyView& view);

// RDS: the route configuration of that name ("9080" for sidecars, "http.80" for gateways).
std::optional<envoy::config::route::v3::RouteConfiguration> buildRouteConfiguration(const ProxyView& view,
                                                                                   std::string_view name);

}  // namespace monomesh::pilot::xds
