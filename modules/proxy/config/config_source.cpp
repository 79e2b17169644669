#include "proxy/config/config_source.h"

#include "proxy/config/proto_values.h"

namespace monomesh::proxy {

namespace core = envoy::config::core::v3;

std::string adsOnlyError(const core::ConfigSource& source, const std::string& field) {
  const std::string use = "; use ads: {} with dynamic_resources.ads_config";
  switch (source.config_source_specifier_case()) {
    case core::ConfigSource::kAds: break;
    case core::ConfigSource::kPath:
    case core::ConfigSource::kPathConfigSource:
      return field + ".path: file config sources are not supported" + use;
    case core::ConfigSource::kApiConfigSource:
      return field + ".api_config_source: only the aggregated stream is supported (a " +
             core::ApiConfigSource::ApiType_Name(source.api_config_source().api_type()) + " source of its own is not)" + use;
    case core::ConfigSource::kSelf:
      return field + ".self: not supported" + use;
    default:
      return field + ": a config source is required" + use;
  }
  if (source.resource_api_version() == core::V2)
    return field + ".resource_api_version: V2 resources are not supported (V3 or AUTO)";
  return {};
}

std::string configSourcePath(const core::ConfigSource& source) {
  if (source.has_path_config_source()) return source.path_config_source().path();
  return source.config_source_specifier_case() == core::ConfigSource::kPath ? source.path() : std::string();
}

std::chrono::milliseconds initialFetchTimeout(const core::ConfigSource& source) {
  if (!source.has_initial_fetch_timeout()) return std::chrono::seconds(15);
  return toMillis(source.initial_fetch_timeout());
}

std::string grpcTargetOf(const core::ApiConfigSource& api, const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                         const std::string& field, GrpcTarget& out) {
  switch (api.api_type()) {
    case core::ApiConfigSource::GRPC:
    case core::ApiConfigSource::AGGREGATED_GRPC: break;
    case core::ApiConfigSource::DELTA_GRPC:
    case core::ApiConfigSource::AGGREGATED_DELTA_GRPC:
      return field + ".api_type: incremental (delta) xDS is not supported; use GRPC";
    case core::ApiConfigSource::REST:
      return field + ".api_type: REST is not supported; use GRPC";
    default:
      return field + ".api_type: must be GRPC";
  }
  if (api.transport_api_version() == core::V2)
    return field + ".transport_api_version: the V2 transport is not supported (V3 or AUTO)";
  if (api.grpc_services_size() != 1 || !api.grpc_services(0).has_envoy_grpc())
    return field + ".grpc_services: exactly one envoy_grpc service is supported (google_grpc is not)";
  const std::string& name = api.grpc_services(0).envoy_grpc().cluster_name();
  if (name.empty()) return field + ".grpc_services[0].envoy_grpc.cluster_name: required";
  for (const auto& c : bootstrap.static_resources().clusters()) {
    if (c.name() != name) continue;
    for (const auto& locality : c.load_assignment().endpoints())
      for (const auto& lb : locality.lb_endpoints()) {
        const auto& sa = lb.endpoint().address().socket_address();
        out.cluster = name;
        out.host = sa.address();
        out.port = static_cast<uint16_t>(sa.port_value());
        return {};
      }
    return field + ".grpc_services[0].envoy_grpc.cluster_name: cluster \"" + name + "\" has no endpoint";
  }
  return field + ".grpc_services[0].envoy_grpc.cluster_name: \"" + name + "\" is not a static cluster";
}

std::string checkDynamicResources(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, bool& uses_ads) {
  uses_ads = false;
  const auto& d = bootstrap.dynamic_resources();
  if (!d.lds_resources_locator().empty() || !d.cds_resources_locator().empty())
    return "dynamic_resources: xDS-TP resource locators are not supported; use lds_config/cds_config";
  if (d.has_ads_config()) {
    GrpcTarget target;
    if (auto err = grpcTargetOf(d.ads_config(), bootstrap, "dynamic_resources.ads_config", target); !err.empty()) return err;
    uses_ads = true;
  }
  const std::string no_ads = ": needs dynamic_resources.ads_config (the ADS stream it names)";
  // CDS and LDS: ADS, or a file holding a DiscoveryResponse.
  auto check = [&](const core::ConfigSource& source, const std::string& field) -> std::string {
    bool file = source.has_path_config_source() || source.config_source_specifier_case() == core::ConfigSource::kPath;
    if (file) return configSourcePath(source).empty() ? field + ".path: required" : std::string();
    if (auto err = adsOnlyError(source, field); !err.empty()) return err;
    return uses_ads ? std::string() : field + no_ads;
  };
  if (d.has_cds_config())
    if (auto err = check(d.cds_config(), "dynamic_resources.cds_config"); !err.empty()) return err;
  if (d.has_lds_config())
    if (auto err = check(d.lds_config(), "dynamic_resources.lds_config"); !err.empty()) return err;
  const auto& clusters = bootstrap.static_resources().clusters();
  for (int i = 0; i < clusters.size(); ++i) {
    if (clusters[i].type() != envoy::config::cluster::v3::Cluster::EDS || uses_ads) continue;
    return "static_resources.clusters[" + std::to_string(i) + "] (" + clusters[i].name() + "): an EDS cluster" + no_ads;
  }
  return {};
}

}  // namespace monomesh::proxy
