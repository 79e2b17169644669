// `monomesh proxy`: the composition root of the data plane. Named start-up steps (load the
// bootstrap, compile clusters and listeners, start the admin server, wait for clusters, bind
// listeners), each failing with an error that names it; then serve until drained.
#pragma once
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "net/grpc/grpc_client.h"
#include "net/xds/ads_client.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "observe/admin_server.h"
#include "observe/readiness.h"
#include "observe/stats_store.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "proxy/config/path_subscription.h"
#include "proxy/http/route_config_provider.h"
#include "proxy/listener/listener_config.h"
#include "proxy/listener/listener_discovery.h"
#include "proxy/upstream/cluster_discovery.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/worker.h"
#include "runtime/runtime.h"
#include "runtime/worker_listener.h"

namespace monomesh::proxy {

struct ProxyOptions {
  std::string config_path;
  std::string config_yaml;
  unsigned concurrency = 0;
  std::chrono::seconds drain_time{600};
  std::string service_cluster, service_node;
  std::chrono::milliseconds certificate_poll_interval{1000};
  // Access-log buffers are written at least this often (Envoy's --file-flush-interval-msec).
  std::chrono::milliseconds file_flush_interval{10000};
  // Run on this runtime (`monomesh demo` hosts several proxies on one); null: the proxy makes
  // its own from `concurrency` and `drain_time`.
  runtime::Runtime* shared_runtime = nullptr;
};

struct ListenerSnapshot {
  std::vector<std::shared_ptr<const ListenerConfig>> listeners;
  const ListenerConfig* find(const std::string& name) const;
  // The listener bound to exactly this address, or to the wildcard address on its port.
  const ListenerConfig* byAddress(const boost::asio::ip::tcp::endpoint& address) const;
};

class ProxyServer {
 public:
  explicit ProxyServer(ProxyOptions options);
  ~ProxyServer();

  // Returns the process exit code: 0 after a clean drain, 1 when a start-up step failed.
  int run();

  // On a shared runtime: the start-up steps alone ("" or "step: why"); the runtime's owner runs
  // it, then calls shutdown() on every proxy before destroying the runtime, then the proxies.
  std::string start();
  // Releases everything that lives on the runtime's contexts (sockets, timers, streams).
  void shutdown();

  // For tests and the admin: the bound address of a listener ("" name: the first).
  boost::asio::ip::tcp::endpoint listenerAddress(const std::string& name) const;

 private:
  std::string initBootstrap();
  std::string initClusters();
  std::string initListeners();
  std::string compileClusters(std::vector<std::shared_ptr<ClusterInfo>>& out);
  std::string compileListeners(ListenerSnapshot& snapshot);
  // Certificates and keys in files (Istio's /etc/certs layout) are polled; a changed, complete
  // set recompiles listeners and clusters with new TLS contexts. Open connections keep theirs.
  void startCertificateWatch();
  void reloadCertificates();
  // Runs `task` on the main context every `interval` until the server goes away.
  void everyInterval(std::chrono::milliseconds interval, std::function<void()> task);
  // The runtime's disk layer, re-read each second (Envoy applies a swapped symlink root at once).
  void startRuntimeReload();
  // Recompiles listeners and clusters (new TLS material) and publishes them; the error otherwise.
  std::string recompileTls();
  // Clusters, listeners, then accepting: at once, or when SDS secrets have arrived.
  std::string completeStartup();
  // SDS: subscribes to the secrets TLS contexts name (none: nothing to do). An error for an
  // unusable sds_config.
  std::string startSecretDiscovery();
  std::optional<std::string> onSecrets(const std::string& version, const std::vector<google::protobuf::Any>& resources);
  std::string initAdmin();
  void startListeners();
  // Binds one listener on every worker; the error names the address.
  std::string bindListener(const ListenerConfig& listener);

  // ADS (server/dynamic_resources.cpp): CDS, EDS, LDS and RDS over one stream, as Envoy follows
  // a control plane (CDS and LDS may come from files instead). Bootstrap clusters warm first, then
  // CDS/EDS initialize, then LDS/RDS; the listeners accept once all of that has warmed.
  std::string startDynamicResources();
  // The ADS stream to the cluster dynamic_resources.ads_config names.
  std::string startAdsClient();
  void onClustersInitialized();
  void onListenersInitialized();
  // Publishes `change.active` and binds, closes and drains what it says; returns the added
  // listeners that could not be bound.
  std::vector<std::string> applyListenerChange(const ListenerChange& change);
  void publishListeners(const std::vector<std::shared_ptr<const ListenerConfig>>& listeners);
  // Removed or replaced listeners: their HTTP/2 connections get a GOAWAY, HTTP/1 connections
  // close after the request in flight, idle ones once the drain time has passed.
  void drainListeners(const std::vector<std::shared_ptr<const ListenerConfig>>& listeners);
  void wantRoutes(const std::set<std::string>& names);
  // /config_dump (server/config_dump.cpp): Envoy's ConfigDump of what is in force.
  envoy::admin::v3::ConfigDump configDump(bool include_eds) const;
  void onAccept(const std::string& listener, size_t worker, boost::asio::ip::tcp::socket socket);
  // tls_inspector: peek at the ClientHello, then choose the chain and serve it.
  boost::asio::awaitable<void> inspectThenServe(boost::asio::ip::tcp::socket socket,
                                                std::shared_ptr<const ListenerSnapshot> snapshot,
                                                const ListenerConfig* listener, ProxyWorker& worker,
                                                boost::asio::ip::tcp::endpoint destination,
                                                std::optional<boost::asio::ip::tcp::endpoint> original);
  // Terminates TLS when the chain has a DownstreamTlsContext, then runs its network filter
  // (HTTP/1.1 or HTTP/2 connection manager, tcp_proxy). Holds the snapshot `listener` and
  // `chain` belong to for the connection's life. `server_name`: the SNI tls_inspector read.
  static boost::asio::awaitable<void> serveChain(net::MaybeTlsStream stream, std::shared_ptr<const ListenerSnapshot> snapshot,
                                                 const ListenerConfig& listener, const FilterChainConfig& chain,
                                                 ProxyWorker& worker, std::optional<boost::asio::ip::tcp::endpoint> original,
                                                 std::string server_name = {});
  // Envoy's transport_socket_connect_timeout is unset by default; a handshake still must end.
  static constexpr std::chrono::seconds kTlsHandshakeTimeout{10};
  void beginDrain(std::function<void()> done);
  void mountAdmin();
  void startPoolSweeps();
  // Hands every thread's access-log buffers to the flusher each file_flush_interval.
  void startAccessLogFlush();

  ProxyOptions options_;
  envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  // Declared before the runtime: coroutines unwound when the runtime is destroyed still update
  // stats, so the store must outlive it.
  observe::StatsStore stats_;
  // Also before the runtime and every config: loggers hand their last lines to it as they go.
  std::unique_ptr<AccessLogManager> access_log_files_;
  // Also before the runtime: coroutine frames destroyed with it still release connections to
  // their worker's pool (see ~ProxyServer, which first empties the pools).
  std::vector<std::unique_ptr<ProxyWorker>> workers_;
  std::unique_ptr<runtime::Runtime> own_runtime_;
  runtime::Runtime* runtime_ = nullptr;  // own_runtime_, or the shared one
  observe::Readiness readiness_;
  std::unique_ptr<ClusterManager> clusters_;
  std::unique_ptr<runtime::SnapshotSlot<ListenerSnapshot>> listener_slot_;
  std::unique_ptr<runtime::SnapshotSlot<RuntimeValues>> runtime_slot_;
  std::map<std::string, std::string> admin_runtime_;  // the admin layer (/runtime_modify)
  std::map<std::string, std::unique_ptr<runtime::WorkerListener>> bound_;  // by listener name
  std::unique_ptr<observe::AdminServer> admin_;
  std::vector<std::shared_ptr<ClusterInfo>> cluster_infos_;
  Http2Stats h2_stats_{stats_};
  uint64_t tls_generation_ = 0;
  SecretStore secrets_;
  std::vector<std::string> sds_names_;
  std::shared_ptr<net::grpc::GrpcChannel> sds_channel_;
  std::shared_ptr<net::xds::AdsClient> sds_client_;
  // ADS. routes_ always exists (without ADS it refuses HCMs with rds).
  bool uses_ads_ = false;
  bool dynamic_ = false;  // clusters or listeners follow ADS or a file: Cluster/ListenerDiscovery run
  bool serving_ = false;  // with ADS: listeners accept once initialization has ended
  std::unique_ptr<RouteConfigProviders> routes_;
  std::unique_ptr<ClusterDiscovery> cluster_discovery_;
  std::unique_ptr<ListenerDiscovery> listener_discovery_;
  std::vector<std::shared_ptr<const ListenerConfig>> bootstrap_listeners_;
  std::shared_ptr<net::grpc::GrpcChannel> ads_channel_;
  std::shared_ptr<net::xds::AdsClient> ads_client_;  // null without ads_config
  // CDS / LDS from config_source.path files.
  std::unique_ptr<PathSubscription> cds_file_, lds_file_;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> drain_timers_;
  bool configured_ = false;  // clusters and listeners compiled (at once, or once SDS secrets came)
  std::vector<std::string> tls_files_;
  std::string tls_fingerprint_, tls_pending_;
  // Main-context tasks repeated at an interval (certificate and runtime polling).
  std::vector<std::shared_ptr<boost::asio::steady_timer>> periodic_timers_;
  std::vector<std::shared_ptr<std::function<void()>>> periodic_ticks_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool health_failed_ = false;
  bool draining_ = false;
  bool start_failed_ = false;
};

}  // namespace monomesh::proxy
