// Durations as people write them in Istio YAML and on command lines: Go's syntax ("45s", "1m30s",
// "100ms", "1.5h") plus protobuf JSON's fractional seconds ("0.250s").
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace monomesh::runtime {

// nullopt when the text is not a duration; negative values are allowed ("-1s").
std::optional<std::chrono::nanoseconds> parseDuration(std::string_view text);

// An exact spelling in one unit that parseDuration reads back: "45s", "1.5s", "100ms", "3600s", "0s".
std::string formatDuration(std::chrono::nanoseconds d);

}  // namespace monomesh::runtime
