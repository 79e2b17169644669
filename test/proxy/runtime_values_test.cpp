#include <boost/test/unit_test.hpp>

#include "config/yaml_proto_reader.h"
#include "proxy/config/runtime_values.h"
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
