// xDS vocabulary shared by the ADS server (Pilot, Galley's distribution) and the xDS clients (the
// proxy's ADS and SDS): Envoy's type URLs, the ADS method path, and a versioned resource set.
#pragma once

#include <google/protobuf/any.pb.h>

#include <string>
#include <string_view>
#include <vector>

namespace monomesh::net::xds {

inline constexpr std::string_view kAdsMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

inline constexpr std::string_view kDeltaAdsMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

inline constexpr std::string_view kSdsMethod = "/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets";

namespace type_url {
inline constexpr std::string_view kCluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kEndpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr std::string_view kListener = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRoute = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kSecret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
}  // namespace type_url

// CDS and LDS subscriptions with no names mean "everything" (wildcard); EDS, RDS and SDS name
// what they want.
bool isWildcardType(std::string_view type_url);

// One type's resources as the server has them for one proxy, with the version they make up.
struct Resources {
  std::string version;
  std::vector<google::protobuf::Any> resources;
  // Each resource's name, in the same order, when the source knows them (incremental xDS needs
  // them; if absent they are read from the resources themselves).
  std::vector<std::string> names;
};

// A resource's name: Cluster/Listener/RouteConfiguration/Secret `name`, ClusterLoadAssignment
// `cluster_name`; "" when the type is unknown or the bytes do not parse.
std::string resourceName(const google::protobuf::Any& resource);

}  // namespace monomesh::net::xds
