// ProxyServer's ADS client (declared in proxy_server.h): the bootstrap's dynamic_resources
// followed as Envoy follows them. One AggregatedDiscoveryService stream to the static gRPC cluster
// ads_config names carries CDS, EDS, LDS and RDS (CDS and LDS may come from config_source.path
// files instead, through PathSubscription); ClusterDiscovery and ListenerDiscovery decide
// what each response changes, RouteConfigProviders holds the routes, and this file binds, closes
// and drains sockets, publishes snapshots, and keeps the subscriptions in step. The control plane
// going away changes nothing in force; the client reconnects with backoff and re-subscribes.
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "net/tls_transport.h"
#include "observe/log.h"
#include "proxy/config/config_source.h"
#include "proxy/server/proxy_server.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace xds = net::xds;
using Resources = std::vector<google::protobuf::Any>;

namespace {

// A named coroutine, not a capturing lambda (GCC 12 coroutine rule).
asio::awaitable<std::unique_ptr<net::Transport>> secureXdsConnection(asio::ip::tcp::socket socket,
                                                                      std::shared_ptr<const net::tls::TlsContext> context) {
  auto done = co_await net::tlsConnect(std::move(socket), std::move(context), std::chrono::seconds(10));
  if (!done.transport) observe::logScope("xds").warn("TLS handshake with the control plane failed: {}", done.error);
  co_return std::move(done.transport);
}

}  // namespace

std::string ProxyServer::startAdsClient() {
  if (bootstrap_.node().id().empty())
    return "node.id is required to follow a control plane (set it in the bootstrap or with --service-node)";
  const auto& dynamic = bootstrap_.dynamic_resources();
  GrpcTarget target;
  if (auto err = grpcTargetOf(dynamic.ads_config(), bootstrap_, "dynamic_resources.ads_config", target); !err.empty())
    return err;
  net::grpc::ChannelOptions channel;
  // Envoy's xDS retry backoff: 500 ms doubling to 30 s.
  channel.backoff_initial = std::chrono::milliseconds(500);
  channel.backoff_max = std::chrono::seconds(30);
  channel.unix_path = target.unix_path;
  for (const auto& info : cluster_infos_) {
    if (info->name != target.cluster || !info->tls) continue;
    if (!target.unix_path.empty())
      return "dynamic_resources.ads_config: cluster \"" + target.cluster + "\": TLS over a pipe address is not supported";
    auto context = info->tls->context;
    channel.secure = [context](asio::ip::tcp::socket socket) { return secureXdsConnection(std::move(socket), context); };
  }
  ads_channel_ = net::grpc::GrpcChannel::create(runtime_->main().get_executor(), target.host, target.port, channel);
  xds::AdsClient::Options options;
  auto* connected = &stats_.gauge("control_plane.connected_state");
  options.on_connection = [connected](bool up) { connected->set(up ? 1 : 0); };
  ads_client_ = xds::AdsClient::create(ads_channel_, bootstrap_.node(), options);
  observe::logScope("proxy").info("following the control plane at {} (cluster {}) as node {}", target.text(),
                                  target.cluster, bootstrap_.node().id());
  return {};
}

std::string ProxyServer::startDynamicResources() {
  const auto& dynamic = bootstrap_.dynamic_resources();
  if (uses_ads_)
    if (auto err = startAdsClient(); !err.empty()) return err;
  ClusterDiscovery::Hooks clusters;
  clusters.compile = [this](const envoy::config::cluster::v3::Cluster& c) {
    auto info = ClusterInfo::compile(c, stats_, &secrets_);
    if (info->type == ClusterInfo::Type::Eds && !ads_client_)
      throw std::invalid_argument("eds_cluster_config.eds_config: needs dynamic_resources.ads_config (no ADS stream)");
    info->tls_generation = tls_generation_;
    return info;
  };
  clusters.publish = [this](std::vector<std::shared_ptr<ClusterInfo>> all) {
    clusters_->setClusters(std::move(all));
    // Posted to the workers after the clusters, so a worker has them before the routes to them.
    std::vector<std::string> arrived;
    routes_->applyHeld(arrived);
    if (!arrived.empty() && listener_discovery_) listener_discovery_->onRoutes();
  };
  clusters.set_hosts = [this](const std::string& cluster, std::vector<ClusterInfo::Target> targets) {
    clusters_->setHosts(cluster, std::move(targets));
  };
  clusters.want_endpoints = [this](const std::vector<std::string>& names) {
    std::string url(xds::type_url::kEndpoint);
    if (!ads_client_ || (names.empty() && !ads_client_->types().count(url))) return;  // nothing asked for yet
    ads_client_->subscribe(url, names, [this](const std::string& version, const Resources& resources) {
      return cluster_discovery_->onEndpoints(version, resources);
    });
  };
  clusters.initialized = [this] { onClustersInitialized(); };
  cluster_discovery_ = std::make_unique<ClusterDiscovery>(runtime_->main(), stats_, std::move(clusters));
  routes_->setClusterWarming(
      [this](const std::string& name) { return cluster_discovery_ && cluster_discovery_->warmingOnly(name); });

  bool cds = dynamic.has_cds_config();
  std::string cds_path = cds ? configSourcePath(dynamic.cds_config()) : std::string();
  auto apply = [this](const std::string& version, const Resources& resources) {
    return cluster_discovery_->onClusters(version, resources);
  };
  if (cds && cds_path.empty()) ads_client_->subscribe(std::string(xds::type_url::kCluster), {}, apply);
  if (ads_client_) ads_client_->start();
  cluster_discovery_->start(cluster_infos_, cds, cds ? initialFetchTimeout(dynamic.cds_config()) : std::chrono::milliseconds(0));
  if (!cds_path.empty()) {
    cds_file_ = std::make_unique<PathSubscription>(runtime_->main(), cds_path, std::string(xds::type_url::kCluster),
                                                   apply, stats_.counter("cluster_manager.cds.update_rejected"));
    if (auto err = cds_file_->start(); !err.empty()) return "dynamic_resources.cds_config.path: " + err;
  }
  return {};
}

void ProxyServer::onClustersInitialized() {
  readiness_.markMet("clusters");
  // As Envoy: LDS starts once the clusters (CDS and their EDS) are initialized, so the first
  // listeners never route to a cluster the proxy does not know yet.
  ListenerDiscovery::Hooks listeners;
  listeners.compile = [this](const envoy::config::listener::v3::Listener& l) {
    return ListenerConfig::compile(l, stats_, &secrets_, routes_.get(), access_log_files_.get());
  };
  listeners.apply = [this](const ListenerChange& change) { return applyListenerChange(change); };
  listeners.want_routes = [this](const std::set<std::string>& names) { wantRoutes(names); };
  listeners.routes_ready = [this](const std::string& name) { return routes_->received(name); };
  listeners.initialized = [this] { onListenersInitialized(); };
  listener_discovery_ = std::make_unique<ListenerDiscovery>(runtime_->main(), stats_, std::move(listeners));
  const auto& dynamic = bootstrap_.dynamic_resources();
  bool lds = dynamic.has_lds_config();
  std::string lds_path = lds ? configSourcePath(dynamic.lds_config()) : std::string();
  auto apply = [this](const std::string& version, const Resources& resources) {
    return listener_discovery_->onListeners(version, resources);
  };
  if (lds && lds_path.empty()) ads_client_->subscribe(std::string(xds::type_url::kListener), {}, apply);
  listener_discovery_->start(bootstrap_listeners_, lds,
                             lds ? initialFetchTimeout(dynamic.lds_config()) : std::chrono::milliseconds(0));
  if (lds_path.empty()) return;
  lds_file_ = std::make_unique<PathSubscription>(runtime_->main(), lds_path, std::string(xds::type_url::kListener),
                                                 apply, stats_.counter("listener_manager.lds.update_rejected"));
  if (auto err = lds_file_->start(); !err.empty()) {
    observe::logScope("proxy").error(
        "start-up step \"start dynamic resources\" failed: dynamic_resources.lds_config.path: {}", err);
    start_failed_ = true;
    runtime_->stop();
  }
}

void ProxyServer::onListenersInitialized() {
  serving_ = true;
  listener_discovery_->bindAll();  // everything in force so far binds now
  if (!start_failed_) readiness_.markMet("listeners");
}

void ProxyServer::wantRoutes(const std::set<std::string>& names) {
  routes_->retain(names);
  std::string url(xds::type_url::kRoute);
  if (!ads_client_ || (names.empty() && !ads_client_->types().count(url))) return;  // (RDS needs ADS)
  ads_client_->subscribe(url, std::vector<std::string>(names.begin(), names.end()),
                         [this](const std::string& version, const Resources& resources) -> std::optional<std::string> {
                           std::vector<std::string> arrived;
                           auto error = routes_->apply(version, resources, arrived);
                           if (!error && !arrived.empty() && listener_discovery_) listener_discovery_->onRoutes();
                           return error;
                         });
}

void ProxyServer::publishListeners(const std::vector<std::shared_ptr<const ListenerConfig>>& listeners) {
  auto snapshot = std::make_shared<ListenerSnapshot>();
  snapshot->listeners = listeners;
  listener_slot_->publish(std::move(snapshot));
}

std::vector<std::string> ProxyServer::applyListenerChange(const ListenerChange& change) {
  std::vector<std::shared_ptr<const ListenerConfig>> active = change.active;
  // The snapshot first: a socket bound below accepts at once, and its connections look it up.
  publishListeners(active);
  if (!serving_ || draining_) return {};  // nothing is bound before initialization ends, or while draining
  for (const auto& name : change.closed) {
    auto it = bound_.find(name);
    if (it == bound_.end()) continue;
    it->second->close();
    bound_.erase(it);
  }
  drainListeners(change.drained);
  std::vector<std::string> failed;
  for (const auto& l : change.added) {
    if (!l->bind_to_port || bound_.count(l->name)) continue;
    if (auto err = bindListener(*l); !err.empty()) {
      bool bootstrap = false;
      for (const auto& b : bootstrap_listeners_) bootstrap |= b->name == l->name;
      observe::logScope("proxy").error("{}", err);
      if (bootstrap) {  // as without ADS: a bootstrap listener that cannot listen stops the proxy
        start_failed_ = true;
        runtime_->stop();
        return {};
      }
      failed.push_back(l->name);
    }
  }
  if (!failed.empty()) {
    std::erase_if(active, [&failed](const auto& l) { return std::find(failed.begin(), failed.end(), l->name) != failed.end(); });
    publishListeners(active);
  }
  return failed;
}

void ProxyServer::drainListeners(const std::vector<std::shared_ptr<const ListenerConfig>>& listeners) {
  if (listeners.empty()) return;
  auto hcms = std::make_shared<std::unordered_set<const HcmConfig*>>();
  auto owners = std::make_shared<std::unordered_set<const void*>>();  // their HCMs and tcp_proxies
  // Held until the drain is over: the workers compare against these addresses.
  auto held = std::make_shared<std::vector<std::shared_ptr<const ListenerConfig>>>(listeners);
  for (const auto& l : listeners) {
    l->startDraining();
    auto collect = [&](const FilterChainConfig& c) {
      if (c.http) {
        hcms->insert(c.http.get());
        owners->insert(c.http.get());
      }
      if (c.tcp) owners->insert(c.tcp.get());
    };
    for (const auto& c : l->chains) collect(c);
    if (l->default_chain) collect(*l->default_chain);
    observe::logScope("proxy").info("listener {} draining", l->name);
  }
  runtime_->postToAllWorkers([this, hcms, held](size_t i) { workers_[i]->drainListener(*hcms, false); });
  // Once the drain time has passed: connections waiting for a request close (a request may be on
  // its way meanwhile; busy ones already close after their response), and so do tcp_proxy
  // connections and upgrade tunnels, which nothing else would end.
  auto timer = std::make_shared<asio::steady_timer>(runtime_->main(), options_.drain_time);
  drain_timers_.push_back(timer);
  std::weak_ptr<asio::steady_timer> weak = timer;
  timer->async_wait([this, hcms, owners, held, weak](boost::system::error_code ec) {
    if (ec) return;
    std::erase_if(drain_timers_, [&weak](const auto& t) { return t == weak.lock(); });
    runtime_->postToAllWorkers([this, hcms, owners, held](size_t i) {
      workers_[i]->drainListener(*hcms, true);
      workers_[i]->closeTunnels(*owners);
    });
    if (listener_discovery_) listener_discovery_->drained(*held);
  });
}

}  // namespace monomesh::proxy
