// Helpers for the xDS builder tests: a config store filled from YAML, a PushContext over it,
// proxies parsed from Istio node IDs, golden files, and the check that our own proxy compiles
// what Pilot generates (RouteTable / ListenerConfig, as when it arrives over xDS).
#pragma once
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "config/loader.h"
#include "config/mesh_config.h"
#include "config/store.h"
#include "observe/stats_store.h"
#include "pilot/push_context.h"
#include "pilot/xds/xds_builder.h"
#include "proxy/http/http_filters.h"
#include "proxy/http/route_table.h"
#include "proxy/listener/listener_config.h"
#include "temp_dir.h"

namespace monomesh::pilot::testing {

namespace fs = std::filesystem;

inline const fs::path kSamples = fs::path(MONOMESH_SOURCE_DIR) / ".." / "shared" / "istio-samples";

// True (with a visible message) when the Istio sample corpus is absent.
inline bool skipWithoutSamples() {
  if (fs::is_directory(kSamples)) return false;
  BOOST_TEST_MESSAGE("skipped: no sample corpus at " << kSamples.string());
  BOOST_WARN_MESSAGE(false, "skipped: no sample corpus at " << kSamples.string());
  return true;
}

class TestMesh {
 public:
  TestMesh() : mesh_(config::defaultMeshConfig()) {}

  void add(const std::string& yaml, const std::string& file = "test.yaml") {
    applyResult(config::loadYaml(yaml, file), file);
  }
  void addSample(const std::string& name) {
    auto path = (kSamples / name).string();
    applyResult(config::loadFile(path), path);
  }
  istio::mesh::v1alpha1::MeshConfig& mesh() { return mesh_; }

  const PushContext& push() {
    PushContext::Options options;
    options.mesh = mesh_;
    push_ = PushContext::build(store_.snapshot(), options, ++version_);
    return *push_;
  }

 private:
  void applyResult(config::LoadResult result, const std::string& file) {
    std::string errors;
    for (const auto& e : result.errors) errors += "\n  " + e.str();
    BOOST_REQUIRE_MESSAGE(result.ok(), "cannot load " << file << ":" << errors);
    std::vector<config::Change> changes;
    for (auto& r : result.resources) changes.push_back(config::Upsert{std::move(r)});
    store_.apply(std::move(changes));
  }
  config::Store store_;
  istio::mesh::v1alpha1::MeshConfig mesh_;
  std::shared_ptr<const PushContext> push_;
  uint64_t version_ = 0;
};

// A proxy from its Istio node ID ("sidecar~10.1.0.1~productpage-v1.default~default.svc.cluster.local")
// and the labels it declares in its metadata.
inline ProxyNode proxyNode(const std::string& id, const std::map<std::string, std::string>& labels = {}) {
  envoy::config::core::v3::Node node;
  node.set_id(id);
  for (const auto& [k, v] : labels) (*node.mutable_metadata()->mutable_fields())[k].set_string_value(v);
  std::string error;
  auto parsed = ProxyNode::parse(node, error);
  BOOST_REQUIRE_MESSAGE(parsed.has_value(), error);
  return *parsed;
}

inline ProxyNode productpageSidecar() {
  return proxyNode("sidecar~10.1.0.1~productpage-v1-1.default~default.svc.cluster.local",
                   {{"app", "productpage"}, {"version", "v1"}});
}
inline ProxyNode ingressGateway() {
  return proxyNode("router~10.1.9.1~istio-ingressgateway-1.istio-system~istio-system.svc.cluster.local",
                   {{"istio", "ingressgateway"}, {"app", "istio-ingressgateway"}});
}

// Compares with test/pilot/golden/<name>.txt; MONOMESH_UPDATE_GOLDEN=1 rewrites the file instead.
inline void checkGolden(const std::string& name, const std::string& actual) {
  auto path = fs::path(MONOMESH_SOURCE_DIR) / "test" / "pilot" / "golden" / (name + ".txt");
  if (const char* update = std::getenv("MONOMESH_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
    BOOST_TEST_MESSAGE("golden " << path.string() << " written");
    return;
  }
  BOOST_REQUIRE_MESSAGE(fs::exists(path), "no golden file " << path.string() << " (MONOMESH_UPDATE_GOLDEN=1 writes it)");
  auto expected = monomesh::testing::readAll(path.string());
  BOOST_TEST(actual == expected, "golden " << name << " differs (MONOMESH_UPDATE_GOLDEN=1 rewrites it)\n--- expected\n"
                                            << expected << "--- actual\n" << actual);
}

// Our proxy must accept everything Pilot sends it.
inline void checkProxyAccepts(const envoy::config::route::v3::RouteConfiguration& config) {
  try {
    proxy::RouteTable::compile(config, proxy::parsePerFilterConfig);
  } catch (const std::exception& e) {
    BOOST_ERROR("the proxy rejects route configuration " << config.name() << ": " << e.what());
  }
}
inline void checkProxyAccepts(const envoy::config::listener::v3::Listener& listener) {
  observe::StatsStore stats;
  try {
    proxy::ListenerConfig::compile(listener, stats);
  } catch (const std::exception& e) {
    BOOST_ERROR("the proxy rejects listener " << listener.name() << ": " << e.what());
  }
}

}  // namespace monomesh::pilot::testing
