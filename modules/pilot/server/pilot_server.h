// `monomesh pilot` as a component: named start-up steps (load mesh config and mesh networks, start
// config sources, build the first push, serve ADS, serve debug and monitoring), each failing with
// an error that names it. Runs on a runtime it is given, so `monomesh demo` can host it beside the other roles.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/directory_source.h"
#include "config/kube/kube_source.h"
#include "config/mcp/mcp_config_source.h"
#include "config/store.h"
#include "net/grpc/grpc_server.h"
#include "observe/admin_server.h"
#include "observe/readiness.h"
#include "pilot/discovery/discovery_server.h"
#include "pilot/server/mesh_networks_watch.h"
#include "runtime/runtime.h"

namespace monomesh::pilot {

struct PilotOptions {
  std::string config_dir;
  std::string grpc_addr = ":15010";
  std::string http_addr = ":8080";
  std::string monitoring_addr = ":15014";
  std::string mesh_config;      // file; "" or a missing default path: 1.1's defaults
  bool mesh_config_required = false;  // the flag was given explicitly: a missing file is an error
  std::string networks_config;  // file; "" or a missing default path: no networks
  bool networks_config_required = false;  // the flag was given explicitly: a missing file is an error
  std::string kubeconfig;
  // Galley addresses to take config from (--configSource, and mesh config configSources).
  std::vector<std::string> config_sources;
  std::vector<std::string> registries;
  std::string cluster_id = "Kubernetes";
  std::string domain = "cluster.local";
  DebounceOptions debounce;
  size_t push_throttle = 100;  // streams answering a push at once (PILOT_PUSH_THROTTLE); 0: no limit
};

class PilotServer {
 public:
  // `store`: share a store with other roles (the demo); null: Pilot keeps its own.
  PilotServer(PilotOptions options, runtime::Runtime& runtime, config::Store* store = nullptr);
  ~PilotServer();

  // Runs the start-up steps; "" or "step: why".
  std::string start();
  void stop();

  boost::asio::ip::tcp::endpoint grpcEndpoint() const;
  boost::asio::ip::tcp::endpoint debugEndpoint() const;
  boost::asio::ip::tcp::endpoint monitoringEndpoint() const;
  DiscoveryServer& discovery() { return *discovery_; }
  config::Store& store() { return *store_; }
  const observe::Readiness& readiness() const { return readiness_; }

 private:
  std::string loadMeshConfig(PushContext::Options& options);
  std::string loadMeshNetworks(PushContext::Options& options);
  void followMeshNetworks();
  std::string startConfigSources();
  std::string startKubernetes();
  std::string startGalleySources();
  // A source is synced for readiness once a push was built from what it delivered, so a proxy
  // that connects when Pilot says ready gets that config, not the push before it.
  void markSyncedOncePushed(const std::string& condition);
  void checkPushed();
  std::string listenGrpc();
  std::string listenHttp(const std::string& address, std::unique_ptr<observe::AdminServer>& server, const char* what,
                         bool debug);

  PilotOptions options_;
  runtime::Runtime& runtime_;
  std::unique_ptr<config::Store> own_store_;
  config::Store* store_;
  std::unique_ptr<config::DirectorySource> directory_;
  std::unique_ptr<config::kube::KubeSource> kube_;
  std::vector<std::unique_ptr<config::mcp::McpConfigSource>> galley_;
  // Mesh config configSources[].tlsSettings by address (--configSource addresses are plaintext).
  std::map<std::string, istio::networking::v1alpha3::TLSSettings> config_source_tls_;
  std::vector<std::pair<std::string, uint64_t>> awaiting_push_;  // condition, store version
  std::unique_ptr<boost::asio::steady_timer> push_check_;
  std::unique_ptr<net::grpc::GrpcServer> grpc_;
  std::unique_ptr<DiscoveryServer> discovery_;
  PushContext::Options push_options_;  // as built at start, then with reloaded mesh networks
  std::unique_ptr<MeshNetworksWatch> networks_;
  std::unique_ptr<observe::AdminServer> debug_, monitoring_;
  observe::Readiness readiness_;
};

}  // namespace monomesh::pilot
