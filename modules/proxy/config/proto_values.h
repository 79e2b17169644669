// Small conversions of Envoy API values used across the proxy's config compilers.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>
#include <string_view>

#include "envoy/type/v3/percent.pb.h"

namespace monomesh::proxy {

inline std::chrono::milliseconds toMillis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

// A wall-clock time as a Timestamp (config dumps' last_updated).
inline google::protobuf::Timestamp toTimestamp(std::chrono::system_clock::time_point t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// Envoy's "0 disables this timeout", as a window far enough away never to fire (and small enough
// that now() + it cannot overflow).
inline constexpr std::chrono::milliseconds kNoTimeout = std::chrono::hours(24 * 365 * 10);
inline std::chrono::milliseconds timeoutOrNever(const google::protobuf::Duration& d) {
  auto ms = toMillis(d);
  return ms.count() == 0 ? kNoTimeout : ms;
}

// Parts per million that one unit of a FractionalPercent's numerator stands for (runtime
// overrides give a numerator in the configured denominator).
inline uint32_t perMillionScale(const envoy::type::v3::FractionalPercent& f) {
  switch (f.denominator()) {
    case envoy::type::v3::FractionalPercent::HUNDRED: return 10000;
    case envoy::type::v3::FractionalPercent::TEN_THOUSAND: return 100;
    default: return 1;
  }
}

// A FractionalPercent as parts per million (capped at 100 %).
inline uint32_t perMillion(const envoy::type::v3::FractionalPercent& f) {
  return uint32_t(std::min<uint64_t>(uint64_t(f.numerator()) * perMillionScale(f), 1000000));
}

// Calls fn(token) for each comma-separated token, spaces trimmed, empty tokens skipped
// (header lists such as Connection, and Envoy's retry_on).
template <class Fn>
void forEachListToken(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view token = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty()) fn(token);
  }
}

}  // namespace monomesh::proxy
