// Envoy-style statistics: counters and gauges named by dotted paths
// ("cluster.backend.upstream_rq_200", "http.ingress_http.downstream_rq_total"), on the same
// contention-free per-thread cells as the Prometheus metrics. Served by the proxy's admin
// /stats (Envoy's text) and /stats/prometheus.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "observe/metrics.h"

namespace monomesh::observe {

class StatsStore {
 public:
  StatsStore() = default;
  StatsStore(const StatsStore&) = delete;

  // Created on first use; the reference stays valid for the store's life. Look up once per
  // config load, not per request.
  Counter& counter(const std::string& name);
  Gauge& gauge(const std::string& name);

  // name -> value, sorted; counters and gauges together.
  std::map<std::string, int64_t> values() const;
  // Envoy's /stats text: "name: value" lines, of the names `keep` accepts (all without it).
  std::string renderText(const std::function<bool(const std::string&)>& keep = {}) const;
  // Prometheus text with Envoy's naming: envoy_<name with '.' -> '_'>.
  std::string renderPrometheus() const;

 private:
  MetricCells cells_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
  std::map<std::string, std::unique_ptr<Gauge>> gauges_;
};

}  // namespace monomesh::observe
