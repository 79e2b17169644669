// Prometheus-style metrics: counters, gauges and histograms in labelled families. Updates are
// cheap and contention-free from any runtime thread (metric_cells.h); /metrics merges them.
// Hot paths look a labelled series up once and keep the reference.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "observe/metric_cells.h"

namespace monomesh::observe {

class Counter {
 public:
  Counter(MetricCells& cells) : cells_(&cells), id_(cells.allocate(1)) {}
  void inc(uint64_t n = 1) noexcept { cells_->add(id_, n); }
  uint64_t value() const noexcept { return cells_->sum(id_); }

 private:
  MetricCells* cells_;
  uint32_t id_;
};

// inc/dec are sharded like counters; set() replaces the value and is meant for a gauge that one
// thread owns (mixing set() with inc/dec from other threads has no useful meaning).
class Gauge {
 public:
  Gauge(MetricCells& cells) : cells_(&cells), id_(cells.allocate(1)) {}
  void inc(int64_t n = 1) noexcept { cells_->add(id_, uint64_t(n)); }
  void dec(int64_t n = 1) noexcept { cells_->add(id_, uint64_t(-n)); }
  void set(int64_t v) noexcept;
  int64_t value() const noexcept { return base_.load(std::memory_order_relaxed) + int64_t(cells_->sum(id_)); }

 private:
  MetricCells* cells_;
  uint32_t id_;
  std::atomic<int64_t> base_{0};
};

class Histogram {
 public:
  Histogram(MetricCells& cells, const std::vector<double>& bounds);
  void observe(double value) noexcept;

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  MetricCells* cells_;
  const std::vector<double>* bounds_;
  uint32_t first_;  // buckets (bounds + 1), then count, then sum
};

enum class MetricType { Counter, Gauge, Histogram };

// Label values of one series, in the family's label-name order.
using LabelValues = std::vector<std::string>;

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> labels)
      : name_(std::move(name)), help_(std::move(help)), type_(type), labels_(std::move(labels)) {}
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& labelNames() const { return labels_; }

 protected:
  void checkArity(size_t n) const;
  std::string name_, help_;
  MetricType type_;
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;
};

template <class M>
class Family final : public FamilyBase {
 public:
  template <class... Extra>
  Family(MetricCells& cells, std::string name, std::string help, MetricType type,
         std::vector<std::string> labels, Extra... extra)
      : FamilyBase(std::move(name), std::move(help), type, std::move(labels)),
        cells_(cells),
        make_([&cells, extra...] { return std::make_unique<M>(cells, extra...); }) {}

  // The series with these label values, created on first use. The reference stays valid.
  M& with(std::initializer_list<std::string_view> values) {
    return with(LabelValues(values.begin(), values.end()));
  }
  M& with(const LabelValues& values) {
    checkArity(values.size());
    std::lock_guard lock(mutex_);
    auto& slot = series_[values];
    if (!slot) slot = make_();
    return *slot;
  }

  // Visits every series in label order (for rendering).
  void forEach(const std::function<void(const LabelValues&, const M&)>& fn) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, metric] : series_) fn(values, *metric);
  }

 private:
  MetricCells& cells_;
  std::function<std::unique_ptr<M>()> make_;
  std::map<LabelValues, std::unique_ptr<M>> series_;
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;

  // The process-wide registry that /metrics serves.
  static MetricsRegistry& global();

  // Returns the existing family when one of the same name, type and labels exists; a name clash
  // with a different shape, or an invalid name, throws std::invalid_argument.
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> labels = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> labels = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> labels, std::vector<double> bounds);

  // A gauge computed when scraped (e.g. resident memory).
  void callbackGauge(const std::string& name, const std::string& help, std::function<double()> fn);

  // Visits families sorted by name.
  void forEachFamily(const std::function<void(const FamilyBase&)>& fn) const;
  void forEachCallback(const std::function<void(const std::string& name, const std::string& help,
                                                double value)>& fn) const;

 private:
  FamilyBase* find(const std::string& name, MetricType type, const std::vector<std::string>& labels);

  // Registers (or finds) a family of counters or gauges.
  template <class M>
  Family<M>& family(const std::string& name, const std::string& help, MetricType type,
                    std::vector<std::string> labels) {
    checkNames(name, labels);
    std::lock_guard lock(mutex_);
    if (auto* f = find(name, type, labels)) return static_cast<Family<M>&>(*f);
    return addFamily<M>(name, help, type, std::move(labels));
  }

  // Call with mutex_ held.
  template <class M, class... Extra>
  Family<M>& addFamily(const std::string& name, const std::string& help, MetricType type,
                       std::vector<std::string> labels, Extra... extra) {
    auto created = std::make_unique<Family<M>>(cells_, name, help, type, std::move(labels), extra...);
    auto& ref = *created;
    families_.emplace(name, std::move(created));
    return ref;
  }
  static void checkNames(const std::string& name, const std::vector<std::string>& labels);

  MetricCells cells_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
  std::list<std::vector<double>> bounds_storage_;
  struct Callback {
    std::string help;
    std::function<double()> fn;
  };
  std::map<std::string, Callback> callbacks_;
};

// Buckets for latencies in milliseconds, as Istio's request-duration histograms use.
const std::vector<double>& latencyBucketsMs();

}  // namespace monomesh::observe
