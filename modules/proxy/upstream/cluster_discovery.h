// CDS and EDS applied as Envoy applies them, on the main context. A CDS response is the whole
// dynamic cluster set: clusters it adds or changes are compiled first (any error rejects the whole
// response, nothing changes), then removed ones go, STATIC/DNS ones become active at once and EDS
// ones warm until their first ClusterLoadAssignment arrives or initial_fetch_timeout passes; a
// changed cluster keeps serving in its old form meanwhile. Bootstrap clusters stay and cannot be
// replaced. Initialization (what LDS and readiness wait for) ends once the first CDS response and
// every EDS cluster it brought, and the bootstrap's EDS clusters, have warmed.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <google/protobuf/any.pb.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "observe/stats_store.h"
#include "proxy/upstream/cluster.h"

namespace monomesh::proxy {

class ClusterDiscovery {
 public:
  struct Hooks {
    // Compiles one cluster; throws std::invalid_argument naming the field.
    std::function<std::shared_ptr<ClusterInfo>(const envoy::config::cluster::v3::Cluster&)> compile;
    // The clusters in force (or the warming ones) changed: every bootstrap and active dynamic cluster.
    std::function<void(std::vector<std::shared_ptr<ClusterInfo>>)> publish;
    // The endpoints of an active EDS cluster changed.
    std::function<void(const std::string& cluster, std::vector<ClusterInfo::Target>)> set_hosts;
    // The ClusterLoadAssignment names to subscribe to now (sorted).
    std::function<void(const std::vector<std::string>&)> want_endpoints;
    // Runs once, when initialization ends.
    std::function<void()> initialized;
  };
  ClusterDiscovery(boost::asio::io_context& main, observe::StatsStore& stats, Hooks hooks);
  ~ClusterDiscovery();
  ClusterDiscovery(const ClusterDiscovery&) = delete;
  ClusterDiscovery& operator=(const ClusterDiscovery&) = delete;

  // The bootstrap's clusters, published at once. With `cds`, initialization also waits for the
  // first CDS response (at most `cds_timeout`; 0: for ever).
  void start(std::vector<std::shared_ptr<ClusterInfo>> bootstrap_clusters, bool cds, std::chrono::milliseconds cds_timeout);
  // The bootstrap's clusters recompiled (new TLS material); the dynamic ones stay.
  void replaceBootstrap(std::vector<std::shared_ptr<ClusterInfo>> bootstrap_clusters);

  // One CDS / EDS response; nullopt accepts it, an error message rejects it (NACK).
  std::optional<std::string> onClusters(const std::string& version, const std::vector<google::protobuf::Any>& resources);
  std::optional<std::string> onEndpoints(const std::string& version, const std::vector<google::protobuf::Any>& resources);

  bool initialized() const noexcept { return initialized_; }
  // Cluster `name` came with CDS and still warms, with no older form in force.
  bool warmingOnly(const std::string& name) const { return warming_.count(name) && !active_.count(name); }
  size_t activeCount() const noexcept { return active_.size(); }
  size_t warmingCount() const noexcept { return warming_.size(); }
  void dump(envoy::admin::v3::ClustersConfigDump& clusters, envoy::admin::v3::EndpointsConfigDump& endpoints) const;

 private:
  struct Dynamic {
    std::shared_ptr<ClusterInfo> info;
    std::string bytes;  // canonical bytes of the Cluster
    std::string version;
    std::chrono::system_clock::time_point last_updated;
    std::unique_ptr<boost::asio::steady_timer> timer;  // warming: initial_fetch_timeout
  };
  struct Assignment {
    envoy::config::endpoint::v3::ClusterLoadAssignment config;
    std::string bytes;
    std::vector<ClusterInfo::Target> targets;
    std::string version;
    std::chrono::system_clock::time_point last_updated;
  };

  // Moves warming cluster `name` into the active set (with the hosts known for it, if any).
  void activate(const std::string& name);
  void startTimer(std::unique_ptr<boost::asio::steady_timer>& timer, std::chrono::milliseconds after,
                  std::function<void()> fire);
  void publish();
  void updateSubscription();
  void checkInitialized();
  void updateGauges();

  boost::asio::io_context& main_;
  observe::StatsStore& stats_;
  Hooks hooks_;
  std::vector<std::shared_ptr<ClusterInfo>> bootstrap_;
  std::chrono::system_clock::time_point bootstrap_time_ = std::chrono::system_clock::now();
  std::map<std::string, Dynamic> active_;
  std::map<std::string, Dynamic> warming_;
  std::map<std::string, Assignment> assignments_;  // by ClusterLoadAssignment name
  // Bootstrap EDS clusters still waiting for their first assignment (initialization only).
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> bootstrap_pending_;
  std::unique_ptr<boost::asio::steady_timer> cds_timer_;
  std::vector<std::string> subscribed_;
  std::string cds_version_;
  bool cds_waiting_ = false;  // the first CDS response has not arrived (nor timed out)
  bool started_ = false;
  bool initialized_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  observe::Counter *update_attempt_, *update_success_, *update_rejected_, *cluster_added_, *cluster_modified_,
      *cluster_removed_;
  observe::Gauge *version_, *active_clusters_, *warming_clusters_;
};

}  // namespace monomesh::proxy
