// Where the proxy's dynamic resources come from (Envoy's ConfigSource / ApiConfigSource), checked
// once: every xDS type rides one ADS stream to a gRPC cluster of the bootstrap, except that CDS
// and LDS may also come from a file (config_source.path); REST, delta and other file sources are
// refused with an error naming the field. Also the SDS stream's target.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"

namespace monomesh::proxy {

// "" when `source` is `ads: {}`; otherwise why not, naming `field` (e.g.
// "dynamic_resources.cds_config.path: file config sources are not supported; use ads: {}").
std::string adsOnlyError(const envoy::config::core::v3::ConfigSource& source, const std::string& field);

// The file `source` names (path, or path_config_source.path); "" when it is not a file source.
std::string configSourcePath(const envoy::config::core::v3::ConfigSource& source);

// Envoy's initial_fetch_timeout: 15 s unless set; 0 means wait for ever (returned as 0).
std::chrono::milliseconds initialFetchTimeout(const envoy::config::core::v3::ConfigSource& source);

// The gRPC server an ApiConfigSource names: through envoy_grpc, a static cluster of the bootstrap
// and the first endpoint of its load_assignment (a socket address, or a pipe: a Unix socket);
// through google_grpc, its target_uri ("unix:/path" or "unix:///path" as Istio 1.1's SDS
// agent was reached, else "host:port" or "dns:///host:port").
struct GrpcTarget {
  std::string cluster;  // empty for google_grpc
  std::string host;
  uint16_t port = 0;
  std::string unix_path;  // set for a Unix socket (then host and port are unused)
  std::string text() const { return unix_path.empty() ? host + ":" + std::to_string(port) : "unix:" + unix_path; }
};
// "" on success; an error naming `field` otherwise (not gRPC, not exactly one gRPC service, no
// such static cluster, a cluster without endpoints, a target_uri that names no server).
std::string grpcTargetOf(const envoy::config::core::v3::ApiConfigSource& api,
                         const envoy::config::bootstrap::v3::Bootstrap& bootstrap, const std::string& field,
                         GrpcTarget& out);

// Checks bootstrap.dynamic_resources and the ADS references of the static resources (EDS
// clusters, HCMs with rds): "" when the proxy can follow them. `uses_ads` tells whether anything
// comes from ADS at all.
std::string checkDynamicResources(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, bool& uses_ads);

}  // namespace monomesh::proxy
