#include "pilot/server/pilot_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/mesh_config.h"
#include "observe/admin_handlers.h"
#include "observe/log.h"
#include "pilot/debug/debug_handlers.h"

namespace monomesh::pilot {

namespace asio = boost::asio;

PilotServer::PilotServer(PilotOptions options, runtime::Runtime& runtime, config::Store* store)
    : options_(std::move(options)), runtime_(runtime), store_(store) {
  if (store_ == nullptr) {
    own_store_ = std::make_unique<config::Store>();
    store_ = own_store_.get();
  }
}

PilotServer::~PilotServer() { stop(); }

std::string PilotServer::loadMeshConfig(PushContext::Options& options) {
  options.mesh = config::defaultMeshConfig();
  std::error_code ec;
  if (!options_.mesh_config.empty() && (options_.mesh_config_required || std::filesystem::exists(options_.mesh_config, ec))) {
    auto errors = config::readMeshConfigFile(options_.mesh_config, options.mesh);
    if (!errors.empty()) return errors.front().str();
  }
  options.registry.domain = options_.domain;
  if (!options.mesh.trust_domain().empty()) options.registry.trust_domain = options.mesh.trust_domain();
  for (const auto& source : options.mesh.config_sources()) {
    options_.config_sources.push_back(source.address());
    config_source_tls_[source.address()] = source.tls_settings();
  }
  return {};
}

std::string PilotServer::loadMeshNetworks(PushContext::Options& options) {
  if (options_.networks_config.empty()) return {};
  networks_ = std::make_unique<MeshNetworksWatch>(runtime_.main(), options_.networks_config);
  if (auto err = networks_->load(options_.networks_config_required); !err.empty())
    return "--networksConfig " + options_.networks_config + ": " + err;
  options.registry.networks = networks_->networks();
  return {};
}

// A changed file rebuilds the push in full: every endpoint's network and every proxy's EDS may change.
void PilotServer::followMeshNetworks() {
  if (!networks_) return;
  networks_->start([this](std::shared_ptr<const MeshNetworks> networks) {
    push_options_.registry.networks = std::move(networks);
    discovery_->setOptions(push_options_);
  });
}

std::string PilotServer::startConfigSources() {
  for (const auto& r : options_.registries)
    if (r != "Kubernetes" && r != "MCP" && r != "Mock")
      return "--registries: unknown registry \"" + r + "\" (Kubernetes, MCP)";
  if (!options_.config_dir.empty() && !options_.config_sources.empty())
    return "--configDir and --configSource (or mesh config configSources) both provide Istio config: give one";
  if (auto err = startKubernetes(); !err.empty()) return err;
  if (auto err = startGalleySources(); !err.empty()) return err;
  if (options_.config_dir.empty()) return {};
  config::DirectorySourceOptions dir_options;
  dir_options.load.cluster_id = options_.cluster_id;
  directory_ = std::make_unique<config::DirectorySource>(runtime_.main(), *store_, options_.config_dir, dir_options);
  directory_->on_rescan = [](const std::map<std::string, config::ConfigErrors>& errors) {
    for (const auto& [file, list] : errors)
      for (const auto& e : list) observe::logScope("pilot").error("config rejected: {}", e.str());
  };
  if (auto err = directory_->start()) return "--configDir " + options_.config_dir + ": " + *err;
  return {};
}

// The Kubernetes registry: with --kubeconfig, inside a pod, or when --registries names it. Istio
// config comes from the API server's CRDs too, unless a folder (--configDir) provides it.
std::string PilotServer::startKubernetes() {
  bool named = std::find(options_.registries.begin(), options_.registries.end(), "Kubernetes") != options_.registries.end();
  bool in_cluster = std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
  if (!named && options_.kubeconfig.empty() && !(in_cluster && options_.registries.empty())) return {};
  auto credentials = config::kube::resolveCredentials(options_.kubeconfig);
  if (!credentials.credentials) return "Kubernetes registry: " + credentials.error;
  config::kube::KubeSourceOptions kube_options;
  kube_options.cluster_id = options_.cluster_id;
  const auto& registry = config::SchemaRegistry::builtin();
  for (const char* kind : {"Service", "Endpoints", "Pod", "Node", "Namespace"})
    kube_options.kinds.push_back(registry.find("v1", kind));
  if (options_.config_dir.empty() && options_.config_sources.empty())
    for (const char* kind : {"VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar", "EnvoyFilter"})
      kube_options.kinds.push_back(registry.find("networking.istio.io/v1alpha3", kind));
  std::string where = credentials.credentials->server.url() + " (" + credentials.credentials->origin + ")";
  kube_ = std::make_unique<config::kube::KubeSource>(runtime_.main(), *store_, std::move(*credentials.credentials), kube_options);
  readiness_.require("kubernetes synced");
  kube_->on_synced = [this] { markSyncedOncePushed("kubernetes synced"); };
  if (auto err = kube_->start()) return "Kubernetes registry: " + *err;
  observe::logScope("pilot").info("following the Kubernetes API at {}, {} kinds", where, kube_options.kinds.size());
  return {};
}

// Galley over MCP: every Istio kind, and the Kubernetes objects too unless this Pilot reads them
// from the API server itself. Ready once every kind has arrived from every source.
std::string PilotServer::startGalleySources() {
  for (const auto& address : options_.config_sources) {
    config::mcp::McpConfigSourceOptions mcp_options;
    mcp_options.cluster_id = options_.cluster_id;
    mcp_options.node_id = "pilot~" + options_.cluster_id;
    if (auto tls = config_source_tls_.find(address); tls != config_source_tls_.end()) mcp_options.tls = tls->second;
    if (kube_) std::erase_if(mcp_options.kinds, [](const config::Schema* kind) { return kind->group.empty(); });
    auto source = std::make_unique<config::mcp::McpConfigSource>(runtime_.main(), *store_, address, mcp_options);
    std::string condition = "config source " + address + " synced";
    readiness_.require(condition);
    source->on_synced = [this, condition] { markSyncedOncePushed(condition); };
    if (auto err = source->start()) return *err;
    galley_.push_back(std::move(source));
  }
  return {};
}

void PilotServer::markSyncedOncePushed(const std::string& condition) {
  awaiting_push_.emplace_back(condition, store_->version());
  checkPushed();
}

void PilotServer::checkPushed() {
  uint64_t pushed = discovery_ ? discovery_->push()->storeVersion() : 0;
  std::erase_if(awaiting_push_, [&](const auto& wait) {
    if (wait.second > pushed) return false;
    readiness_.markMet(wait.first);
    return true;
  });
  if (awaiting_push_.empty()) return;
  if (!push_check_) push_check_ = std::make_unique<asio::steady_timer>(runtime_.main());
  push_check_->expires_after(std::chrono::milliseconds(20));
  push_check_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) checkPushed();
  });
}

std::string PilotServer::listenGrpc() {
  auto endpoint = observe::parseListenAddress(options_.grpc_addr);
  if (!endpoint) return "--grpcAddr \"" + options_.grpc_addr + "\" is not an address";
  net::grpc::GrpcServerOptions grpc_options;
  // A full CDS for a large mesh is several megabytes; proxies ask for whole types at once.
  grpc_options.max_message_size = 256u << 20;
  grpc_ = std::make_unique<net::grpc::GrpcServer>(grpc_options);
  discovery_->start(*grpc_, options_.push_throttle);
  if (auto ec = grpc_->listen(runtime_.main(), *endpoint))
    return "cannot listen on " + options_.grpc_addr + " (--grpcAddr): " + ec.message();
  observe::logScope("pilot").info("ADS (xDS v3) on {}:{}", grpcEndpoint().address().to_string(), grpcEndpoint().port());
  return {};
}

std::string PilotServer::listenHttp(const std::string& address, std::unique_ptr<observe::AdminServer>& server,
                                    const char* what, bool debug) {
  auto endpoint = observe::parseListenAddress(address);
  if (!endpoint) return std::string(what) + " \"" + address + "\" is not an address";
  server = std::make_unique<observe::AdminServer>(runtime_.main());
  observe::mountStandardHandlers(*server, readiness_);
  if (debug) mountDebugHandlers(*server, *discovery_, readiness_);
  if (auto ec = server->listen(*endpoint)) return "cannot listen on " + address + " (" + what + "): " + ec.message();
  return {};
}

std::string PilotServer::start() {
  readiness_.require("config synced");
  if (auto err = loadMeshConfig(push_options_); !err.empty()) return "load mesh config: " + err;
  if (auto err = loadMeshNetworks(push_options_); !err.empty()) return "load mesh networks: " + err;
  if (auto err = startConfigSources(); !err.empty()) return "start config sources: " + err;
  discovery_ = std::make_unique<DiscoveryServer>(runtime_.main(), *store_, push_options_, options_.debounce);
  followMeshNetworks();
  if (auto err = listenGrpc(); !err.empty()) return "serve ADS: " + err;
  if (auto err = listenHttp(options_.http_addr, debug_, "--httpAddr", true); !err.empty()) return "serve debug: " + err;
  if (auto err = listenHttp(options_.monitoring_addr, monitoring_, "--monitoringAddr", false); !err.empty())
    return "serve monitoring: " + err;
  // The folder was read whole before the first push; the Kubernetes source marks this when its
  // first lists are in.
  readiness_.markMet("config synced");
  return {};
}

void PilotServer::stop() {
  if (networks_) networks_->stop();
  if (discovery_) discovery_->stop();
  if (grpc_) grpc_->shutdown();
  if (debug_) debug_->close();
  if (monitoring_) monitoring_->close();
  if (directory_) directory_->stop();
  if (kube_) kube_->stop();
  for (auto& source : galley_) source->stop();
  if (push_check_) push_check_->cancel();
}

boost::asio::ip::tcp::endpoint PilotServer::grpcEndpoint() const {
  return grpc_ ? grpc_->localEndpoint() : boost::asio::ip::tcp::endpoint();
}
boost::asio::ip::tcp::endpoint PilotServer::debugEndpoint() const { return debug_ ? debug_->localEndpoint() : boost::asio::ip::tcp::endpoint(); }
boost::asio::ip::tcp::endpoint PilotServer::monitoringEndpoint() const {
  return monitoring_ ? monitoring_->localEndpoint() : boost::asio::ip::tcp::endpoint();
}

}  // namespace monomesh::pilot
