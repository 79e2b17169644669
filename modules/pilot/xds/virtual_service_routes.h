// Istio 1.1's HTTPRoute translation (route.go): the `http` section of a VirtualService turned into
// Envoy routes for one listener port, as seen from one proxy. Shared by the sidecar route
// configurations ("9080") and the gateway ones ("http.80", "https.443...").
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envoy/config/route/v3/route_components.pb.h"
#include "pilot/model/hostname.h"
#include "pilot/push_context.h"

namespace monomesh::pilot::xds {

// Whom the routes are for.
struct RouteSource {
  const PushContext& push;
  std::string proxy_namespace;      // DestinationRule lookup for consistent-hash policies
  const Labels* labels = nullptr;   // the sidecar's labels; null for gateways (1.1 passed none there)
  std::vector<std::string> gateways;  // "mesh", or the gateway ("ns/name") being built
  uint32_t port = 0;                // the listener port
};

// The routes of `vs` for `source`, in rule order, ending after the first catch-all route. Empty
// when no match condition holds for this proxy and port: 1.1 then ignores the VirtualService here.
// Matches whose regex RE2 cannot compile are left out (logged), so one bad rule does not make the
// proxy reject the whole route configuration.
std::vector<envoy::config::route::v3::Route> buildVirtualServiceRoutes(const RouteSource& source,
                                                                      const VirtualServiceEntry& vs);

// The route of a service port without a VirtualService (1.1's BuildDefaultHTTPOutboundRoute):
// prefix "/", the cluster, timeout 0 (disabled) and 1.1's default retry policy.
envoy::config::route::v3::Route buildDefaultRoute(const std::string& cluster);

// The outbound cluster a Destination names. The host is resolved against the rule's namespace;
// the port is the explicit number, else the service's only port, else the listener port. A port
// selected by name has no cluster in 1.1: BlackHoleCluster.
std::string destinationCluster(const PushContext& push, const istio::networking::v1alpha3::Destination& destination,
                               std::string_view rule_namespace, uint32_t listener_port);

// 1.1's CombineVHostRoutes: `more` appended to `routes`, then every catch-all route moved to the
// end (keeping their order), so a later VirtualService's specific routes are still reachable.
void combineRoutes(std::vector<envoy::config::route::v3::Route>& routes,
                   const std::vector<envoy::config::route::v3::Route>& more);

// A prefix "/" route without header or query conditions.
bool isCatchAllRoute(const envoy::config::route::v3::Route& route);

// A gateway reference written in a VirtualService (or a match) as "namespace/name"; short names
// are in `rule_namespace`, "name.namespace.svc.<domain>" is the FQDN form; "mesh" is kept.


// Whether the match's `gateways` (or, when it names none, its `sourceLabels`) admit the proxy.
bool sourceMatches(const google::protobuf::RepeatedPtrField<std::string>& match_gateways,
                   const google::protobuf::Map<std::string, std::string>& source_labels, std::string_view rule_namespace,
                   const std::vector<std::string>& gateways, const Labels* labels);

}  // namespace monomesh::pilot::xds
