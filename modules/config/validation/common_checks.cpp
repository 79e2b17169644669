#include "config/validation/common_checks.h"

#include <cstdio>
#include <re2/re2.h>

namespace monomesh::config::validation {

namespace {

constexpr int64_t kNanosPerMilli = 1000000;

std::string formatDuration(const google::protobuf::Duration& d) {
  int64_t nanos = d.seconds() * 1000000000 + d.nanos();
  if (nanos % 1000000000 == 0) return std::to_string(nanos / 1000000000) + "s";
  if (nanos % kNanosPerMilli == 0) return std::to_string(nanos / kNanosPerMilli) + "ms";
  if (nanos % 1000 == 0) return std::to_string(nanos / 1000) + "us";
  return std::to_string(nanos) + "ns";
}

bool isLabelText(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string durationError(const google::protobuf::Duration& d) {
  // Seconds are bounded by the reader (Go durations), so this cannot overflow.
  int64_t nanos = d.seconds() * 1000000000 + d.nanos();
  if (nanos < kNanosPerMilli) return "duration " + formatDuration(d) + " is less than 1ms";
  if (nanos % kNanosPerMilli != 0) return "duration " + formatDuration(d) + " is not a whole number of milliseconds";
  return "";
}

std::string wholeSecondsError(const google::protobuf::Duration& d) {
  if (auto e = durationError(d); !e.empty()) return e;
  if (d.nanos() != 0) return "duration " + formatDuration(d) + " is not a whole number of seconds";
  return "";
}

std::string percentError(int64_t value) {
  if (value >= 0 && value <= 100) return "";
  return "percentage " + std::to_string(value) + " is not in 0..100";
}

std::string percentageError(double value) {
  if (value == 0.0 || (value >= 0.0001 && value <= 100.0)) return "";
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return std::string("percentage ") + text + " is neither 0 nor in 0.0001..100";
}

std::string headerNameError(std::string_view name) {
  if (name.empty()) return "header name cannot be empty";
  return "";
}

std::string regexError(std::string_view pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  re2::RE2 re(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (re.ok()) return "";
  return "invalid regular expression " + quoted(pattern) + ": " + re.error();
}

void checkLabels(const google::protobuf::Map<std::string, std::string>& labels, const FieldPath& at,
                 Findings& findings) {
  for (const auto& [key, value] : labels) {
    if (!isLabelText(key))
      findings.error(at.key(key), "label key " + quoted(key) + " may contain only letters, digits, '-', '_', '.' and '/'");
    if (!isLabelText(value))
      findings.error(at.key(key), "label value " + quoted(value) + " may contain only letters, digits, '-', '_', '.' and '/'");
  }
}

void checkExportTo(const google::protobuf::RepeatedPtrField<std::string>& export_to, const FieldPath& at,
                   Findings& findings) {
  if (export_to.size() > 1) {
    findings.error(at, "exportTo may have only one entry (\".\" or \"*\") in Istio 1.1, got " +
                           std::to_string(export_to.size()));
  } else if (export_to.size() == 1 && export_to[0] != "." && export_to[0] != "*") {
    findings.error(at[0], "exportTo must be \".\" (this namespace) or \"*\" (all namespaces), got " + quoted(export_to[0]));
  }
}

}  // namespace monomesh::config::validation
