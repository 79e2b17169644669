// mesh_config: Istio 1.1's MeshConfig defaults, overlaid with YAML.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "config/mesh_config.h"
#include "config_test_util.h"

namespace fs = std::filesystem;
namespace mesh = istio::mesh::v1alpha1;
using namespace monomesh::config;
using monomesh::config::testing::contains;
using monomesh::config::testing::joinErrors;

namespace {

std::vector<std::string> list(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mesh_config)

BOOST_AUTO_TEST_CASE(defaults_match_istio_1_1) {
  mesh::MeshConfig m = defaultMeshConfig();
  BOOST_TEST(m.proxy_listen_port() == 15001);
  BOOST_TEST((m.outbound_traffic_policy().mode() == mesh::MeshConfig::OutboundTrafficPolicy::ALLOW_ANY));
  BOOST_TEST(m.root_namespace() == "istio-system");
  BOOST_TEST(m.connect_timeout().seconds() == 1);
  BOOST_TEST(m.connect_timeout().nanos() == 0);
  BOOST_TEST(m.ingress_class() == "istio");
  BOOST_TEST((m.ingress_controller_mode() == mesh::MeshConfig::STRICT));
  BOOST_TEST(list(m.default_service_export_to()) == (std::vector<std::string>{"*"}), boost::test_tools::per_element());
  BOOST_TEST(m.dns_refresh_rate().seconds() == 5);
}

BOOST_AUTO_TEST_CASE(default_proxy_config) {
  mesh::MeshConfig m = defaultMeshConfig();
  const mesh::ProxyConfig& p = m.default_config();
  BOOST_TEST(p.proxy_admin_port() == 15000);
  BOOST_TEST(p.drain_duration().seconds() == 45);
  BOOST_TEST(p.parent_shutdown_duration().seconds() == 60);
  BOOST_TEST(p.connect_timeout().seconds() == 1);
  BOOST_TEST(p.discovery_address() == "istio-pilot:15010");
  BOOST_TEST(defaultProxyConfig().SerializeAsString() == p.SerializeAsString());
}

BOOST_AUTO_TEST_CASE(empty_text_gives_the_defaults) {
  mesh::MeshConfig m;
  auto errors = readMeshConfig("", "mesh.yaml", m);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(m.SerializeAsString() == defaultMeshConfig().SerializeAsString());
}

BOOST_AUTO_TEST_CASE(overlay_replaces_scalars_and_keeps_other_defaults) {
  mesh::MeshConfig m;
  auto errors = readMeshConfig(
      "rootNamespace: istio-config\n"
      "outboundTrafficPolicy:\n"
      "  mode: REGISTRY_ONLY\n"
      "connectTimeout: 250ms\n",
      "mesh.yaml", m);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(m.root_namespace() == "istio-config");
  BOOST_TEST((m.outbound_traffic_policy().mode() == mesh::MeshConfig::OutboundTrafficPolicy::REGISTRY_ONLY));
  BOOST_TEST(m.connect_timeout().seconds() == 0);
  BOOST_TEST(m.connect_timeout().nanos() == 250000000);
  BOOST_TEST(m.proxy_listen_port() == 15001);
  BOOST_TEST(m.default_config().drain_duration().seconds() == 45);
}

BOOST_AUTO_TEST_CASE(overlay_replaces_lists) {
  mesh::MeshConfig m;
  auto errors = readMeshConfig("defaultServiceExportTo: [\".\"]\n", "mesh.yaml", m);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(list(m.default_service_export_to()) == (std::vector<std::string>{"."}), boost::test_tools::per_element());
  BOOST_TEST(list(m.default_virtual_service_export_to()) == (std::vector<std::string>{"*"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(overlay_merges_into_default_proxy_config) {
  mesh::MeshConfig m;
  auto errors = readMeshConfig("defaultConfig:\n  proxyAdminPort: 15999\n  concurrency: 2\n", "mesh.yaml", m);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(m.default_config().proxy_admin_port() == 15999);
  BOOST_TEST(m.default_config().concurrency() == 2);
  BOOST_TEST(m.default_config().drain_duration().seconds() == 45);
  BOOST_TEST(m.default_config().discovery_address() == "istio-pilot:15010");
}

BOOST_AUTO_TEST_CASE(overlay_errors_carry_line_and_column) {
  mesh::MeshConfig m;
  auto errors = readMeshConfig(
      "rootNamespace: istio-config\n"
      "defaultConfig:\n"
      "  drainDuration: forever\n"
      "proxyListenPort: 99999999999\n"
      "unknownSetting: 1\n",
      "mesh.yaml", m);
  BOOST_TEST_REQUIRE(errors.size() == 3u, joinErrors(errors));
  BOOST_TEST(errors[0].str() ==
             "mesh.yaml:3:18: defaultConfig.drainDuration: \"forever\" is not a duration (use a number with a unit: 5s, "
             "100ms, 1m, 1h)");
  BOOST_TEST(errors[1].path == "proxyListenPort");
  BOOST_TEST(errors[1].position.line == 4);
  BOOST_TEST(errors[1].position.column == 18);
  BOOST_TEST(contains(errors[1].message, "out of range"), errors[1].message);
  BOOST_TEST(errors[2].path == "unknownSetting");
  BOOST_TEST(errors[2].position.line == 5);
  BOOST_TEST(errors[2].position.column == 1);
}

BOOST_AUTO_TEST_CASE(invalid_yaml_is_an_error_with_a_line) {
  mesh::MeshConfig m;
  auto errors = readMeshConfig("rootNamespace: istio-config\ndefaultServiceExportTo: [\".\"\n", "mesh.yaml", m);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(contains(errors[0].message, "invalid YAML"), errors[0].message);
  BOOST_TEST(errors[0].position.file == "mesh.yaml");
  BOOST_TEST(errors[0].position.line >= 2);
}

BOOST_AUTO_TEST_CASE(missing_file_is_an_error_naming_it) {
  mesh::MeshConfig m;
  auto errors = readMeshConfigFile("/nonexistent/monomesh/mesh.yaml", m);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].position.file == "/nonexistent/monomesh/mesh.yaml");
}

BOOST_AUTO_TEST_CASE(mesh_networks_are_read) {
  mesh::MeshNetworks networks;
  auto errors = readMeshNetworks(
      "networks:\n"
      "  network1:\n"
      "    endpoints:\n"
      "    - fromRegistry: Kubernetes\n"
      "    gateways:\n"
      "    - address: 192.168.100.1\n"
      "      port: 443\n",
      "networks.yaml", networks);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  const auto& n = networks.networks().at("network1");
  BOOST_TEST(n.endpoints(0).from_registry() == "Kubernetes");
  BOOST_TEST(n.gateways(0).address() == "192.168.100.1");
  BOOST_TEST(n.gateways(0).port() == 443u);
}

BOOST_AUTO_TEST_CASE(mesh_networks_error_path) {
  mesh::MeshNetworks networks;
  auto errors = readMeshNetworks("networks:\n  network1:\n    gateways:\n    - {address: 1.2.3.4, registryServiceName: x}\n",
                                 "networks.yaml", networks);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "networks[\"network1\"].gateways[0].registryServiceName");
  BOOST_TEST(contains(errors[0].message, "cannot both be set"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(every_sample_mesh_file_reads_without_error) {
  const fs::path samples = fs::path(MONOMESH_SOURCE_DIR) / ".." / "shared" / "istio-samples";
  if (!fs::is_directory(samples)) {
    BOOST_TEST_MESSAGE("skipped: no sample folder at " << samples.string());
    BOOST_WARN_MESSAGE(false, "skipped: no sample folder at " << samples.string());
    return;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(samples)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() > 10 && name.ends_with("-mesh.yaml")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  BOOST_TEST(files.size() >= 4u);
  for (const auto& file : files) {
    BOOST_TEST_CONTEXT(file.string()) {
      mesh::MeshConfig m;
      auto errors = readMeshConfigFile(file.string(), m);
      BOOST_TEST(errors.empty(), joinErrors(errors));
      BOOST_TEST(!m.root_namespace().empty());
      BOOST_TEST(m.proxy_listen_port() == 15001);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
