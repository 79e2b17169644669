#include "proxy/http/route_config_provider.h"

#include <stdexcept>

#include "observe/log.h"
#include "proxy/config/resource_diff.h"
#include "proxy/http/http_filters.h"

namespace monomesh::proxy {

namespace {

// The clusters a route configuration sends requests to by name (cluster_header names one only
// per request; mirrors never decide a response).
std::set<std::string> routedClusters(const envoy::config::route::v3::RouteConfiguration& config) {
  std::set<std::string> out;
  for (const auto& vh : config.virtual_hosts()) {
    for (const auto& r : vh.routes()) {
      if (!r.has_route()) continue;
      if (!r.route().cluster().empty()) out.insert(r.route().cluster());
      for (const auto& w : r.route().weighted_clusters().clusters()) out.insert(w.name());
    }
  }
  return out;
}

}  // namespace

RdsStats::RdsStats(observe::StatsStore& s, const std::string& stat_prefix, const std::string& name) {
  auto n = [&](const char* stat) { return "http." + stat_prefix + ".rds." + name + "." + stat; };
  config_reload = &s.counter(n("config_reload"));
  update_attempt = &s.counter(n("update_attempt"));
  update_success = &s.counter(n("update_success"));
  update_rejected = &s.counter(n("update_rejected"));
  update_empty = &s.counter(n("update_empty"));
  version = &s.gauge(n("version"));
}

std::shared_ptr<const RouteConfigProvider> RouteConfigProviders::get(const std::string& name, const std::string& stat_prefix) {
  if (runtime_ == nullptr)
    throw std::invalid_argument("rds: routes from RDS need dynamic_resources.ads_config in the bootstrap");
  auto it = providers_.find(name);
  if (it != providers_.end()) return it->second;
  auto provider = std::make_shared<RouteConfigProvider>(*runtime_, name, RdsStats(stats_, stat_prefix, name));
  providers_.emplace(name, provider);
  return provider;
}

void RouteConfigProviders::retain(const std::set<std::string>& names) {
  std::erase_if(providers_, [&names](const auto& entry) { return !names.count(entry.first); });
}

std::vector<std::string> RouteConfigProviders::names() const {
  std::vector<std::string> out;
  for (const auto& [name, provider] : providers_) out.push_back(name);
  return out;
}

bool RouteConfigProviders::received(const std::string& name) const {
  auto it = providers_.find(name);
  return it != providers_.end() && it->second->received_;
}

std::optional<std::string> RouteConfigProviders::apply(const std::string& version,
                                                       const std::vector<google::protobuf::Any>& resources,
                                                       std::vector<std::string>& arrived) {
  struct Compiled {
    std::shared_ptr<RouteConfigProvider> provider;
    envoy::config::route::v3::RouteConfiguration config;
    std::string bytes;
    std::shared_ptr<const RouteTable> table;
  };
  std::vector<Compiled> next;
  std::set<std::string> seen;
  for (size_t i = 0; i < resources.size(); ++i) {
    envoy::config::route::v3::RouteConfiguration config;
    if (!resources[i].UnpackTo(&config))
      return "resources[" + std::to_string(i) + "]: not an envoy.config.route.v3.RouteConfiguration (" +
             resources[i].type_url() + ")";
    std::string name = config.name();
    if (name.empty()) return "resources[" + std::to_string(i) + "]: a route configuration without a name";
    if (!seen.insert(name).second) return "route configuration \"" + name + "\": sent twice in one response";
    auto it = providers_.find(name);
    if (it == providers_.end()) continue;  // not (or no longer) asked for
    it->second->stats_.update_attempt->inc();
    Compiled c{it->second, std::move(config), {}, nullptr};
    c.bytes = canonicalBytes(c.config);
    if (c.provider->received_ && c.bytes == c.provider->bytes_) {
      c.provider->held_.reset();  // the configuration in force is wanted again
      c.provider->version_ = version;
      c.provider->stats_.update_success->inc();
      continue;  // the same table again
    }
    try {
      c.table = RouteTable::compile(c.config, parsePerFilterConfig);
    } catch (const std::exception& e) {
      for (auto& [n, p] : providers_)
        if (seen.count(n)) p->stats_.update_rejected->inc();
      return "route configuration \"" + name + "\": " + e.what();
    }
    next.push_back(std::move(c));
  }
  if (resources.empty())
    for (auto& [n, p] : providers_) p->stats_.update_empty->inc();
  for (auto& c : next) {
    RouteConfigProvider& p = *c.provider;
    p.stats_.update_success->inc();
    p.held_.reset();
    auto clusters = routedClusters(c.config);
    if (waitsForClusters(clusters)) {
      observe::logScope("xds").info("route configuration {} version {} waits for its new clusters to warm", p.name_,
                                    version);
      p.held_ = RouteConfigProvider::Held{std::move(c.table), std::move(c.config), std::move(c.bytes), version,
                                          std::move(clusters)};
      continue;
    }
    publish(c.provider, std::move(c.table), std::move(c.config), std::move(c.bytes), version, arrived);
  }
  return std::nullopt;
}

bool RouteConfigProviders::waitsForClusters(const std::set<std::string>& clusters) const {
  if (!cluster_warming_) return false;
  for (const auto& name : clusters)
    if (cluster_warming_(name)) return true;
  return false;
}

void RouteConfigProviders::applyHeld(std::vector<std::string>& arrived) {
  for (auto& [name, provider] : providers_) {
    auto& held = provider->held_;
    if (!held || waitsForClusters(held->clusters)) continue;
    auto h = std::move(*held);
    held.reset();
    publish(provider, std::move(h.table), std::move(h.config), std::move(h.bytes), h.version, arrived);
  }
}

void RouteConfigProviders::publish(const std::shared_ptr<RouteConfigProvider>& provider,
                                   std::shared_ptr<const RouteTable> table,
                                   envoy::config::route::v3::RouteConfiguration config, std::string bytes,
                                   const std::string& version, std::vector<std::string>& arrived) {
  RouteConfigProvider& p = *provider;
  // The provider outlives the copies posted to the workers, even if no listener names it by then.
  p.slot_.publish(std::move(table), [keep = provider] {});
  p.received_ = true;
  p.version_ = version;
  p.bytes_ = std::move(bytes);
  p.config_ = std::move(config);
  p.last_updated_ = std::chrono::system_clock::now();
  p.stats_.config_reload->inc();
  p.stats_.version->set(versionStat(version));
  arrived.push_back(p.name_);
  observe::logScope("xds").info("route configuration {} version {} applied", p.name_, version);
}

}  // namespace monomesh::proxy
