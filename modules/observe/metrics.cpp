#include "observe/metrics.h"

#include <algorithm>
#include <stdexcept>

namespace monomesh::observe {

void Gauge::set(int64_t v) noexcept {
  // Fold the shards into the base so that value() == v afterwards.
  base_.store(v - int64_t(cells_->sum(id_)), std::memory_order_relaxed);
}

Histogram::Histogram(MetricCells& cells, const std::vector<double>& bounds)
    : cells_(&cells), bounds_(&bounds), first_(cells.allocate(uint32_t(bounds.size()) + 3)) {}

void Histogram::observe(double value) noexcept {
  const auto& b = *bounds_;
  size_t bucket = size_t(std::lower_bound(b.begin(), b.end(), value) - b.begin());
  uint32_t n = uint32_t(b.size());
  cells_->add(first_ + uint32_t(bucket), 1);
  cells_->add(first_ + n + 1, 1);
  cells_->addDouble(first_ + n + 2, value);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  uint32_t n = uint32_t(bounds_->size());
  uint64_t running = 0;
  for (uint32_t i = 0; i <= n; ++i) {
    running += cells_->sum(first_ + i);
    s.cumulative.push_back(running);
  }
  // Count is the +Inf bucket, so a scrape racing an observe() never shows count < buckets.
  s.count = running;
  s.sum = cells_->sumDouble(first_ + n + 2);
  return s;
}

void FamilyBase::checkArity(size_t n) const {
  if (n != labels_.size())
    throw std::invalid_argument("metric " + name_ + " takes " + std::to_string(labels_.size()) +
                                " label values, got " + std::to_string(n));
}

MetricsRegistry& MetricsRegistry::global() {
  static MetricsRegistry registry;
  return registry;
}

void MetricsRegistry::checkNames(const std::string& name, const std::vector<std::string>& labels) {
  auto valid = [](const std::string& s, bool colon) {
    if (s.empty()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
                (i > 0 && c >= '0' && c <= '9');
      if (!ok) return false;
    }
    return true;
  };
  if (!valid(name, true)) throw std::invalid_argument("invalid metric name \"" + name + "\"");
  for (const auto& l : labels) {
    if (!valid(l, false) || l.rfind("__", 0) == 0)
      throw std::invalid_argument("invalid label name \"" + l + "\" on metric " + name);
  }
}

FamilyBase* MetricsRegistry::find(const std::string& name, MetricType type,
                                  const std::vector<std::string>& labels) {
  if (callbacks_.count(name)) throw std::invalid_argument("metric " + name + " is already registered as a callback gauge");
  auto it = families_.find(name);
  if (it == families_.end()) return nullptr;
  if (it->second->type() != type || it->second->labelNames() != labels)
    throw std::invalid_argument("metric " + name + " is already registered with another type or labels");
  return it->second.get();
}

Family<Counter>& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels) {
  return family<Counter>(name, help, MetricType::Counter, std::move(labels));
}

Family<Gauge>& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  return family<Gauge>(name, help, MetricType::Gauge, std::move(labels));
}

Family<Histogram>& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                              std::vector<std::string> labels,
                                              std::vector<double> bounds) {
  checkNames(name, labels);
  if (std::find(labels.begin(), labels.end(), "le") != labels.end())
    throw std::invalid_argument("histogram " + name + " may not use the label \"le\"");
  if (!std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end())
    throw std::invalid_argument("histogram " + name + " needs strictly increasing bounds");
  std::lock_guard lock(mutex_);
  if (auto* f = find(name, MetricType::Histogram, labels)) return static_cast<Family<Histogram>&>(*f);
  const std::vector<double>& stored = bounds_storage_.emplace_back(std::move(bounds));
  return addFamily<Histogram>(name, help, MetricType::Histogram, std::move(labels), std::cref(stored));
}

void MetricsRegistry::callbackGauge(const std::string& name, const std::string& help,
                                    std::function<double()> fn) {
  checkNames(name, {});
  std::lock_guard lock(mutex_);
  if (families_.count(name)) throw std::invalid_argument("metric " + name + " is already registered");
  callbacks_[name] = Callback{help, std::move(fn)};
}

void MetricsRegistry::forEachFamily(const std::function<void(const FamilyBase&)>& fn) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) fn(*family);
}

void MetricsRegistry::forEachCallback(
    const std::function<void(const std::string&, const std::string&, double)>& fn) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, cb] : callbacks_) fn(name, cb.help, cb.fn());
}

const std::vector<double>& latencyBucketsMs() {
  static const std::vector<double> buckets = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
  return buckets;
}

}  // namespace monomesh::observe
