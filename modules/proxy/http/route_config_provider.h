// RDS as the HTTP connection managers see it. One RouteConfigProvider per route_config_name,
// shared by every HCM naming it: the latest RouteConfiguration is compiled once on the main
// context and published to every worker (SnapshotSlot), so a request reads its worker's copy
// without a lock and keeps the table it started with. RouteConfigProviders is the registry the
// listener compiler asks and the place RDS responses are applied: all or nothing, the previous
// tables stay in force on any error. A route configuration that sends traffic to a cluster CDS
// has just added and that still warms (waits for its endpoints) is held back until that cluster
// is in force: published at once it would answer 503 (no cluster) in between, because the
// control plane sends the routes right behind the cluster, not after its endpoints arrived.
#pragma once
#include <google/protobuf/any.pb.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "envoy/config/route/v3/route.pb.h"
#include "observe/stats_store.h"
#include "proxy/http/route_table.h"
#include "runtime/snapshot_slot.h"

namespace monomesh::proxy {

// Envoy's http.<stat_prefix>.rds.<route_config_name>.* (the prefix of the first HCM naming it).
struct RdsStats {
  observe::Counter *config_reload, *update_attempt, *update_success, *update_rejected, *update_empty;
  observe::Gauge* version;
  RdsStats(observe::StatsStore& store, const std::string& stat_prefix, const std::string& name);
};

class RouteConfigProvider {
 public:
  RouteConfigProvider(runtime::Runtime& runtime, std::string name, RdsStats stats)
      : name_(std::move(name)), stats_(stats), slot_(runtime) {}

  const std::string& name() const noexcept { return name_; }
  // Worker `index`: the table that worker serves (null until the first RouteConfiguration).
  const std::shared_ptr<const RouteTable>& onWorker(size_t index) const { return slot_.onWorker(index); }

  // Main context.
  bool received() const noexcept { return received_; }
  const std::string& version() const noexcept { return version_; }
  const envoy::config::route::v3::RouteConfiguration& config() const noexcept { return config_; }
  std::chrono::system_clock::time_point lastUpdated() const noexcept { return last_updated_; }
  const std::shared_ptr<const RouteTable>& latest() const { return slot_.latest(); }

 private:
  friend class RouteConfigProviders;
  std::string name_;
  RdsStats stats_;
  runtime::SnapshotSlot<RouteTable> slot_;
  bool received_ = false;
  std::string version_;
  std::string bytes_;  // canonical bytes of config_: an identical resend changes nothing
  envoy::config::route::v3::RouteConfiguration config_;
  std::chrono::system_clock::time_point last_updated_{};
  // Accepted, but waiting for new clusters it routes to (a newer response replaces it).
  struct Held {
    std::shared_ptr<const RouteTable> table;
    envoy::config::route::v3::RouteConfiguration config;
    std::string bytes, version;
    std::set<std::string> clusters;  // every cluster it routes to
  };
  std::optional<Held> held_;
};

class RouteConfigProviders {
 public:
  // Without a runtime RDS is unavailable (no ADS in the bootstrap): get() then throws.
  RouteConfigProviders(runtime::Runtime* runtime, observe::StatsStore& stats) : runtime_(runtime), stats_(stats) {}
  // Tells whether cluster `name` is new and still warming (CDS); without it nothing is held.
  void setClusterWarming(std::function<bool(const std::string&)> warming) { cluster_warming_ = std::move(warming); }

  // The provider for `name`, made on first use (its stats under `stat_prefix`). Throws
  // std::invalid_argument when RDS is unavailable.
  std::shared_ptr<const RouteConfigProvider> get(const std::string& name, const std::string& stat_prefix);
  // Forgets the providers not named here (HCMs still holding one keep its last table).
  void retain(const std::set<std::string>& names);
  std::vector<std::string> names() const;
  bool has(const std::string& name) const { return providers_.count(name) != 0; }
  bool received(const std::string& name) const;
  const std::map<std::string, std::shared_ptr<RouteConfigProvider>>& all() const noexcept { return providers_; }

  // Applies one RDS response: every RouteConfiguration compiles or none is used (the error names
  // the route configuration and the field). Route configurations nobody asked for are skipped.
  // `arrived` lists those published for the first time or changed.
  std::optional<std::string> apply(const std::string& version, const std::vector<google::protobuf::Any>& resources,
                                   std::vector<std::string>& arrived);
  // Clusters went into force (or away): publishes the held route configurations that wait for
  // none of them any more, listing them in `arrived`.
  void applyHeld(std::vector<std::string>& arrived);

 private:
  // Puts a compiled route configuration in force on every worker.
  static void publish(const std::shared_ptr<RouteConfigProvider>& provider, std::shared_ptr<const RouteTable> table,
                      envoy::config::route::v3::RouteConfiguration config, std::string bytes, const std::string& version,
                      std::vector<std::string>& arrived);
  bool waitsForClusters(const std::set<std::string>& clusters) const;

  runtime::Runtime* runtime_;
  observe::StatsStore& stats_;
  std::function<bool(const std::string&)> cluster_warming_;
  std::map<std::string, std::shared_ptr<RouteConfigProvider>> providers_;
};

}  // namespace monomesh::proxy
