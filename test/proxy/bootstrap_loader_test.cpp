// loadBootstrap: an Envoy v3 bootstrap from --config-path and/or --config-yaml, read strictly
// with file:line:column and field paths in every error.
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "proxy/config/bootstrap_loader.h"
#include "proxy_test_util.h"

namespace fs = std::filesystem;
using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::joinErrors;
using Bootstrap = envoy::config::bootstrap::v3::Bootstrap;

namespace {

using monomesh::testing::TempDir;


const char* kBootstrap = R"(node:
  id: sidecar~10.0.0.1~pod.default~default.svc.cluster.local
  cluster: productpage
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 15000}}
static_resources:
  clusters:
  - name: backend
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
  listeners:
  - name: ingress
    address: {socket_address: {address: 0.0.0.0, port_value: 10000}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: ingress_tcp
          cluster: backend
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(bootstrap_loader)

BOOST_AUTO_TEST_CASE(valid_yaml_bootstrap) {
  TempDir dir;
  std::string path = dir.write("envoy.yaml", kBootstrap);
  Bootstrap b;
  auto errors = loadBootstrap(path, "", b);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(b.node().id() == "sidecar~10.0.0.1~pod.default~default.svc.cluster.local");
  BOOST_TEST(b.admin().address().socket_address().port_value() == 15000u);
  BOOST_TEST_REQUIRE(b.static_resources().clusters_size() == 1);
  BOOST_TEST(b.static_resources().clusters(0).name() == "backend");
  BOOST_TEST(b.static_resources().clusters(0).connect_timeout().seconds() == 1);
  BOOST_TEST_REQUIRE(b.static_resources().listeners_size() == 1);
  BOOST_TEST(b.static_resources().listeners(0).filter_chains(0).filters(0).typed_config().type_url() ==
             "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
}

// The way every Envoy v3 example writes the router and listener filters: by the "@type" of
// their (empty) config. The reader looks types up in the generated descriptor pool, so each
// type must be linked into the binary; this test binary links the proxy module only, like the
// monomesh executable.
BOOST_AUTO_TEST_CASE(canonical_typed_configs_of_builtin_filters_are_known) {
  const char* types[] = {
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
      "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
      "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
      "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
      "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors",
      "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
      "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
  };
  for (const char* type : types) {
    BOOST_TEST_CONTEXT("@type " << type) {
      Bootstrap b;
      auto errors = loadBootstrap("", std::string("static_resources:\n  listeners:\n  - listener_filters:\n"
                                                  "    - name: f\n      typed_config: {\"@type\": ") + type + "}\n",
                                  b);
      BOOST_TEST(errors.empty(), joinErrors(errors));
    }
  }
}

BOOST_AUTO_TEST_CASE(json_bootstrap) {
  TempDir dir;
  std::string path = dir.write("envoy.json", R"({"staticResources": {"clusters": [{"name": "c", "connectTimeout": "0.5s"}]}})");
  Bootstrap b;
  auto errors = loadBootstrap(path, "", b);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(b.static_resources().clusters(0).connect_timeout().nanos() == 500000000);
}

BOOST_AUTO_TEST_CASE(unknown_field_reports_position_and_path) {
  TempDir dir;
  std::string path = dir.write("typo.yaml",
                               "static_resources:\n"
                               "  clusters:\n"
                               "  - name: backend\n"
                               "    conect_timeout: 1s\n");
  Bootstrap b;
  auto errors = loadBootstrap(path, "", b);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  const auto& e = errors[0];
  BOOST_TEST(e.position.file == path);
  BOOST_TEST(e.position.line == 4);
  BOOST_TEST(e.position.column == 5);
  BOOST_TEST(e.path == "static_resources.clusters[0].conect_timeout");
  BOOST_TEST(contains(e.message, "unknown field"), e.message);
  BOOST_TEST(contains(e.str(), path + ":4:5"), e.str());
}

BOOST_AUTO_TEST_CASE(mistyped_value_reports_path) {
  TempDir dir;
  std::string path = dir.write("bad.yaml",
                               "static_resources:\n"
                               "  clusters:\n"
                               "  - name: backend\n"
                               "    connect_timeout: soon\n"
                               "    type: STATICALLY\n");
  Bootstrap b;
  auto errors = loadBootstrap(path, "", b);
  BOOST_TEST_REQUIRE(errors.size() == 2u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "static_resources.clusters[0].connect_timeout");
  BOOST_TEST(errors[0].position.line == 4);
  BOOST_TEST(errors[1].path == "static_resources.clusters[0].type");
  BOOST_TEST(errors[1].position.line == 5);
}

BOOST_AUTO_TEST_CASE(invalid_yaml) {
  TempDir dir;
  std::string path = dir.write("broken.yaml",
                               "static_resources:\n"
                               "  clusters: [\n"
                               "    {name: a\n");
  Bootstrap b;
  auto errors = loadBootstrap(path, "", b);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].position.file == path);
  BOOST_TEST(errors[0].position.line >= 1);
  BOOST_TEST(contains(errors[0].message, "invalid YAML"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(bootstrap_must_be_a_mapping) {
  TempDir dir;
  std::string path = dir.write("list.yaml", "- a\n- b\n");
  Bootstrap b;
  auto errors = loadBootstrap(path, "", b);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(contains(errors[0].message, "mapping"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(config_yaml_overlay_merges) {
  TempDir dir;
  std::string path = dir.write("envoy.yaml", kBootstrap);
  Bootstrap b;
  auto errors = loadBootstrap(path,
                              "admin: {address: {socket_address: {port_value: 15999}}}\n"
                              "static_resources:\n"
                              "  clusters:\n"
                              "  - {name: extra, connect_timeout: 2s}\n",
                              b);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST_REQUIRE(b.static_resources().clusters_size() == 2);  // repeated fields append
  BOOST_TEST(b.static_resources().clusters(0).name() == "backend");
  BOOST_TEST(b.static_resources().clusters(1).name() == "extra");
  BOOST_TEST(b.static_resources().listeners_size() == 1);            // untouched parts stay
  BOOST_TEST(b.admin().address().socket_address().port_value() == 15999u);  // scalars are replaced
  BOOST_TEST(b.admin().address().socket_address().address() == "127.0.0.1");
  BOOST_TEST(b.node().cluster() == "productpage");
}

BOOST_AUTO_TEST_CASE(config_yaml_alone) {
  Bootstrap b;
  b.mutable_node()->set_id("stale");  // the output is cleared first
  auto errors = loadBootstrap("", "static_resources: {clusters: [{name: only}]}", b);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(b.static_resources().clusters(0).name() == "only");
  BOOST_TEST(b.node().id().empty());
}

BOOST_AUTO_TEST_CASE(config_yaml_errors_name_the_flag) {
  TempDir dir;
  std::string path = dir.write("envoy.yaml", kBootstrap);
  Bootstrap b;
  auto errors = loadBootstrap(path, "static_resources: {clusterz: []}", b);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].position.file == "--config-yaml");
  BOOST_TEST(errors[0].path == "static_resources.clusterz");
}

BOOST_AUTO_TEST_CASE(missing_file) {
  TempDir dir;
  std::string path = dir.path + "/does-not-exist.yaml";
  Bootstrap b;
  auto errors = loadBootstrap(path, "", b);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].position.file == path);
  BOOST_TEST(contains(errors[0].message, "cannot read"), errors[0].message);
  BOOST_TEST(contains(errors[0].str(), path), errors[0].str());
}

BOOST_AUTO_TEST_SUITE_END()
