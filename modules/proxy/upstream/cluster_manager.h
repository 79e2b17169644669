// The clusters of a proxy, kept on the main context: their compiled settings, their current
// hosts (static, or re-resolved by DNS every dns_refresh_rate), and the immutable
// UpstreamSnapshot published to every worker whenever any of it changes.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "proxy/upstream/cluster.h"
#include "runtime/runtime.h"
#include "runtime/snapshot_slot.h"

namespace monomesh::proxy {

struct ClusterEntry {
  std::shared_ptr<const ClusterInfo> info;
  std::shared_ptr<const HostSet> hosts;
};

// Lets a std::string-keyed map be searched with a string_view (no allocation per request).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct UpstreamSnapshot {
  std::unordered_map<std::string, ClusterEntry, StringHash, std::equal_to<>> clusters;
  const ClusterEntry* find(std::string_view name) const {
    auto it = clusters.find(name);
    return it == clusters.end() ? nullptr : &it->second;
  }
};

class ClusterManager {
 public:
  explicit ClusterManager(runtime::Runtime& runtime);
  ~ClusterManager();

  // Replaces the cluster set (main context). Clusters whose config is unchanged keep their
  // hosts, breakers and stats. `ready` runs once every DNS cluster has resolved once (or failed);
  // without one, a `ready` still pending from an earlier call keeps waiting.
  void setClusters(std::vector<std::shared_ptr<ClusterInfo>> clusters, std::function<void()> ready = {});

  // EDS: replaces the hosts of an EDS cluster (a new EDS cluster starts with its `targets`).
  void setHosts(const std::string& cluster, std::vector<ClusterInfo::Target> targets);

  runtime::SnapshotSlot<UpstreamSnapshot>& slot() { return slot_; }
  std::shared_ptr<const UpstreamSnapshot> current() const { return slot_.latest(); }

 private:
  struct Managed {
    std::shared_ptr<ClusterInfo> info;
    std::shared_ptr<const HostSet> hosts;
    std::unique_ptr<boost::asio::steady_timer> dns_timer;
    std::unique_ptr<boost::asio::ip::tcp::resolver> resolver;
    bool resolved_once = false;
  };
  void resolve(const std::string& name);
  // Returns whether the host set changed.
  bool updateHosts(Managed& m, const std::vector<ClusterInfo::Target>& targets,
                   const std::vector<boost::asio::ip::tcp::endpoint>& resolved);
  void publish();
  void checkReady();

  runtime::Runtime& runtime_;
  runtime::SnapshotSlot<UpstreamSnapshot> slot_;
  std::map<std::string, Managed> clusters_;
  std::function<void()> ready_;
  uint64_t next_version_ = 1;
  bool stopped_ = false;
};

}  // namespace monomesh::proxy
