#include "proxy/config/config_source.h"

#include <charconv>

#include "net/grpc/grpc_client.h"
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

namespace {

std::string unixPath(std::string_view path, const std::string& where, GrpcTarget& out) {
  if (path.empty()) return where + ": the Unix socket path is empty";
  if (path.size() > net::grpc::kMaxUnixPath)
    return where + ": the Unix socket path is longer than " + std::to_string(net::grpc::kMaxUnixPath) + " bytes";
  if (path.front() == '@') return where + ": abstract Unix sockets are not supported";
  out.unix_path = std::string(path);
  return {};
}

// gRPC's name syntax as far as a proxy's xDS/SDS peer needs it.
std::string googleGrpcTarget(const core::GrpcService::GoogleGrpc& g, const std::string& field, GrpcTarget& out) {
  // Plaintext only, as to Istio 1.1's node agent (local_credentials); TLS goes through envoy_grpc.
  if (g.channel_credentials().has_ssl_credentials() || g.channel_credentials().has_google_default())
    return field + ".channel_credentials: only local_credentials are supported (for TLS use envoy_grpc and a cluster "
                   "with a transport_socket)";
  if (g.call_credentials_size() > 0) return field + ".call_credentials: not supported";
  std::string_view uri = g.target_uri();
  std::string where = field + ".target_uri";
  if (uri.empty()) return where + ": required";
  if (uri.starts_with("unix-abstract:")) return where + ": abstract Unix sockets are not supported";
  if (uri.starts_with("unix:")) {
    std::string_view path = uri.substr(5);
    if (path.starts_with("//")) {
      // unix:///absolute/path (an authority is not allowed)
      path.remove_prefix(2);
      if (!path.starts_with("/")) return where + ": \"" + std::string(uri) + "\" names a host; use unix:/path";
    }
    return unixPath(path, where, out);
  }
  if (uri.starts_with("dns:///")) uri.remove_prefix(7);
  else if (uri.find("://") != std::string_view::npos || uri.starts_with("dns:"))
    return where + ": \"" + std::string(uri) + "\" is not a unix: or host:port target";
  auto colon = uri.rfind(':');
  uint32_t port = 0;
  auto digits = colon == std::string_view::npos ? std::string_view() : uri.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (colon == std::string_view::npos || colon == 0 || digits.empty() || ec != std::errc() ||
      end != digits.data() + digits.size() || port == 0 || port > 65535)
    return where + ": \"" + std::string(g.target_uri()) + "\" needs a port (host:port)";
  std::string_view host = uri.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(port);
  return {};
}

}  // namespace

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
  if (api.grpc_services_size() != 1) return field + ".grpc_services: exactly one gRPC service is supported";
  if (api.grpc_services(0).has_google_grpc())
    return googleGrpcTarget(api.grpc_services(0).google_grpc(), field + ".grpc_services[0].google_grpc", out);
  if (!api.grpc_services(0).has_envoy_grpc()) return field + ".grpc_services[0]: envoy_grpc or google_grpc is required";
  const std::string& name = api.grpc_services(0).envoy_grpc().cluster_name();
  if (name.empty()) return field + ".grpc_services[0].envoy_grpc.cluster_name: required";
  for (const auto& c : bootstrap.static_resources().clusters()) {
    if (c.name() != name) continue;
    for (const auto& locality : c.load_assignment().endpoints())
      for (const auto& lb : locality.lb_endpoints()) {
        const auto& address = lb.endpoint().address();
        out.cluster = name;
        if (address.has_pipe()) {
          std::string where = field + ".grpc_services[0].envoy_grpc: cluster \"" + name + "\" endpoint pipe.path";
          return unixPath(address.pipe().path(), where, out);
        }
        out.host = address.socket_address().address();
        out.port = static_cast<uint16_t>(address.socket_address().port_value());
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
