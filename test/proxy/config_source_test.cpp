// Config sources: ADS is followed, and files (config_source.path) for CDS and LDS; every other
// kind of source is refused naming the field;
// initial_fetch_timeout defaults; the ADS/SDS gRPC target comes from a static cluster.
#include <boost/test/unit_test.hpp>
#include <utility>
#include <vector>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "proxy/config/config_source.h"
#include "proxy_test_util.h"

using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::fromYaml;
namespace core = envoy::config::core::v3;
using envoy::config::bootstrap::v3::Bootstrap;

namespace {

const char* kXdsCluster = R"(
static_resources:
  clusters:
  - name: xds-grpc
    type: STRICT_DNS
    http2_protocol_options: {}
    load_assignment:
      cluster_name: xds-grpc
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: istio-pilot.istio-system, port_value: 15010}}}}]}]
)";

std::string dynamicError(const std::string& dynamic, bool& uses_ads) {
  auto bootstrap = fromYaml<Bootstrap>(std::string(kXdsCluster) + dynamic);
  return checkDynamicResources(bootstrap, uses_ads);
}

std::string dynamicError(const std::string& dynamic) {
  bool uses_ads = false;
  return dynamicError(dynamic, uses_ads);
}

const char* kAds = "  ads_config: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]}\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(config_source)

BOOST_AUTO_TEST_CASE(ads_is_the_only_source) {
  BOOST_TEST(adsOnlyError(fromYaml<core::ConfigSource>("ads: {}"), "f") == "");
  auto path = adsOnlyError(fromYaml<core::ConfigSource>("path: /etc/envoy/cds.yaml"), "dynamic_resources.cds_config");
  BOOST_TEST(contains(path, "dynamic_resources.cds_config.path: file config sources are not supported"), path);
  auto api = adsOnlyError(fromYaml<core::ConfigSource>("api_config_source: {api_type: REST}"), "rds.config_source");
  BOOST_TEST(contains(api, "rds.config_source.api_config_source"), api);
  BOOST_TEST(contains(api, "REST"), api);
  auto self = adsOnlyError(fromYaml<core::ConfigSource>("self: {}"), "f");
  BOOST_TEST(contains(self, "f.self"), self);
  auto none = adsOnlyError(fromYaml<core::ConfigSource>("initial_fetch_timeout: 1s"), "eds_config");
  BOOST_TEST(contains(none, "eds_config: a config source is required"), none);
  auto v2 = adsOnlyError(fromYaml<core::ConfigSource>("ads: {}\nresource_api_version: V2"), "f");
  BOOST_TEST(contains(v2, "f.resource_api_version"), v2);
}

BOOST_AUTO_TEST_CASE(initial_fetch_timeout_defaults_to_15s) {
  BOOST_TEST(initialFetchTimeout(fromYaml<core::ConfigSource>("ads: {}")).count() == 15000);
  BOOST_TEST(initialFetchTimeout(fromYaml<core::ConfigSource>("ads: {}\ninitial_fetch_timeout: 2s")).count() == 2000);
  BOOST_TEST(initialFetchTimeout(fromYaml<core::ConfigSource>("ads: {}\ninitial_fetch_timeout: 0s")).count() == 0);
}

BOOST_AUTO_TEST_CASE(dynamic_resources_with_ads) {
  bool uses_ads = false;
  std::string ok = dynamicError(std::string("dynamic_resources:\n") + kAds +
                                    "  cds_config: {ads: {}}\n  lds_config: {ads: {}, initial_fetch_timeout: 5s}\n",
                                uses_ads);
  BOOST_TEST(ok == "");
  BOOST_TEST(uses_ads);
  BOOST_TEST(dynamicError("", uses_ads) == "");
  BOOST_TEST(!uses_ads);
}

BOOST_AUTO_TEST_CASE(unsupported_dynamic_resources_name_the_field) {
  auto delta = dynamicError(
      "dynamic_resources:\n  ads_config: {api_type: DELTA_GRPC, grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]}\n");
  BOOST_TEST(contains(delta, "dynamic_resources.ads_config.api_type: incremental (delta) xDS is not supported"), delta);
  auto rest = dynamicError("dynamic_resources:\n  ads_config: {api_type: REST, cluster_names: [xds-grpc]}\n");
  BOOST_TEST(contains(rest, "dynamic_resources.ads_config.api_type: REST"), rest);
  auto google = dynamicError(
      "dynamic_resources:\n  ads_config: {api_type: GRPC, grpc_services: [{google_grpc: {target_uri: x, stat_prefix: s}}]}\n");
  BOOST_TEST(contains(google, "dynamic_resources.ads_config.grpc_services"), google);
  auto unknown = dynamicError(
      "dynamic_resources:\n  ads_config: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name: nowhere}}]}\n");
  BOOST_TEST(contains(unknown, "\"nowhere\" is not a static cluster"), unknown);
  auto no_path = dynamicError("dynamic_resources:\n  lds_config: {path_config_source: {}}\n");
  BOOST_TEST(contains(no_path, "dynamic_resources.lds_config.path: required"), no_path);
  auto no_ads = dynamicError("dynamic_resources:\n  cds_config: {ads: {}}\n");
  BOOST_TEST(contains(no_ads, "dynamic_resources.cds_config: needs dynamic_resources.ads_config"), no_ads);
  auto locator = dynamicError("dynamic_resources:\n  lds_resources_locator: xdstp://x\n");
  BOOST_TEST(contains(locator, "resource locators"), locator);
}

BOOST_AUTO_TEST_CASE(cds_and_lds_may_come_from_files_without_ads) {
  bool uses_ads = true;
  BOOST_TEST(dynamicError("dynamic_resources:\n  cds_config: {path: /etc/cds.yaml}\n  lds_config: {path_config_source: "
                          "{path: /etc/lds.yaml}}\n",
                          uses_ads) == "");
  BOOST_TEST(!uses_ads);
  BOOST_TEST(dynamicError(std::string("dynamic_resources:\n") + kAds + "  lds_config: {path: /etc/lds.yaml}\n", uses_ads) ==
             "");
  BOOST_TEST(uses_ads);
  BOOST_TEST(configSourcePath(fromYaml<core::ConfigSource>("path: /a.yaml")) == "/a.yaml");
  BOOST_TEST(configSourcePath(fromYaml<core::ConfigSource>("path_config_source: {path: /b.json}")) == "/b.json");
  BOOST_TEST(configSourcePath(fromYaml<core::ConfigSource>("ads: {}")) == "");
}

BOOST_AUTO_TEST_CASE(a_bootstrap_eds_cluster_needs_ads) {
  auto error = dynamicError("  - name: reviews\n    type: EDS\n    eds_cluster_config: {eds_config: {ads: {}}}\n");
  // (appended to the static clusters above)
  BOOST_TEST(contains(error, "static_resources.clusters[1] (reviews): an EDS cluster: needs dynamic_resources.ads_config"),
             error);
}

BOOST_AUTO_TEST_CASE(grpc_target_is_the_static_clusters_first_endpoint) {
  auto bootstrap = fromYaml<Bootstrap>(kXdsCluster);
  auto api = fromYaml<core::ApiConfigSource>("api_type: GRPC\ngrpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]");
  GrpcTarget target;
  BOOST_TEST(grpcTargetOf(api, bootstrap, "ads_config", target) == "");
  BOOST_TEST(target.cluster == "xds-grpc");
  BOOST_TEST(target.host == "istio-pilot.istio-system");
  BOOST_TEST(target.port == 15010);
  auto empty = fromYaml<core::ApiConfigSource>("api_type: GRPC\ngrpc_services: [{envoy_grpc: {}}]");
  auto err = grpcTargetOf(empty, bootstrap, "ads_config", target);
  BOOST_TEST(contains(err, "ads_config.grpc_services[0].envoy_grpc.cluster_name: required"), err);
}

BOOST_AUTO_TEST_CASE(grpc_targets_over_unix_sockets_and_google_grpc) {
  auto bootstrap = fromYaml<Bootstrap>(R"(
static_resources:
  clusters:
  - name: sds-grpc
    type: STATIC
    http2_protocol_options: {}
    load_assignment:
      cluster_name: sds-grpc
      endpoints: [{lb_endpoints: [{endpoint: {address: {pipe: {path: /var/run/sds/uds_path}}}}]}]
)");
  auto target = [&](const std::string& service, std::string* error = nullptr) {
    auto api = fromYaml<core::ApiConfigSource>("api_type: GRPC\ngrpc_services: [" + service + "]");
    GrpcTarget out;
    std::string err = grpcTargetOf(api, bootstrap, "sds_config", out);
    if (error) *error = err;
    else BOOST_TEST(err == "", err);
    return out;
  };
  auto pipe = target("{envoy_grpc: {cluster_name: sds-grpc}}");
  BOOST_TEST(pipe.unix_path == "/var/run/sds/uds_path");
  BOOST_TEST(pipe.text() == "unix:/var/run/sds/uds_path");
  // Istio 1.1's sidecar SDS config.
  auto istio = target("{google_grpc: {target_uri: 'unix:/var/run/sds/uds_path', stat_prefix: sdsstat, "
                      "channel_credentials: {local_credentials: {}}}}");
  BOOST_TEST(istio.unix_path == "/var/run/sds/uds_path");
  BOOST_TEST(istio.cluster == "");
  BOOST_TEST(target("{google_grpc: {target_uri: 'unix:///run/agent.sock', stat_prefix: s}}").unix_path ==
             "/run/agent.sock");
  BOOST_TEST(target("{google_grpc: {target_uri: 'unix:relative.sock', stat_prefix: s}}").unix_path == "relative.sock");
  auto tcp = target("{google_grpc: {target_uri: 'istio-citadel.istio-system:8060', stat_prefix: s}}");
  BOOST_TEST(tcp.host == "istio-citadel.istio-system");
  BOOST_TEST(tcp.port == 8060);
  auto dns = target("{google_grpc: {target_uri: 'dns:///[::1]:15012', stat_prefix: s}}");
  BOOST_TEST(dns.host == "::1");
  BOOST_TEST(dns.port == 15012);
  std::string error;
  for (const auto& [service, message] : std::vector<std::pair<std::string, std::string>>{
           {"{google_grpc: {stat_prefix: s}}", "sds_config.grpc_services[0].google_grpc.target_uri: required"},
           {"{google_grpc: {target_uri: 'unix:', stat_prefix: s}}", "the Unix socket path is empty"},
           {"{google_grpc: {target_uri: 'unix://host/x', stat_prefix: s}}", "names a host"},
           {"{google_grpc: {target_uri: 'unix-abstract:x', stat_prefix: s}}", "abstract Unix sockets are not supported"},
           {"{google_grpc: {target_uri: 'unix:@x', stat_prefix: s}}", "abstract Unix sockets are not supported"},
           {"{google_grpc: {target_uri: 'unix:/" + std::string(200, 'x') + "', stat_prefix: s}}", "longer than 107 bytes"},
           {"{google_grpc: {target_uri: 'pilot', stat_prefix: s}}", "needs a port"},
           {"{google_grpc: {target_uri: 'pilot:0', stat_prefix: s}}", "needs a port"},
           {"{google_grpc: {target_uri: 'pilot:99999', stat_prefix: s}}", "needs a port"},
           {"{google_grpc: {target_uri: 'xds:///pilot', stat_prefix: s}}", "is not a unix: or host:port target"},
           {"{google_grpc: {target_uri: 'unix:/x', stat_prefix: s, channel_credentials: {google_default: {}}}}",
            "google_grpc.channel_credentials: only local_credentials are supported"},
           {"{google_grpc: {target_uri: 'unix:/x', stat_prefix: s, call_credentials: [{from_plugin: {name: "
            "envoy.grpc_credentials.file_based_metadata}}]}}",
            "google_grpc.call_credentials: not supported"},
           {"{}", "sds_config.grpc_services[0]: envoy_grpc or google_grpc is required"},
       }) {
    target(service, &error);
    BOOST_TEST(contains(error, message), service << " -> " << error);
  }
}

BOOST_AUTO_TEST_SUITE_END()
