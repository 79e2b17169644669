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

// A Kubernetes Service document (followed by "---").
inline std::string k8sService(const std::string& name, const std::string& ns, const std::string& cluster_ip,
                              const std::string& ports) {
  return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec: {clusterIP: " +
         cluster_ip + ", ports: " + ports + "}\n---\n";
}

// The route and gateway tests' mesh: reviews, ratings, productpage (HTTP 9080) and mongo (TCP) in
// default, httpbin (HTTP 8000 and 9080) in other, reviews' subsets v1 and v2, productpage's pod.
inline const std::string kRouteTestMesh =
    k8sService("reviews", "default", "10.0.0.3", "[{name: http, port: 9080}]") +
    k8sService("ratings", "default", "10.0.0.4", "[{name: http, port: 9080}]") +
    k8sService("productpage", "default", "10.0.0.7", "[{name: http, port: 9080}]") +
    k8sService("httpbin", "other", "10.0.0.5", "[{name: http, port: 8000}, {name: http-alt, port: 9080}]") +
    k8sService("mongo", "default", "10.0.0.6", "[{name: mongo, port: 27017}]") + R"(
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: v1
kind: Pod
metadata: {name: productpage-v1-1, namespace: default, labels: {app: productpage, version: v1}}
status: {podIP: 10.1.0.1}
)";

// A VirtualService document; `spec` holds the spec lines after `hosts` (indented by two).
inline std::string virtualService(const std::string& name, const std::string& ns, const std::string& hosts,
                                  const std::string& spec) {
  return "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n  hosts: " + hosts + "\n" + spec;
}

class TestMesh {
 public:
  TestMesh() : mesh_(config::defaultMeshConfig()) {}

  void add(const std::string& yaml, const std::string& file = "test.yaml") {
    applyResult(config::loadYaml(yaml, file), file);
  }
  // Objects as the registry of another cluster delivers them.
  void addFromCluster(const std::string& yaml, const std::string& cluster_id) {
    config::LoadOptions options;
    options.cluster_id = cluster_id;
    applyResult(config::loadYaml(yaml, cluster_id + ".yaml", options), cluster_id + ".yaml");
  }
  void addSample(const std::string& name) {
    auto path = (kSamples / name).string();
    applyResult(config::loadFile(path), path);
  }
  istio::mesh::v1alpha1::MeshConfig& mesh() { return mesh_; }
  RegistryOptions& registryOptions() { return registry_; }
  // The last push() (a PushCache holds one).
  std::shared_ptr<const PushContext> shared() const { return push_; }

  const PushContext& push() {
    PushContext::Options options;
    options.mesh = mesh_;
    options.registry = registry_;
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
  RegistryOptions registry_;
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
