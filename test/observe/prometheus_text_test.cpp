// Prometheus text exposition format 0.0.4.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "observe/prometheus_text.h"

namespace obs = monomesh::observe;

BOOST_AUTO_TEST_SUITE(prometheus_text)

BOOST_AUTO_TEST_CASE(renders_small_registry_exactly) {
  obs::MetricsRegistry registry;
  // Registered out of order: the output is sorted by family name.
  auto& requests = registry.counter("b_requests_total", "Requests \\ with\nnewline \"quoted\"",
                                    {"code", "path"});
  auto& latency = registry.histogram("c_duration_ms", "Latency", {"route"}, {0.5, 1, 2.5});
  auto& connections = registry.gauge("a_connections", "Open connections");
  registry.callbackGauge("d_memory_bytes", "Memory", [] { return 42.5; });

  requests.with({"500", "/"}).inc();
  requests.with({"200", "a\"b\\c\nd"}).inc(3);
  connections.with({}).set(-2);
  auto& r1 = latency.with({"r1"});
  r1.observe(0.25);
  r1.observe(1);
  r1.observe(3);

  const std::string expected =
      "# HELP a_connections Open connections\n"
      "# TYPE a_connections gauge\n"
      "a_connections -2\n"
      "# HELP b_requests_total Requests \\\\ with\\nnewline \"quoted\"\n"
      "# TYPE b_requests_total counter\n"
      "b_requests_total{code=\"200\",path=\"a\\\"b\\\\c\\nd\"} 3\n"
      "b_requests_total{code=\"500\",path=\"/\"} 1\n"
      "# HELP c_duration_ms Latency\n"
      "# TYPE c_duration_ms histogram\n"
      "c_duration_ms_bucket{route=\"r1\",le=\"0.5\"} 1\n"
      "c_duration_ms_bucket{route=\"r1\",le=\"1\"} 2\n"
      "c_duration_ms_bucket{route=\"r1\",le=\"2.5\"} 2\n"
      "c_duration_ms_bucket{route=\"r1\",le=\"+Inf\"} 3\n"
      "c_duration_ms_sum{route=\"r1\"} 4.25\n"
      "c_duration_ms_count{route=\"r1\"} 3\n"
      "# HELP d_memory_bytes Memory\n"
      "# TYPE d_memory_bytes gauge\n"
      "d_memory_bytes 42.5\n";
  BOOST_TEST(obs::renderPrometheus(registry) == expected);
}

BOOST_AUTO_TEST_CASE(renders_unlabelled_histogram) {
  obs::MetricsRegistry registry;
  auto& h = registry.histogram("rtt_seconds", "Round trips", {}, {0.1, 1}).with({});
  h.observe(0.1);  // on the bound: counted by le="0.1"
  h.observe(0.5);
  const std::string expected =
      "# HELP rtt_seconds Round trips\n"
      "# TYPE rtt_seconds histogram\n"
      "rtt_seconds_bucket{le=\"0.1\"} 1\n"
      "rtt_seconds_bucket{le=\"1\"} 2\n"
      "rtt_seconds_bucket{le=\"+Inf\"} 2\n"
      "rtt_seconds_sum 0.6\n"
      "rtt_seconds_count 2\n";
  BOOST_TEST(obs::renderPrometheus(registry) == expected);
}

BOOST_AUTO_TEST_CASE(renders_counter_values_as_integers) {
  obs::MetricsRegistry registry;
  registry.counter("big_total", "big").with({}).inc(12345678901234ULL);
  BOOST_TEST(obs::renderPrometheus(registry) ==
             "# HELP big_total big\n# TYPE big_total counter\nbig_total 12345678901234\n");
}

BOOST_AUTO_TEST_CASE(empty_registry_renders_nothing) {
  obs::MetricsRegistry registry;
  BOOST_TEST(obs::renderPrometheus(registry) == "");
}

BOOST_AUTO_TEST_CASE(formats_values) {
  BOOST_TEST(obs::formatPrometheusValue(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  BOOST_TEST(obs::formatPrometheusValue(std::numeric_limits<double>::infinity()) == "+Inf");
  BOOST_TEST(obs::formatPrometheusValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  BOOST_TEST(obs::formatPrometheusValue(0) == "0");
  BOOST_TEST(obs::formatPrometheusValue(1) == "1");
  BOOST_TEST(obs::formatPrometheusValue(0.5) == "0.5");
  BOOST_TEST(obs::formatPrometheusValue(-2.25) == "-2.25");
  BOOST_TEST(obs::formatPrometheusValue(0.1) == "0.1");  // shortest round-trip, not 0.1000000000000000055
  // Whatever the spelling, the text must read back as the same double.
  for (double v : {1e-9, 123456.789, 1e21, 6.02214076e23, 0.30000000000000004}) {
    std::string text = obs::formatPrometheusValue(v);
    BOOST_TEST(std::stod(text) == v, text);
  }
}

BOOST_AUTO_TEST_CASE(content_type_is_text_format_0_0_4) {
  BOOST_TEST(std::string(obs::kPrometheusContentType) == "text/plain; version=0.0.4; charset=utf-8");
}

BOOST_AUTO_TEST_SUITE_END()
