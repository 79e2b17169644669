// Metrics: counters, gauges, histograms, families and the registry's naming rules.
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <stdexcept>
#include <thread>
#include <vector>

#include "observe/metrics.h"
#include "runtime/thread_slot.h"

namespace obs = monomesh::observe;
namespace rt = monomesh::runtime;

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(counter_exact_total_from_runtime_and_foreign_threads) {
  obs::MetricsRegistry registry;
  auto& counter = registry.counter("test_requests_total", "requests").with({});
  constexpr uint64_t kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int slot : {1, 2}) {
    threads.emplace_back([&counter, slot] {
      rt::assignThreadSlot(slot);  // as a runtime worker would be
      for (uint64_t i = 0; i < kPerThread; ++i) counter.inc();
    });
  }
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&counter] {  // outside the runtime: the shared, atomic copy
      for (uint64_t i = 0; i < kPerThread; ++i) counter.inc();
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(counter.value() == 4 * kPerThread);
  counter.inc(5);
  BOOST_TEST(counter.value() == 4 * kPerThread + 5);
}

BOOST_AUTO_TEST_CASE(counters_beyond_one_chunk_of_cells) {
  obs::MetricsRegistry registry;
  auto& family = registry.counter("many_total", "many", {"i"});
  constexpr int kSeries = 1500;  // more cells than one chunk holds
  std::vector<obs::Counter*> counters;
  for (int i = 0; i < kSeries; ++i) counters.push_back(&family.with({std::to_string(i)}));
  std::thread worker([&] {
    rt::assignThreadSlot(3);
    for (int i = 0; i < kSeries; ++i) counters[size_t(i)]->inc(uint64_t(i));
  });
  std::thread foreign([&] {
    for (int i = 0; i < kSeries; ++i) counters[size_t(i)]->inc(1);
  });
  worker.join();
  foreign.join();
  int wrong = 0;
  for (int i = 0; i < kSeries; ++i)
    if (counters[size_t(i)]->value() != uint64_t(i) + 1) ++wrong;
  BOOST_TEST(wrong == 0);
}

BOOST_AUTO_TEST_CASE(gauge_inc_dec_set) {
  obs::MetricsRegistry registry;
  auto& g = registry.gauge("test_connections", "open connections").with({});
  BOOST_TEST(g.value() == 0);
  g.inc();
  g.inc(5);
  g.dec(2);
  BOOST_TEST(g.value() == 4);
  g.dec(10);
  BOOST_TEST(g.value() == -6);
  g.set(10);
  BOOST_TEST(g.value() == 10);
  g.dec(3);
  BOOST_TEST(g.value() == 7);
  std::thread([&] {
    rt::assignThreadSlot(2);
    g.inc(100);
    g.dec(1);
  }).join();
  std::thread([&] { g.dec(6); }).join();
  BOOST_TEST(g.value() == 100);
  g.set(-4);
  BOOST_TEST(g.value() == -4);
  g.inc();
  BOOST_TEST(g.value() == -3);
  g.set(0);
  BOOST_TEST(g.value() == 0);
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_with_le_semantics) {
  obs::MetricsRegistry registry;
  auto& h = registry.histogram("test_latency_ms", "latency", {}, {1, 5, 10}).with({});
  BOOST_TEST((h.bounds() == std::vector<double>{1, 5, 10}));
  for (double v : {0.5, 1.0, 3.0, 5.0, 7.0, 10.0, 100.0}) h.observe(v);  // 1, 5, 10 sit on bounds
  auto s = h.snapshot();
  BOOST_TEST((s.cumulative == std::vector<uint64_t>{2, 4, 6, 7}));
  BOOST_TEST(s.count == 7u);
  BOOST_TEST(s.sum == 126.5);

  // Observations from a runtime thread and a foreign thread merge into the same series.
  std::thread([&] {
    rt::assignThreadSlot(4);
    h.observe(2.5);
  }).join();
  std::thread([&] { h.observe(-1); }).join();
  s = h.snapshot();
  BOOST_TEST((s.cumulative == std::vector<uint64_t>{3, 6, 8, 9}));
  BOOST_TEST(s.count == 9u);
  BOOST_TEST(s.sum == 128.0);
}

BOOST_AUTO_TEST_CASE(family_with_returns_one_series_per_label_values) {
  obs::MetricsRegistry registry;
  auto& family = registry.counter("test_by_code_total", "by code", {"code", "method"});
  auto& a = family.with({"200", "GET"});
  auto& b = family.with({"200", "GET"});
  auto& c = family.with({"500", "GET"});
  auto& d = family.with(obs::LabelValues{"200", "GET"});
  BOOST_TEST(&a == &b);
  BOOST_TEST(&a == &d);
  BOOST_TEST(&a != &c);
  a.inc(2);
  BOOST_TEST(b.value() == 2u);
  BOOST_TEST(c.value() == 0u);
  BOOST_CHECK_THROW(family.with({"200"}), std::invalid_argument);
  BOOST_CHECK_THROW(family.with({"200", "GET", "extra"}), std::invalid_argument);
  BOOST_CHECK_THROW(family.with({}), std::invalid_argument);

  std::vector<obs::LabelValues> visited;
  family.forEach([&](const obs::LabelValues& v, const obs::Counter&) { visited.push_back(v); });
  BOOST_TEST(visited.size() == 2u);

  auto& plain = registry.gauge("test_plain", "no labels");
  BOOST_CHECK_THROW(plain.with({"x"}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(registry_returns_existing_family_for_same_shape) {
  obs::MetricsRegistry registry;
  auto& c1 = registry.counter("test_total", "help", {"a"});
  auto& c2 = registry.counter("test_total", "other help", {"a"});
  BOOST_TEST(&c1 == &c2);
  auto& g1 = registry.gauge("test_gauge", "help");
  BOOST_TEST(&g1 == &registry.gauge("test_gauge", "help"));
  auto& h1 = registry.histogram("test_hist", "help", {"r"}, {1, 2});
  BOOST_TEST(&h1 == &registry.histogram("test_hist", "help", {"r"}, {1, 2}));
  BOOST_TEST(c1.name() == "test_total");
  BOOST_TEST(c1.help() == "help");
  BOOST_TEST((c1.type() == obs::MetricType::Counter));
  BOOST_TEST((c1.labelNames() == std::vector<std::string>{"a"}));
}

BOOST_AUTO_TEST_CASE(registry_rejects_a_different_shape_under_one_name) {
  obs::MetricsRegistry registry;
  registry.counter("test_total", "help", {"a"});
  BOOST_CHECK_THROW(registry.gauge("test_total", "help", {"a"}), std::invalid_argument);
  BOOST_CHECK_THROW(registry.histogram("test_total", "help", {"a"}, {1}), std::invalid_argument);
  BOOST_CHECK_THROW(registry.counter("test_total", "help", {"b"}), std::invalid_argument);
  BOOST_CHECK_THROW(registry.counter("test_total", "help", {}), std::invalid_argument);
  BOOST_CHECK_THROW(registry.counter("test_total", "help", {"a", "b"}), std::invalid_argument);
  registry.counter("test_two", "help", {"a", "b"});
  BOOST_CHECK_THROW(registry.counter("test_two", "help", {"b", "a"}), std::invalid_argument);
  BOOST_CHECK_THROW(registry.callbackGauge("test_total", "help", [] { return 1.0; }),
                    std::invalid_argument);
}

// A callback gauge is a gauge family like any other: a counter under its name would put two
// TYPE lines for one name into /metrics.
BOOST_AUTO_TEST_CASE(family_under_a_callback_gauge_name_is_rejected) {
  {
    obs::MetricsRegistry registry;
    registry.callbackGauge("test_memory_bytes", "memory", [] { return 1.0; });
    BOOST_CHECK_THROW(registry.counter("test_memory_bytes", "help"), std::invalid_argument);
  }
  {
    obs::MetricsRegistry registry;
    registry.callbackGauge("test_memory_bytes", "memory", [] { return 1.0; });
    BOOST_CHECK_THROW(registry.histogram("test_memory_bytes", "help", {}, {1}), std::invalid_argument);
  }
}

BOOST_AUTO_TEST_CASE(registry_validates_metric_and_label_names) {
  obs::MetricsRegistry registry;
  for (const char* bad : {"", "1abc", "a-b", "a b", "a.b", "é", "a\n"}) {
    BOOST_TEST_CONTEXT("metric name \"" << bad << "\"") {
      BOOST_CHECK_THROW(registry.counter(bad, "help"), std::invalid_argument);
      BOOST_CHECK_THROW(registry.gauge(bad, "help"), std::invalid_argument);
      BOOST_CHECK_THROW(registry.histogram(bad, "help", {}, {1}), std::invalid_argument);
      BOOST_CHECK_THROW(registry.callbackGauge(bad, "help", [] { return 0.0; }), std::invalid_argument);
    }
  }
  for (const char* good : {"a", "_x", "a1", "ns:subsystem:name_total", "A_B"}) {
    BOOST_TEST_CONTEXT("metric name \"" << good << "\"") {
      BOOST_CHECK_NO_THROW(registry.counter(good, "help"));
    }
  }
  for (const char* bad : {"", "1a", "a:b", "__reserved", "a-b", "a b"}) {
    BOOST_TEST_CONTEXT("label name \"" << bad << "\"") {
      BOOST_CHECK_THROW(registry.counter("test_labels_total", "help", {"ok", bad}), std::invalid_argument);
    }
  }
  BOOST_CHECK_NO_THROW(registry.counter("test_labels_total", "help", {"ok", "_x", "a1"}));
}

BOOST_AUTO_TEST_CASE(histogram_needs_strictly_increasing_bounds_and_no_le_label) {
  obs::MetricsRegistry registry;
  BOOST_CHECK_THROW(registry.histogram("test_h1", "help", {}, {5, 1}), std::invalid_argument);
  BOOST_CHECK_THROW(registry.histogram("test_h2", "help", {}, {1, 1, 2}), std::invalid_argument);
  BOOST_CHECK_THROW(registry.histogram("test_h3", "help", {"le"}, {1, 2}), std::invalid_argument);
  BOOST_CHECK_NO_THROW(registry.histogram("test_h4", "help", {}, {}));
  auto& h = registry.histogram("test_h4", "help", {}, {}).with({});
  h.observe(3);
  auto s = h.snapshot();
  BOOST_TEST((s.cumulative == std::vector<uint64_t>{1}));
  BOOST_TEST(s.count == 1u);
  // Nothing was registered by the failed calls.
  int families = 0;
  registry.forEachFamily([&](const obs::FamilyBase&) { ++families; });
  BOOST_TEST(families == 1);
}

BOOST_AUTO_TEST_CASE(families_are_visited_sorted_by_name) {
  obs::MetricsRegistry registry;
  registry.gauge("zeta", "z");
  registry.counter("alpha_total", "a");
  registry.histogram("mid", "m", {}, {1});
  std::vector<std::string> names;
  registry.forEachFamily([&](const obs::FamilyBase& f) { names.push_back(f.name()); });
  BOOST_TEST((names == std::vector<std::string>{"alpha_total", "mid", "zeta"}));
}

BOOST_AUTO_TEST_CASE(latency_buckets_are_increasing) {
  const auto& b = obs::latencyBucketsMs();
  BOOST_TEST(!b.empty());
  BOOST_TEST(std::is_sorted(b.begin(), b.end()));
  BOOST_TEST((std::adjacent_find(b.begin(), b.end()) == b.end()));
}

BOOST_AUTO_TEST_SUITE_END()
