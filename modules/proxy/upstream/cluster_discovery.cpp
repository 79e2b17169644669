#include "proxy/upstream/cluster_discovery.h"

#include <algorithm>
#include <stdexcept>

#include "observe/log.h"
#include "proxy/config/proto_values.h"
#include "proxy/config/resource_diff.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace admin = envoy::admin::v3;
using envoy::config::cluster::v3::Cluster;

ClusterDiscovery::ClusterDiscovery(asio::io_context& main, observe::StatsStore& stats, Hooks hooks)
    : main_(main), stats_(stats), hooks_(std::move(hooks)) {
  update_attempt_ = &stats.counter("cluster_manager.cds.update_attempt");
  update_success_ = &stats.counter("cluster_manager.cds.update_success");
  update_rejected_ = &stats.counter("cluster_manager.cds.update_rejected");
  cluster_added_ = &stats.counter("cluster_manager.cluster_added");
  cluster_modified_ = &stats.counter("cluster_manager.cluster_modified");
  cluster_removed_ = &stats.counter("cluster_manager.cluster_removed");
  version_ = &stats.gauge("cluster_manager.cds.version");
  active_clusters_ = &stats.gauge("cluster_manager.active_clusters");
  warming_clusters_ = &stats.gauge("cluster_manager.warming_clusters");
}

ClusterDiscovery::~ClusterDiscovery() { *alive_ = false; }

void ClusterDiscovery::startTimer(std::unique_ptr<asio::steady_timer>& timer, std::chrono::milliseconds after,
                                  std::function<void()> fire) {
  if (after.count() <= 0) return;  // 0: wait for ever
  timer = std::make_unique<asio::steady_timer>(main_, after);
  timer->async_wait([alive = std::weak_ptr<bool>(alive_), fire = std::move(fire)](boost::system::error_code ec) {
    auto live = alive.lock();
    if (ec || !live || !*live) return;
    fire();
  });
}

void ClusterDiscovery::start(std::vector<std::shared_ptr<ClusterInfo>> bootstrap_clusters, bool cds,
                             std::chrono::milliseconds cds_timeout) {
  started_ = true;
  bootstrap_ = std::move(bootstrap_clusters);
  for (const auto& info : bootstrap_) {
    if (info->type != ClusterInfo::Type::Eds) continue;
    auto& timer = bootstrap_pending_[info->edsName()];
    std::string eds_name = info->edsName();
    startTimer(timer, info->eds_initial_fetch_timeout, [this, eds_name] {
      observe::logScope("xds").warn("no endpoints for {} within initial_fetch_timeout; serving it without hosts", eds_name);
      bootstrap_pending_.erase(eds_name);
      checkInitialized();
    });
  }
  if (cds) {
    cds_waiting_ = true;
    startTimer(cds_timer_, cds_timeout, [this] {
      observe::logScope("xds").warn("no CDS response within initial_fetch_timeout; going on without dynamic clusters");
      cds_waiting_ = false;
      checkInitialized();
    });
  }
  publish();
  updateSubscription();
  checkInitialized();
}

void ClusterDiscovery::replaceBootstrap(std::vector<std::shared_ptr<ClusterInfo>> bootstrap_clusters) {
  bootstrap_ = std::move(bootstrap_clusters);
  publish();
}

std::optional<std::string> ClusterDiscovery::onClusters(const std::string& version,
                                                        const std::vector<google::protobuf::Any>& resources) {
  update_attempt_->inc();
  auto reject = [this](std::string why) {
    update_rejected_->inc();
    return std::optional<std::string>(std::move(why));
  };
  std::set<std::string> fixed;
  for (const auto& info : bootstrap_) fixed.insert(info->name);
  std::map<std::string, Cluster> next;
  std::map<std::string, std::string> next_bytes;
  for (size_t i = 0; i < resources.size(); ++i) {
    Cluster cluster;
    if (!resources[i].UnpackTo(&cluster))
      return reject("resources[" + std::to_string(i) + "]: not an envoy.config.cluster.v3.Cluster (" + resources[i].type_url() + ")");
    if (cluster.name().empty()) return reject("resources[" + std::to_string(i) + "]: a cluster without a name");
    std::string name = cluster.name();
    if (fixed.count(name)) {
      observe::logScope("xds").warn("CDS cluster {} has the name of a bootstrap cluster; the bootstrap one stays", name);
      continue;
    }
    if (next.count(name)) return reject("cluster \"" + name + "\": sent twice in one response");
    next_bytes[name] = canonicalBytes(cluster);
    next.emplace(name, std::move(cluster));
  }
  std::map<std::string, std::string> current;
  for (const auto& [name, d] : active_) current[name] = d.bytes;
  for (const auto& [name, d] : warming_) current[name] = d.bytes;  // the newest form of each
  ResourceDiff diff = diffResources(current, next_bytes);

  // Compile everything first: one bad cluster rejects the whole response.
  std::map<std::string, std::shared_ptr<ClusterInfo>> compiled;
  for (const auto* names : {&diff.added, &diff.updated}) {
    for (const auto& name : *names) {
      try {
        compiled[name] = hooks_.compile(next.at(name));
      } catch (const std::exception& e) {
        return reject("cluster \"" + name + "\": " + e.what());
      }
    }
  }

  bool changed = false;
  auto now = std::chrono::system_clock::now();
  for (const auto& name : diff.removed) {
    active_.erase(name);
    warming_.erase(name);
    changed = true;  // also when it only warmed: routes held for it wait no more
    cluster_removed_->inc();
    observe::logScope("xds").info("cluster {} removed", name);
  }
  for (auto& [name, info] : compiled) {
    bool added = !current.count(name);
    (added ? cluster_added_ : cluster_modified_)->inc();
    Dynamic d;
    d.info = info;
    d.bytes = next_bytes.at(name);
    d.version = version;
    d.last_updated = now;
    warming_.erase(name);
    auto& w = warming_.emplace(name, std::move(d)).first->second;
    if (info->type != ClusterInfo::Type::Eds || assignments_.count(info->edsName())) {
      activate(name);
      changed = true;
      continue;
    }
    std::string cluster = name;
    startTimer(w.timer, info->eds_initial_fetch_timeout, [this, cluster] {
      observe::logScope("xds").warn("cluster {}: no endpoints within initial_fetch_timeout; using it without hosts", cluster);
      activate(cluster);
      publish();
      updateSubscription();
      checkInitialized();
    });
    observe::logScope("xds").info("cluster {} warming: waiting for the endpoints of {}", name, info->edsName());
  }
  for (const auto& name : diff.unchanged) {  // the version they were last sent with
    if (auto it = active_.find(name); it != active_.end()) it->second.version = version;
    if (auto it = warming_.find(name); it != warming_.end()) it->second.version = version;
  }
  cds_version_ = version;
  cds_waiting_ = false;
  cds_timer_.reset();
  update_success_->inc();
  version_->set(versionStat(version));
  if (changed) publish();
  updateSubscription();
  updateGauges();
  checkInitialized();
  return std::nullopt;
}

std::optional<std::string> ClusterDiscovery::onEndpoints(const std::string& version,
                                                         const std::vector<google::protobuf::Any>& resources) {
  std::map<std::string, Assignment> next;
  for (size_t i = 0; i < resources.size(); ++i) {
    Assignment a;
    if (!resources[i].UnpackTo(&a.config))
      return "resources[" + std::to_string(i) + "]: not an envoy.config.endpoint.v3.ClusterLoadAssignment (" +
             resources[i].type_url() + ")";
    std::string name = a.config.cluster_name();
    if (name.empty()) return "resources[" + std::to_string(i) + "]: a ClusterLoadAssignment without cluster_name";
    if (next.count(name)) return "cluster load assignment \"" + name + "\": sent twice in one response";
    if (!std::binary_search(subscribed_.begin(), subscribed_.end(), name)) continue;  // not asked for
    try {
      a.targets = compileLoadAssignment(a.config, true, "");
    } catch (const std::exception& e) {
      return "cluster load assignment \"" + name + "\": " + e.what();
    }
    a.bytes = canonicalBytes(a.config);
    a.version = version;
    next.emplace(name, std::move(a));
  }
  bool changed = false;
  auto now = std::chrono::system_clock::now();
  for (auto& [name, a] : next) {
    auto old = assignments_.find(name);
    bool same = old != assignments_.end() && old->second.bytes == a.bytes;
    a.last_updated = same ? old->second.last_updated : now;
    assignments_[name] = std::move(a);
    bootstrap_pending_.erase(name);
    const auto& targets = assignments_[name].targets;
    std::vector<std::string> ready;
    for (const auto& [cluster, w] : warming_)
      if (w.info->edsName() == name) ready.push_back(cluster);
    for (const auto& cluster : ready) {
      activate(cluster);
      changed = true;
    }
    if (same) continue;
    for (const auto& info : bootstrap_)
      if (info->type == ClusterInfo::Type::Eds && info->edsName() == name) hooks_.set_hosts(info->name, targets);
    for (const auto& [cluster, d] : active_)
      if (d.info->type == ClusterInfo::Type::Eds && d.info->edsName() == name &&
          std::find(ready.begin(), ready.end(), cluster) == ready.end()) {
        hooks_.set_hosts(cluster, targets);
        stats_.counter("cluster." + cluster + ".update_success").inc();
      }
  }
  if (changed) {
    publish();
    updateSubscription();  // a replaced cluster's old assignment may be needed no more
  }
  updateGauges();
  checkInitialized();
  return std::nullopt;
}

void ClusterDiscovery::activate(const std::string& name) {
  auto it = warming_.find(name);
  if (it == warming_.end()) return;
  Dynamic d = std::move(it->second);
  warming_.erase(it);
  d.timer.reset();
  if (d.info->type == ClusterInfo::Type::Eds) {
    // A new EDS cluster starts with the endpoints known for it (none before they arrive).
    auto a = assignments_.find(d.info->edsName());
    d.info->targets = a == assignments_.end() ? std::vector<ClusterInfo::Target>{} : a->second.targets;
  }
  active_[name] = std::move(d);
  observe::logScope("xds").info("cluster {} active", name);
  updateGauges();
}

void ClusterDiscovery::publish() {
  std::vector<std::shared_ptr<ClusterInfo>> all = bootstrap_;
  for (const auto& [name, d] : active_) all.push_back(d.info);
  hooks_.publish(std::move(all));
}

void ClusterDiscovery::updateSubscription() {
  std::set<std::string> names;
  for (const auto& info : bootstrap_)
    if (info->type == ClusterInfo::Type::Eds) names.insert(info->edsName());
  for (const auto* set : {&active_, &warming_})
    for (const auto& [name, d] : *set)
      if (d.info->type == ClusterInfo::Type::Eds) names.insert(d.info->edsName());
  std::vector<std::string> wanted(names.begin(), names.end());
  if (wanted == subscribed_) return;
  subscribed_ = wanted;
  // Assignments nobody asks for any more are forgotten.
  std::erase_if(assignments_, [&names](const auto& entry) { return !names.count(entry.first); });
  hooks_.want_endpoints(wanted);
}

void ClusterDiscovery::updateGauges() {
  active_clusters_->set(int64_t(bootstrap_.size() + active_.size()));
  warming_clusters_->set(int64_t(warming_.size()));
}

void ClusterDiscovery::checkInitialized() {
  if (initialized_ || !started_ || cds_waiting_ || !warming_.empty() || !bootstrap_pending_.empty()) return;
  initialized_ = true;
  observe::logScope("xds").info("clusters initialized: {} bootstrap, {} dynamic", bootstrap_.size(), active_.size());
  if (hooks_.initialized) hooks_.initialized();
}

void ClusterDiscovery::dump(admin::ClustersConfigDump& clusters, admin::EndpointsConfigDump& endpoints) const {
  clusters.set_version_info(cds_version_);
  for (const auto& info : bootstrap_) {
    auto* s = clusters.add_static_clusters();
    s->mutable_cluster()->PackFrom(info->config);
    *s->mutable_last_updated() = toTimestamp(bootstrap_time_);
    if (info->type != ClusterInfo::Type::Eds && info->config.has_load_assignment()) {
      auto* e = endpoints.add_static_endpoint_configs();
      auto la = info->config.load_assignment();
      if (la.cluster_name().empty()) la.set_cluster_name(info->name);
      e->mutable_endpoint_config()->PackFrom(la);
      *e->mutable_last_updated() = toTimestamp(bootstrap_time_);
    }
  }
  auto fill = [](admin::ClustersConfigDump::DynamicCluster* out, const Dynamic& d) {
    out->set_version_info(d.version);
    out->mutable_cluster()->PackFrom(d.info->config);
    *out->mutable_last_updated() = toTimestamp(d.last_updated);
  };
  for (const auto& [name, d] : active_) fill(clusters.add_dynamic_active_clusters(), d);
  for (const auto& [name, d] : warming_) fill(clusters.add_dynamic_warming_clusters(), d);
  for (const auto& [name, a] : assignments_) {
    auto* e = endpoints.add_dynamic_endpoint_configs();
    e->set_version_info(a.version);
    e->mutable_endpoint_config()->PackFrom(a.config);
    *e->mutable_last_updated() = toTimestamp(a.last_updated);
  }
}

}  // namespace monomesh::proxy
