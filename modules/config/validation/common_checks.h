// Value checks shared by several kinds: durations, percentages, header names, regular
// expressions, label maps and exportTo. Single values return "" when valid, else what is wrong;
// collections report each bad entry to `findings` under its own path.
#pragma once
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/map.h>
#include <google/protobuf/repeated_ptr_field.h>
#include <string>
#include <string_view>

#include "config/validation/findings.h"

namespace monomesh::config::validation {

// At least 1ms, in whole milliseconds (what Envoy's millisecond timeouts can hold).
std::string durationError(const google::protobuf::Duration& d);
// As durationError, and in whole seconds (CORS max-age is sent as seconds).
std::string wholeSecondsError(const google::protobuf::Duration& d);
// An integer percentage: 0..100.
std::string percentError(int64_t value);
// A Percent value: 0, or 0.0001..100.
std::string percentageError(double value);
// HTTP header names: not empty (Istio 1.1 checked nothing else).
std::string headerNameError(std::string_view name);
// A regular expression RE2 (the proxy's engine) compiles. Istio 1.1 did not check regex syntax
// and left a bad one for Envoy to refuse when the route arrived; here it is refused up front.
std::string regexError(std::string_view pattern);

// Keys and values match [-A-Za-z0-9_./]*.
void checkLabels(const google::protobuf::Map<std::string, std::string>& labels, const FieldPath& at, Findings& findings);
// At most one entry, "." or "*".
void checkExportTo(const google::protobuf::RepeatedPtrField<std::string>& export_to, const FieldPath& at,
                   Findings& findings);

}  // namespace monomesh::config::validation
