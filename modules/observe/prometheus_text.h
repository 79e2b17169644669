// Renders a metrics registry in the Prometheus text exposition format, version 0.0.4.
#pragma once
#include <string>

#include "observe/metrics.h"

namespace monomesh::observe {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string renderPrometheus(const MetricsRegistry& registry);

// Number formatting per the format: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string formatPrometheusValue(double value);

}  // namespace monomesh::observe
