#include "observe/prometheus_text.h"

#include <cmath>
#include <fmt/format.h>

namespace monomesh::observe {
namespace {

void appendEscaped(std::string& out, const std::string& s, bool quote_escapes) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote_escapes) out += "\\\"";
    else out += c;
  }
}

void appendLabels(std::string& out, const std::vector<std::string>& names, const LabelValues& values,
                  const char* extra_name = nullptr, const std::string& extra_value = {}) {
  if (names.empty() && extra_name == nullptr) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    appendEscaped(out, values[i], true);
    out += '"';
  }
  if (extra_name != nullptr) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void appendHeader(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  appendEscaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// Counters and gauges: one "name{labels} value" line per series.
template <class M>
void renderSamples(std::string& out, const FamilyBase& base, const char* type) {
  appendHeader(out, base.name(), base.help(), type);
  static_cast<const Family<M>&>(base).forEach([&](const LabelValues& v, const M& metric) {
    out += base.name();
    appendLabels(out, base.labelNames(), v);
    out += ' ';
    out += std::to_string(metric.value());
    out += '\n';
  });
}

}  // namespace

std::string formatPrometheusValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string renderPrometheus(const MetricsRegistry& registry) {
  std::string out;
  out.reserve(16 * 1024);
  registry.forEachFamily([&](const FamilyBase& base) {
    const auto& name = base.name();
    const auto& labels = base.labelNames();
    switch (base.type()) {
      case MetricType::Counter: renderSamples<Counter>(out, base, "counter"); break;
      case MetricType::Gauge: renderSamples<Gauge>(out, base, "gauge"); break;
      case MetricType::Histogram: {
        appendHeader(out, name, base.help(), "histogram");
        static_cast<const Family<Histogram>&>(base).forEach([&](const LabelValues& v, const Histogram& h) {
          auto snap = h.snapshot();
          const auto& bounds = h.bounds();
          for (size_t i = 0; i <= bounds.size(); ++i) {
            out += name;
            out += "_bucket";
            appendLabels(out, labels, v, "le",
                         i < bounds.size() ? formatPrometheusValue(bounds[i]) : std::string("+Inf"));
            out += ' ';
            out += std::to_string(snap.cumulative[i]);
            out += '\n';
          }
          out += name;
          out += "_sum";
          appendLabels(out, labels, v);
          out += ' ';
          out += formatPrometheusValue(snap.sum);
          out += '\n';
          out += name;
          out += "_count";
          appendLabels(out, labels, v);
          out += ' ';
          out += std::to_string(snap.count);
          out += '\n';
        });
        break;
      }
    }
  });
  registry.forEachCallback([&](const std::string& name, const std::string& help, double value) {
    appendHeader(out, name, help, "gauge");
    out += name;
    out += ' ';
    out += formatPrometheusValue(value);
    out += '\n';
  });
  return out;
}

}  // namespace monomesh::observe
