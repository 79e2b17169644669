#include <boost/test/unit_test.hpp>

#include "config/yaml_proto_reader.h"
#include "proxy/config/runtime_values.h"
#include "proxy/http/route_table.h"
#include "temp_dir.h"

using monomesh::proxy::loadRuntime;
using monomesh::testing::TempDir;

namespace {

envoy::config::bootstrap::v3::LayeredRuntime layers(const std::string& yaml) {
  envoy::config::bootstrap::v3::LayeredRuntime out;
  monomesh::config::YamlProtoReader reader("runtime.yaml");
  BOOST_REQUIRE(reader.read(YAML::Load(yaml), out, ""));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(runtime_values)

BOOST_AUTO_TEST_CASE(static_layer_nests_into_dotted_keys) {
  auto v = loadRuntime(layers(R"(layers:
- name: static
  static_layer: {fault: {http: {abort: {abort_percent: 100}}}, plain: "x", flag: true})"),
                       {});
  BOOST_TEST(v->integer("fault.http.abort.abort_percent").value_or(0) == 100u);
  BOOST_TEST(v->values.at("plain") == "x");
  BOOST_TEST(v->values.at("flag") == "true");
  BOOST_TEST(!v->integer("plain").has_value());
  BOOST_TEST(!v->integer("missing").has_value());
}

BOOST_AUTO_TEST_CASE(disk_layer_reads_files_as_keys_and_later_layers_win) {
  TempDir dir;
  dir.write("current/fault/http/abort/abort_percent", "50\n");
  dir.write("current/other/key", "disk");
  auto v = loadRuntime(layers("layers:\n"
                              "- {name: static, static_layer: {other: {key: static}, only: static}}\n"
                              "- {name: disk, disk_layer: {symlink_root: " + dir.path + ", subdirectory: current}}\n"
                              "- {name: admin, admin_layer: {}}\n"),
                       {{"only", "admin"}});
  BOOST_TEST(v->integer("fault.http.abort.abort_percent").value_or(0) == 50u);
  BOOST_TEST(v->values.at("other.key") == "disk");
  BOOST_TEST(v->values.at("only") == "admin");
}

BOOST_AUTO_TEST_CASE(a_missing_disk_layer_is_tolerated) {
  auto v = loadRuntime(layers("layers:\n- {name: disk, disk_layer: {symlink_root: /nonexistent/runtime, subdirectory: current}}\n"), {});
  BOOST_TEST(v->values.empty());
}

BOOST_AUTO_TEST_CASE(admin_values_need_an_admin_layer) {
  auto v = loadRuntime(layers("layers:\n- {name: static, static_layer: {a: 1}}\n"), {{"a", "2"}});
  BOOST_TEST(v->values.at("a") == "1");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(runtime_route_fraction)

BOOST_AUTO_TEST_CASE(runtime_key_overrides_the_default_fraction) {
  envoy::config::route::v3::RouteConfiguration rc;
  monomesh::config::YamlProtoReader reader("routes.yaml");
  BOOST_REQUIRE(reader.read(YAML::Load(R"(virtual_hosts:
- name: all
  domains: ["*"]
  routes:
  - match:
      prefix: /
      runtime_fraction: {default_value: {numerator: 0, denominator: HUNDRED}, runtime_key: routing.canary}
    route: {cluster: canary}
  - match: {prefix: /}
    route: {cluster: stable})"),
                            rc, ""));
  auto table = monomesh::proxy::RouteTable::compile(rc);
  const auto* vh = table->findVirtualHost("any");
  BOOST_REQUIRE(vh != nullptr);
  monomesh::proxy::Fields fields;
  BOOST_TEST(table->findRoute(*vh, "GET", "/", fields, 12345)->cluster == "stable");
  monomesh::proxy::RuntimeValues on;
  on.values["routing.canary"] = "100";
  BOOST_TEST(table->findRoute(*vh, "GET", "/", fields, 12345, &on)->cluster == "canary");
  monomesh::proxy::RuntimeValues other;
  other.values["something.else"] = "100";
  BOOST_TEST(table->findRoute(*vh, "GET", "/", fields, 12345, &other)->cluster == "stable");
}

BOOST_AUTO_TEST_SUITE_END()
