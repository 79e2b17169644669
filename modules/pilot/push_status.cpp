#include "pilot/push_status.h"

#include "observe/metrics.h"

namespace monomesh::pilot {

namespace {

struct MetricInfo {
  std::string_view name;
  std::string_view help;
};

// Istio 1.1's names and help texts.
constexpr std::array<MetricInfo, kPushMetricCount> kMetrics = {{
    {"pilot_no_ip", "Pods not found in the endpoint table, possibly invalid."},
    {"pilot_eds_no_instances", "Number of clusters without instances."},
    {"pilot_duplicate_envoy_clusters", "Duplicate envoy clusters caused by service entries with same hostname"},
    {"pilot_destrule_subsets", "Duplicate subsets across destination rules for same host"},
    {"pilot_conflict_inbound_listener", "Number of conflicting inbound listeners."},
    {"pilot_conflict_outbound_listener_tcp_over_current_tcp",
     "Number of conflicting tcp listeners with current tcp listener."},
    {"pilot_conflict_outbound_listener_tcp_over_current_http",
     "Number of conflicting wildcard tcp listeners with current wildcard http listener."},
    {"pilot_conflict_outbound_listener_http_over_current_tcp",
     "Number of conflicting wildcard http listeners with current wildcard tcp listener."},
}};

const MetricInfo& info(PushMetric metric) { return kMetrics[size_t(metric)]; }

// The published status, read when /metrics is scraped (on whatever thread serves it).
std::mutex published_mutex;
std::shared_ptr<const PushStatus> published;

double publishedCount(PushMetric metric) {
  std::shared_ptr<const PushStatus> status;
  {
    std::lock_guard lock(published_mutex);
    status = published;
  }
  return status ? double(status->count(metric)) : 0.0;
}

}  // namespace

std::string_view pushMetricName(PushMetric metric) { return info(metric).name; }
std::string_view pushMetricHelp(PushMetric metric) { return info(metric).help; }

void PushStatus::add(PushMetric metric, std::string key, std::string_view proxy, std::string message) {
  std::lock_guard lock(mutex_);
  events_[size_t(metric)].try_emplace(std::move(key), PushEvent{std::string(proxy), std::move(message)});
}

size_t PushStatus::count(PushMetric metric) const {
  std::lock_guard lock(mutex_);
  return events_[size_t(metric)].size();
}

std::map<std::string, PushEvent> PushStatus::events(PushMetric metric) const {
  std::lock_guard lock(mutex_);
  return events_[size_t(metric)];
}

void PushStatus::carryFrom(const PushStatus& previous) {
  if (&previous == this) return;
  std::scoped_lock lock(mutex_, previous.mutex_);
  for (size_t i = 0; i < kPushMetricCount; ++i)
    for (const auto& [key, event] : previous.events_[i]) events_[i].try_emplace(key, event);
}

void publishPushStatus(std::shared_ptr<const PushStatus> status) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    auto& registry = observe::MetricsRegistry::global();
    for (size_t i = 0; i < kPushMetricCount; ++i)
      registry.callbackGauge(std::string(kMetrics[i].name), std::string(kMetrics[i].help),
                             [i] { return publishedCount(PushMetric(i)); });
  });
  std::lock_guard lock(published_mutex);
  published = std::move(status);
}

}  // namespace monomesh::pilot
