#include "observe/stats_store.h"

namespace monomesh::observe {

Counter& StatsStore::counter(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = counters_[name];
  if (!slot) slot = std::make_unique<Counter>(cells_);
  return *slot;
}

Gauge& StatsStore::gauge(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = gauges_[name];
  if (!slot) slot = std::make_unique<Gauge>(cells_);
  return *slot;
}

std::map<std::string, int64_t> StatsStore::values() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, int64_t> out;
  for (const auto& [name, c] : counters_) out[name] = int64_t(c->value());
  for (const auto& [name, g] : gauges_) out[name] = g->value();
  return out;
}

std::string StatsStore::renderText(const std::function<bool(const std::string&)>& keep) const {
  std::string out;
  for (const auto& [name, value] : values()) {
    if (keep && !keep(name)) continue;
    out += name + ": " + std::to_string(value) + "\n";
  }
  return out;
}

std::string StatsStore::renderPrometheus() const {
  std::string out;
  auto promName = [](const std::string& name) {
    std::string n = "envoy_";
    for (char c : name) n += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
    return n;
  };
  std::lock_guard lock(mutex_);
  for (const auto& [name, c] : counters_) {
    std::string n = promName(name);
    out += "# TYPE " + n + " counter\n" + n + " " + std::to_string(c->value()) + "\n";
  }
  for (const auto& [name, g] : gauges_) {
    std::string n = promName(name);
    out += "# TYPE " + n + " gauge\n" + n + " " + std::to_string(g->value()) + "\n";
  }
  return out;
}

}  // namespace monomesh::observe
