#include "proxy/listener/listener_discovery.h"

#include "observe/log.h"
#include "proxy/config/proto_values.h"
#include "proxy/config/resource_diff.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace admin = envoy::admin::v3;
using envoy::config::listener::v3::Listener;

namespace {

std::string addressText(const asio::ip::tcp::endpoint& e) { return e.address().to_string() + ":" + std::to_string(e.port()); }

// How long a listener may warm for its RDS routes: the longest initial_fetch_timeout of its
// HCMs; 0 (wait for ever) when any of them says so.
std::chrono::milliseconds warmingTimeout(const ListenerConfig& l) {
  std::chrono::milliseconds longest{0};
  bool forever = false;
  auto visit = [&](const FilterChainConfig& c) {
    if (!c.http || c.http->rds_name.empty()) return;
    if (c.http->rds_initial_fetch_timeout.count() <= 0) forever = true;
    longest = std::max(longest, c.http->rds_initial_fetch_timeout);
  };
  for (const auto& c : l.chains) visit(c);
  if (l.default_chain) visit(*l.default_chain);
  return forever ? std::chrono::milliseconds(0) : longest;
}

}  // namespace

ListenerDiscovery::ListenerDiscovery(asio::io_context& main, observe::StatsStore& stats, Hooks hooks)
    : main_(main), hooks_(std::move(hooks)) {
  update_attempt_ = &stats.counter("listener_manager.lds.update_attempt");
  update_success_ = &stats.counter("listener_manager.lds.update_success");
  update_rejected_ = &stats.counter("listener_manager.lds.update_rejected");
  listener_added_ = &stats.counter("listener_manager.listener_added");
  listener_modified_ = &stats.counter("listener_manager.listener_modified");
  listener_removed_ = &stats.counter("listener_manager.listener_removed");
  create_success_ = &stats.counter("listener_manager.listener_create_success");
  create_failure_ = &stats.counter("listener_manager.listener_create_failure");
  version_ = &stats.gauge("listener_manager.lds.version");
  total_active_ = &stats.gauge("listener_manager.total_listeners_active");
  total_warming_ = &stats.gauge("listener_manager.total_listeners_warming");
  total_draining_ = &stats.gauge("listener_manager.total_listeners_draining");
}

ListenerDiscovery::~ListenerDiscovery() { *alive_ = false; }

bool ListenerDiscovery::routesReady(const ListenerConfig& config) const {
  for (const auto& name : config.rdsNames())
    if (!hooks_.routes_ready(name)) return false;
  return true;
}

std::set<std::string> ListenerDiscovery::wantedRoutes() const {
  std::set<std::string> out;
  for (const auto* set : {&active_, &warming_})
    for (const auto& [name, e] : *set) out.merge(e.config->rdsNames());
  return out;
}

void ListenerDiscovery::start(std::vector<std::shared_ptr<const ListenerConfig>> bootstrap, bool lds,
                              std::chrono::milliseconds lds_timeout) {
  started_ = true;
  ListenerChange change;
  auto now = std::chrono::system_clock::now();
  for (auto& config : bootstrap) {
    Entry e;
    e.bytes = canonicalBytes(config->config);
    e.last_updated = now;
    e.bootstrap = true;
    e.config = std::move(config);
    std::string name = e.config->name;
    warm(name, std::move(e), change);
  }
  if (lds) {
    lds_waiting_ = true;
    lds_timer_ = std::make_unique<asio::steady_timer>(main_, lds_timeout);
    if (lds_timeout.count() > 0)
      lds_timer_->async_wait([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
        auto live = alive.lock();
        if (ec || !live || !*live) return;
        observe::logScope("xds").warn("no LDS response within initial_fetch_timeout; going on without dynamic listeners");
        lds_waiting_ = false;
        checkInitialized();
      });
  }
  hooks_.want_routes(wantedRoutes());
  commit(change);
  checkInitialized();
}

void ListenerDiscovery::replaceBootstrap(std::vector<std::shared_ptr<const ListenerConfig>> bootstrap) {
  for (auto& config : bootstrap) {
    for (auto* set : {&active_, &warming_}) {
      auto it = set->find(config->name);
      if (it != set->end() && it->second.bootstrap) it->second.config = config;
    }
  }
  ListenerChange change;  // same sockets, new contexts; open connections keep theirs
  commit(change, true);
}

void ListenerDiscovery::warm(const std::string& name, Entry entry, ListenerChange& change) {
  auto timeout = warmingTimeout(*entry.config);
  warming_.erase(name);
  auto& w = warming_.emplace(name, std::move(entry)).first->second;
  if (routesReady(*w.config)) {
    activate(name, change);
    return;
  }
  observe::logScope("xds").info("listener {} warming: waiting for its RDS routes", name);
  if (timeout.count() <= 0) return;
  w.timer = std::make_unique<asio::steady_timer>(main_, timeout);
  w.timer->async_wait([this, name, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
    auto live = alive.lock();
    if (ec || !live || !*live) return;
    observe::logScope("xds").warn("listener {}: RDS routes did not arrive within initial_fetch_timeout; serving without them",
                                  name);
    ListenerChange later;
    activate(name, later);
    commit(later);
    checkInitialized();
  });
}

void ListenerDiscovery::activate(const std::string& name, ListenerChange& change) {
  auto it = warming_.find(name);
  if (it == warming_.end()) return;
  Entry e = std::move(it->second);
  warming_.erase(it);
  e.timer.reset();
  auto old = active_.find(name);
  if (old == active_.end()) {
    change.added.push_back(e.config);
  } else {
    change.drained.push_back(old->second.config);  // same socket: new connections get the new form
    if (!old->second.bootstrap) draining_.emplace(name, std::move(old->second));
  }
  active_[name] = std::move(e);
}

void ListenerDiscovery::commit(ListenerChange& change, bool force) {
  if (!force && change.added.empty() && change.drained.empty() && change.closed.empty()) return;
  for (const auto& [name, e] : active_) change.active.push_back(e.config);
  auto failed = hooks_.apply(change);
  for (const auto& name : failed) active_.erase(name);
  create_failure_->inc(failed.size());
  if (change.added.size() > failed.size()) create_success_->inc(change.added.size() - failed.size());
  updateGauges();
}

std::string ListenerDiscovery::checkAddresses(const std::vector<std::shared_ptr<const ListenerConfig>>& next) {
  std::map<asio::ip::tcp::endpoint, std::string> bound;
  for (const auto& config : next) {
    if (!config->bind_to_port || config->address.port() == 0) continue;
    auto [it, fresh] = bound.emplace(config->address, config->name);
    if (!fresh)
      return "listener \"" + config->name + "\": address " + addressText(config->address) +
             " is already used by listener \"" + it->second + "\"";
  }
  return {};
}

std::optional<std::string> ListenerDiscovery::onListeners(const std::string& version,
                                                          const std::vector<google::protobuf::Any>& resources) {
  update_attempt_->inc();
  auto reject = [this](std::string why) {
    update_rejected_->inc();
    hooks_.want_routes(wantedRoutes());  // forget route configurations only the rejected listeners named
    return std::optional<std::string>(std::move(why));
  };
  std::map<std::string, Listener> next;
  std::map<std::string, std::string> next_bytes;
  for (size_t i = 0; i < resources.size(); ++i) {
    Listener listener;
    if (!resources[i].UnpackTo(&listener))
      return reject("resources[" + std::to_string(i) + "]: not an envoy.config.listener.v3.Listener (" + resources[i].type_url() + ")");
    if (listener.name().empty()) return reject("resources[" + std::to_string(i) + "]: a listener without a name");
    std::string name = listener.name();
    auto fixed = active_.find(name);
    if ((fixed != active_.end() && fixed->second.bootstrap) || (warming_.count(name) && warming_.at(name).bootstrap)) {
      observe::logScope("xds").warn("LDS listener {} has the name of a bootstrap listener; the bootstrap one stays", name);
      continue;
    }
    if (next.count(name)) return reject("listener \"" + name + "\": sent twice in one response");
    next_bytes[name] = canonicalBytes(listener);
    next.emplace(name, std::move(listener));
  }
  std::map<std::string, std::string> current;
  std::map<std::string, std::shared_ptr<const ListenerConfig>> current_config;
  std::vector<std::shared_ptr<const ListenerConfig>> after;  // kept ones first, then the new
  for (const auto* set : {&active_, &warming_})
    for (const auto& [name, e] : *set) {
      if (e.bootstrap) {
        after.push_back(e.config);
        continue;
      }
      current[name] = e.bytes;  // warming (the newest form) overrides active
      current_config[name] = e.config;
    }
  ResourceDiff diff = diffResources(current, next_bytes);
  std::map<std::string, std::shared_ptr<const ListenerConfig>> compiled;
  for (const auto* names : {&diff.added, &diff.updated}) {
    for (const auto& name : *names) {
      try {
        compiled[name] = hooks_.compile(next.at(name));
      } catch (const std::exception& e) {
        return reject("listener \"" + name + "\": " + e.what());
      }
    }
  }
  for (const auto& name : diff.updated) {
    const auto& was = *current_config.at(name);
    const auto& now = *compiled.at(name);
    if (was.address != now.address)
      return reject("listener \"" + name + "\": address: cannot change from " + addressText(was.address) + " to " +
                    addressText(now.address) + " (add a listener with another name instead)");
    if (was.bind_to_port != now.bind_to_port) return reject("listener \"" + name + "\": bind_to_port: cannot change");
  }
  for (const auto& name : diff.unchanged) after.push_back(current_config.at(name));
  for (const auto& [name, config] : compiled) after.push_back(config);
  if (auto err = checkAddresses(after); !err.empty()) return reject(err);

  ListenerChange change;
  for (const auto& name : diff.removed) {
    if (auto it = active_.find(name); it != active_.end()) {
      change.drained.push_back(it->second.config);
      change.closed.push_back(name);
      draining_.emplace(name, std::move(it->second));
      active_.erase(it);
    }
    warming_.erase(name);
    listener_removed_->inc();
    observe::logScope("xds").info("listener {} removed", name);
  }
  auto now = std::chrono::system_clock::now();
  for (auto& [name, config] : compiled) {
    (current.count(name) ? listener_modified_ : listener_added_)->inc();
    Entry e;
    e.config = config;
    e.bytes = next_bytes.at(name);
    e.version = version;
    e.last_updated = now;
    warm(name, std::move(e), change);
  }
  for (const auto& name : diff.unchanged)
    for (auto* set : {&active_, &warming_})
      if (auto it = set->find(name); it != set->end()) it->second.version = version;
  lds_version_ = version;
  lds_waiting_ = false;
  lds_timer_.reset();
  update_success_->inc();
  version_->set(versionStat(version));
  hooks_.want_routes(wantedRoutes());
  commit(change);
  checkInitialized();
  return std::nullopt;
}

void ListenerDiscovery::onRoutes() {
  std::vector<std::string> ready;
  for (const auto& [name, e] : warming_)
    if (routesReady(*e.config)) ready.push_back(name);
  ListenerChange change;
  for (const auto& name : ready) activate(name, change);
  commit(change);
  checkInitialized();
}

void ListenerDiscovery::bindAll() {
  ListenerChange change;
  for (const auto& [name, e] : active_) change.added.push_back(e.config);
  commit(change, true);
}

void ListenerDiscovery::drained(const std::vector<std::shared_ptr<const ListenerConfig>>& configs) {
  for (const auto& config : configs)
    std::erase_if(draining_, [&config](const auto& entry) { return entry.second.config == config; });
  updateGauges();
}

void ListenerDiscovery::updateGauges() {
  total_active_->set(int64_t(active_.size()));
  total_warming_->set(int64_t(warming_.size()));
  total_draining_->set(int64_t(draining_.size()));
}

void ListenerDiscovery::checkInitialized() {
  updateGauges();
  if (initialized_ || !started_ || lds_waiting_ || !warming_.empty()) return;
  initialized_ = true;
  observe::logScope("xds").info("listeners initialized: {} in force", active_.size());
  if (hooks_.initialized) hooks_.initialized();
}

void ListenerDiscovery::dump(admin::ListenersConfigDump& out) const {
  out.set_version_info(lds_version_);
  std::map<std::string, admin::ListenersConfigDump::DynamicListener> dynamic;
  auto state = [](admin::ListenersConfigDump::DynamicListenerState* s, const Entry& e) {
    s->set_version_info(e.version);
    s->mutable_listener()->PackFrom(e.config->config);
    *s->mutable_last_updated() = toTimestamp(e.last_updated);
  };
  for (const auto* set : {&active_, &warming_}) {
    for (const auto& [name, e] : *set) {
      if (e.bootstrap) {
        auto* s = out.add_static_listeners();
        s->mutable_listener()->PackFrom(e.config->config);
        *s->mutable_last_updated() = toTimestamp(e.last_updated);
        continue;
      }
      auto& d = dynamic[name];
      d.set_name(name);
      state(set == &active_ ? d.mutable_active_state() : d.mutable_warming_state(), e);
    }
  }
  for (const auto& [name, e] : draining_) {  // the newest draining form of each name shows
    auto& d = dynamic[name];
    d.set_name(name);
    state(d.mutable_draining_state(), e);
  }
  for (auto& [name, d] : dynamic) *out.add_dynamic_listeners() = std::move(d);
}

}  // namespace monomesh::proxy
