#include "proxy/http/route_config_provider.h"

#include <stdexcept>

#include "observe/log.h"
#include "proxy/config/resource_diff.h"
#include "proxy/http/http_filters.h"

namespace monomesh::proxy {

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
  auto now = std::chrono::system_clock::now();
  for (auto& c : next) {
    RouteConfigProvider& p = *c.provider;
    // The provider outlives the copies posted to the workers, even if no listener names it by then.
    p.slot_.publish(std::move(c.table), [keep = c.provider] {});
    p.received_ = true;
    p.version_ = version;
    p.bytes_ = std::move(c.bytes);
    p.config_ = std::move(c.config);
    p.last_updated_ = now;
    p.stats_.config_reload->inc();
    p.stats_.update_success->inc();
    p.stats_.version->set(versionStat(version));
    arrived.push_back(p.name_);
    observe::logScope("xds").info("route configuration {} version {} applied", p.name_, version);
  }
  return std::nullopt;
}

}  // namespace monomesh::proxy
