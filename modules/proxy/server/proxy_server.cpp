#include "proxy/server/proxy_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <set>

#include "observe/admin_handlers.h"
#include "observe/log.h"
#include "proxy/config/bootstrap_loader.h"
#include "proxy/config/config_source.h"
#include "proxy/http/http1_connection.h"
#include "proxy/http/http2_connection.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

const ListenerConfig* ListenerSnapshot::find(const std::string& name) const {
  for (const auto& l : listeners)
    if (l->name == name) return l.get();
  return nullptr;
}

const ListenerConfig* ListenerSnapshot::byAddress(const tcp::endpoint& address) const {
  const ListenerConfig* wildcard = nullptr;
  for (const auto& l : listeners) {
    if (l->address == address) return l.get();
    if (l->address.port() == address.port() && l->address.address().is_unspecified()) wildcard = l.get();
  }
  return wildcard;
}

ProxyServer::ProxyServer(ProxyOptions options) : options_(std::move(options)) {}

ProxyServer::~ProxyServer() {
  shutdown();
  own_runtime_.reset();  // unwinds suspended coroutines; the pools (shut down) and stats still exist
}

void ProxyServer::shutdown() {
  // Idle upstream sockets belong to the worker io_contexts: close them while those exist.
  for (auto& w : workers_) {
    w->pool.shutdown();
    w->h2_pool.shutdown();
  }
  bound_.clear();
  admin_.reset();
  // Timers and the SDS stream live on the main context: gone before it is.
  periodic_ticks_.clear();
  for (auto& t : periodic_timers_) t->cancel();
  periodic_timers_.clear();
  for (auto& t : drain_timers_) t->cancel();
  drain_timers_.clear();
  if (sds_client_) sds_client_->stop();
  sds_client_.reset();
  if (sds_channel_) sds_channel_->close();
  sds_channel_.reset();
  cds_file_.reset();  // their timers live on the main context
  lds_file_.reset();
  if (ads_client_) ads_client_->stop();
  ads_client_.reset();
  if (ads_channel_) ads_channel_->close();
  ads_channel_.reset();
  listener_discovery_.reset();  // their timers live on the main context
  cluster_discovery_.reset();
  listener_slot_.reset();
  runtime_slot_.reset();
  clusters_.reset();
  // The runtime no longer runs (the owner of a shared one calls this after run()).
  if (access_log_files_) access_log_files_->stop();
}

void ProxyServer::startAccessLogFlush() {
  everyInterval(options_.file_flush_interval, [this] {
    access_log_files_->flushThisThread(true);
    runtime_->postToAllWorkers([this](size_t) { access_log_files_->flushThisThread(true); });
  });
}

void ProxyServer::startPoolSweeps() {
  // Every second each worker flushes its HTTP/2 counters into the stats and sweeps its HTTP/2
  // upstream connections (walking the hosts only for connections it has not checked against the
  // current clusters); every fifth second it also closes idle HTTP/1 upstream connections that
  // expired, went stale, or lead to hosts no longer in their cluster (a walk over every host).
  for (size_t i = 0; i < runtime_->workerCount(); ++i) {
    auto timer = std::make_shared<asio::steady_timer>(runtime_->worker(i));
    auto tick = std::make_shared<std::function<void(boost::system::error_code)>>();
    std::weak_ptr<std::function<void(boost::system::error_code)>> weak = tick;
    ProxyWorker* worker = workers_[i].get();
    auto ticks = std::make_shared<unsigned>(0);
    auto swept = std::make_shared<std::shared_ptr<const UpstreamSnapshot>>();  // the clusters last swept against
    *tick = [worker, timer, weak, ticks, swept](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      worker->flushHttp2Stats();
      auto clusters = worker->clusters();
      bool hosts_changed = clusters != *swept;
      *swept = clusters;
      auto current = [&clusters](const Host* h) {
        if (!clusters) return false;
        for (const auto& [name, entry] : clusters->clusters)
          for (const auto& host : entry.hosts->hosts)
            if (host.get() == h) return true;
        return false;
      };
      // HTTP/2 connections each second (a host that left drains at once), HTTP/1 every 5 s.
      worker->h2_pool.sweep(Clock::now(), current, hosts_changed);
      if (++*ticks % 5 == 0) worker->pool.sweep(Clock::now(), current);
      timer->expires_after(std::chrono::seconds(1));
      timer->async_wait([self](boost::system::error_code e) { (*self)(e); });
    };
    timer->expires_after(std::chrono::seconds(1));
    timer->async_wait([tick](boost::system::error_code e) { (*tick)(e); });
  }
}

std::string ProxyServer::initBootstrap() {
  auto errors = loadBootstrap(options_.config_path, options_.config_yaml, bootstrap_);
  if (!errors.empty()) {
    std::string out;
    for (const auto& e : errors) out += "\n  " + e.str();
    return "the bootstrap is invalid:" + out;
  }
  if (options_.config_path.empty() && options_.config_yaml.empty()) return "no bootstrap: give --config-path or --config-yaml";
  if (!options_.service_cluster.empty()) bootstrap_.mutable_node()->set_cluster(options_.service_cluster);
  if (!options_.service_node.empty()) bootstrap_.mutable_node()->set_id(options_.service_node);
  return {};
}

std::string ProxyServer::initClusters() { return compileClusters(cluster_infos_); }

std::string ProxyServer::compileClusters(std::vector<std::shared_ptr<ClusterInfo>>& out) {
  std::set<std::string> names;
  const auto& clusters = bootstrap_.static_resources().clusters();
  for (int i = 0; i < clusters.size(); ++i) {
    try {
      auto info = ClusterInfo::compile(clusters[i], stats_, &secrets_);
      if (!names.insert(info->name).second) return "static_resources.clusters[" + std::to_string(i) + "]: duplicate cluster name \"" + info->name + "\"";
      info->tls_generation = tls_generation_;
      out.push_back(std::move(info));
    } catch (const std::exception& e) {
      return "static_resources.clusters[" + std::to_string(i) + "] (" + clusters[i].name() + "): " + e.what();
    }
  }
  return {};
}

std::string ProxyServer::initListeners() {
  auto snapshot = std::make_shared<ListenerSnapshot>();
  if (auto err = compileListeners(*snapshot); !err.empty()) return err;
  listener_slot_->publish(std::move(snapshot));
  return {};
}

std::string ProxyServer::compileListeners(ListenerSnapshot& snapshot) {
  std::set<std::string> names;
  const auto& listeners = bootstrap_.static_resources().listeners();
  for (int i = 0; i < listeners.size(); ++i) {
    try {
      auto l = ListenerConfig::compile(listeners[i], stats_, &secrets_, routes_.get(), access_log_files_.get());
      if (!names.insert(l->name).second) return "static_resources.listeners[" + std::to_string(i) + "]: duplicate listener name \"" + l->name + "\"";
      snapshot.listeners.push_back(std::move(l));
    } catch (const std::exception& e) {
      return "static_resources.listeners[" + std::to_string(i) + "] (" + listeners[i].name() + "): " + e.what();
    }
  }
  return {};
}

std::string ProxyServer::completeStartup() {
  cluster_infos_.clear();
  if (auto err = initClusters(); !err.empty()) return err;
  if (dynamic_) {
    // The bootstrap's listeners warm with the dynamic ones (their RDS routes); nothing accepts
    // before CDS, EDS, LDS and RDS have initialized, as in Envoy.
    ListenerSnapshot compiled;
    if (auto err = compileListeners(compiled); !err.empty()) return err;
    bootstrap_listeners_ = std::move(compiled.listeners);
    clusters_->setClusters(cluster_infos_, [this] {
      if (auto err = startDynamicResources(); !err.empty()) {
        observe::logScope("proxy").error("start-up step \"start dynamic resources\" failed: {}", err);
        start_failed_ = true;
        runtime_->stop();
      }
    });
    return {};
  }
  if (auto err = initListeners(); !err.empty()) return err;
  // Clusters warm first (DNS answered once), then listeners accept: as Envoy starts.
  clusters_->setClusters(cluster_infos_, [this] {
    readiness_.markMet("clusters");
    startListeners();
  });
  return {};
}

std::string ProxyServer::initAdmin() {
  if (!bootstrap_.has_admin() || !bootstrap_.admin().address().has_socket_address()) return {};
  const auto& sa = bootstrap_.admin().address().socket_address();
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(sa.address(), ec);
  if (ec) return "admin.address: \"" + sa.address() + "\" is not an IP address";
  admin_ = std::make_unique<observe::AdminServer>(runtime_->main());
  mountAdmin();
  if (auto err = admin_->listen(tcp::endpoint(ip, uint16_t(sa.port_value()))))
    return "admin: cannot listen on " + sa.address() + ":" + std::to_string(sa.port_value()) + ": " + err.message();
  observe::logScope("admin").info("admin listening on {}:{}", admin_->localEndpoint().address().to_string(),
                                  admin_->localEndpoint().port());
  return {};
}

void ProxyServer::startListeners() {
  auto snapshot = listener_slot_->latest();
  for (const auto& l : snapshot->listeners) {
    if (!l->bind_to_port) continue;
    if (auto err = bindListener(*l); !err.empty()) {
      observe::logScope("proxy").error("{}", err);
      start_failed_ = true;
      runtime_->stop();
      return;
    }
  }
  readiness_.markMet("listeners");
}

std::string ProxyServer::bindListener(const ListenerConfig& l) {
  std::string name = l.name;
  auto listener = std::make_unique<runtime::WorkerListener>(
      *runtime_, name, [this, name](size_t worker, tcp::socket socket) { onAccept(name, worker, std::move(socket)); });
  if (auto ec = listener->listen(l.address))
    return "listener " + name + ": cannot listen on " + l.address.address().to_string() + ":" +
           std::to_string(l.address.port()) + ": " + ec.message();
  observe::logScope("proxy").info("listener {} on {}:{}", name, listener->localEndpoint().address().to_string(),
                                  listener->localEndpoint().port());
  bound_[name] = std::move(listener);
  return {};
}

tcp::endpoint ProxyServer::listenerAddress(const std::string& name) const {
  for (const auto& [n, l] : bound_)
    if (name.empty() || n == name) return l->localEndpoint();
  return {};
}

void ProxyServer::onAccept(const std::string& listener_name, size_t worker_index, tcp::socket socket) {
  ProxyWorker& worker = *workers_[worker_index];
  const auto& snapshot = listener_slot_->onWorker(worker_index);
  const ListenerConfig* listener = snapshot ? snapshot->find(listener_name) : nullptr;
  if (listener == nullptr || worker.draining) return;  // socket closes
  listener->cx_total->inc();
  boost::system::error_code ec;
  tcp::endpoint destination = socket.local_endpoint(ec);
  std::optional<tcp::endpoint> original;
  if (listener->use_original_dst) {
    // iptables REDIRECT keeps the address the application dialled; without it, the local one.
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    if (::getsockopt(socket.native_handle(), SOL_IP, SO_ORIGINAL_DST, &addr, &len) == 0) {
      destination = tcp::endpoint(asio::ip::address_v4(ntohl(addr.sin_addr.s_addr)), ntohs(addr.sin_port));
    }
    original = destination;
    // Hand-off: the listener bound to the original destination serves it (Istio's 15001).
    if (const ListenerConfig* target = snapshot->byAddress(destination); target != nullptr && target != listener) {
      listener = target;
    }
  }
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto executor = runtime_->worker(worker_index).get_executor();
  if (listener->tls_inspector) {
    // The chain depends on the ClientHello: peek first (holding the snapshot meanwhile).
    asio::co_spawn(executor, inspectThenServe(std::move(socket), snapshot, listener, worker, destination, original),
                   asio::detached);
    return;
  }
  const FilterChainConfig* chain = listener->select(destination);
  if (chain == nullptr) {
    listener->no_filter_chain->inc();
    return;
  }
  asio::co_spawn(executor, serveChain(net::MaybeTlsStream(std::move(socket)), snapshot, *listener, *chain, worker, original),
                 asio::detached);
}

asio::awaitable<void> ProxyServer::inspectThenServe(tcp::socket socket, std::shared_ptr<const ListenerSnapshot> snapshot,
                                                    const ListenerConfig* listener, ProxyWorker& worker,
                                                    tcp::endpoint destination, std::optional<tcp::endpoint> original) {
  auto inspected = co_await inspectConnection(socket, listener->listener_filters_timeout);
  if (inspected.close) {
    observe::logScope("proxy").debug("listener {}: closing a connection: {}", listener->name, inspected.reason);
    co_return;
  }
  const FilterChainConfig* chain = listener->select(destination, inspected.info);
  if (chain == nullptr) {
    listener->no_filter_chain->inc();
    co_return;
  }
  if (chain->tls && chain->tls->require_sni && inspected.info.server_name.empty()) {
    listener->ssl_connection_error->inc();
    co_return;
  }
  co_await serveChain(net::MaybeTlsStream(std::move(socket)), std::move(snapshot), *listener, *chain, worker, original,
                      std::move(inspected.info.server_name));
}

asio::awaitable<void> ProxyServer::serveChain(net::MaybeTlsStream stream, std::shared_ptr<const ListenerSnapshot> snapshot,
                                              const ListenerConfig& listener, const FilterChainConfig& chain,
                                              ProxyWorker& worker, std::optional<tcp::endpoint> original,
                                              std::string server_name) {
  (void)snapshot;  // held: `listener` and `chain` live in it
  const auto& http = chain.http;
  const auto& tcp_proxy = chain.tcp;
  if (chain.tls) {
    auto* handshakes = listener.ssl_handshake;
    auto* errors = listener.ssl_connection_error;
    stream.startTls(chain.tls->context);
    stream.tcp().expires_after(kTlsHandshakeTimeout);
    std::string error = co_await stream.handshake();
    if (!error.empty()) {
      errors->inc();
      observe::logScope("proxy").debug("TLS handshake with {} failed: {}",
                                       stream.tcp().socket().is_open() ? "a client" : "a closed client", error);
      co_return;
    }
    stream.tcp().expires_never();
    handshakes->inc();
  }
  if (http && (http->codec == HcmConfig::Codec::Http2 || stream.alpn() == "h2")) {
    co_await serveHttp2(std::move(stream), std::string(), http, worker);
  } else if (http) {
    co_await serveHttp1(std::move(stream), http, worker);
  } else if (tcp_proxy) {
    co_await serveTcpProxy(std::move(stream), tcp_proxy, worker, original, std::move(server_name));
  }
}

void ProxyServer::beginDrain(std::function<void()> done) {
  if (draining_) return;
  draining_ = true;
  readiness_.markUnmet("draining");
  for (auto& [name, l] : bound_) l->close();
  // Workers stop keeping connections alive; the drain completes when their connections end.
  // The poll re-schedules itself through a weak pointer, so nothing keeps it alive once done.
  auto check = std::make_shared<std::function<void()>>();
  auto timer = std::make_shared<asio::steady_timer>(runtime_->main());
  std::weak_ptr<std::function<void()>> weak = check;
  auto polls = std::make_shared<int>(0);
  *check = [this, done, weak, timer, polls] {
    auto self = weak.lock();
    if (!self) return;
    auto remaining = std::make_shared<size_t>(0);
    bool close_idle = ++*polls > 10;  // polls are 100 ms apart: a grace second for requests in flight
    runtime_->postToAllWorkers(
        [this, remaining, close_idle](size_t i) {
          workers_[i]->startDraining(close_idle);
          // Counted on main after every worker answered (see postToAllWorkers).
          auto n = workers_[i]->connections;
          asio::post(runtime_->main(), [remaining, n] { *remaining += n; });
        },
        [done, self, timer, remaining, this] {
          asio::post(runtime_->main(), [done, self, timer, remaining] {
            if (*remaining == 0) {
              done();
              return;
            }
            timer->expires_after(std::chrono::milliseconds(100));
            timer->async_wait([self](boost::system::error_code ec) {
              if (!ec) (*self)();
            });
          });
        });
  };
  (*check)();
}

int ProxyServer::run() {
  if (auto err = start(); !err.empty()) {
    auto colon = err.find(": ");
    observe::logScope("proxy").error("start-up step \"{}\" failed: {}", err.substr(0, colon), err.substr(colon + 2));
    return 1;
  }
  runtime_->run();
  access_log_files_->stop();  // every runtime thread has ended: their last lines are written
  bound_.clear();
  if (admin_) admin_->close();
  return start_failed_ ? 1 : 0;
}

std::string ProxyServer::start() {
  auto fail = [](const std::string& step, const std::string& why) { return step + ": " + why; };
  if (auto err = initBootstrap(); !err.empty()) return fail("load bootstrap", err);
  if (auto err = checkDynamicResources(bootstrap_, uses_ads_); !err.empty()) return fail("check dynamic resources", err);
  const auto& dynamic = bootstrap_.dynamic_resources();
  dynamic_ = uses_ads_ || dynamic.has_cds_config() || dynamic.has_lds_config();
  if (options_.shared_runtime != nullptr) {
    runtime_ = options_.shared_runtime;
  } else {
    runtime::RuntimeOptions ro;
    ro.concurrency = options_.concurrency;
    ro.drain_duration = std::chrono::duration_cast<std::chrono::milliseconds>(options_.drain_time);
    own_runtime_ = std::make_unique<runtime::Runtime>(ro);
    runtime_ = own_runtime_.get();
  }
  clusters_ = std::make_unique<ClusterManager>(*runtime_);
  access_log_files_ = std::make_unique<AccessLogManager>(stats_, AccessLogManager::Options{});
  access_log_files_->start();
  listener_slot_ = std::make_unique<runtime::SnapshotSlot<ListenerSnapshot>>(*runtime_);
  routes_ = std::make_unique<RouteConfigProviders>(uses_ads_ ? runtime_ : nullptr, stats_);
  runtime_slot_ = std::make_unique<runtime::SnapshotSlot<RuntimeValues>>(*runtime_);
  runtime_slot_->publish(loadRuntime(bootstrap_.layered_runtime(), admin_runtime_));
  for (size_t i = 0; i < runtime_->workerCount(); ++i) {
    workers_.push_back(std::make_unique<ProxyWorker>(i, clusters_->slot()));
    workers_.back()->runtime_values = runtime_slot_.get();
    workers_.back()->h2_stats = &h2_stats_;
  }
  readiness_.require("clusters");
  readiness_.require("listeners");
  if (auto err = initAdmin(); !err.empty()) return fail("start admin", err);
  runtime_->drain().add("listeners", [this](std::function<void()> done) { beginDrain(std::move(done)); });
  if (auto err = startSecretDiscovery(); !err.empty()) return fail("start secret discovery", err);
  if (sds_names_.empty()) {
    if (auto err = completeStartup(); !err.empty()) return fail("compile clusters and listeners", err);
    configured_ = true;
  }
  startPoolSweeps();
  startAccessLogFlush();
  startCertificateWatch();
  startRuntimeReload();
  observe::logScope("proxy").info("monomesh proxy starting: {} workers, {} listeners, {} clusters",
                                  runtime_->workerCount(), bootstrap_.static_resources().listeners_size(), cluster_infos_.size());
  return {};
}

}  // namespace monomesh::proxy
