// Envoy's access-log filters (envoy.config.accesslog.v3.AccessLogFilter): whether a finished
// request or connection is logged. Compiled once per config load into a small tree; evaluating
// it allocates nothing.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "proxy/http/route_table.h"

namespace monomesh::proxy {

struct AccessLogEntry;

class AccessLogFilter {
 public:
  // Throws std::invalid_argument "<field path>: <problem>" (path relative to `filter`, e.g.
  // "and_filter.filters[1].status_code_filter.comparison.value.runtime_key: required") for an
  // unknown, unsupported or invalid filter.
  static AccessLogFilter compile(const envoy::config::accesslog::v3::AccessLogFilter& filter);
  bool evaluate(const AccessLogEntry& entry) const;

 private:
  enum class Kind { StatusCode, Duration, NotHealthCheck, Traceable, Runtime, And, Or, Header, ResponseFlag, GrpcStatus };
  static AccessLogFilter compileAt(const envoy::config::accesslog::v3::AccessLogFilter& filter, const std::string& path);
  bool compare(uint64_t actual, const AccessLogEntry& entry) const;

  Kind kind_ = Kind::NotHealthCheck;
  // ComparisonFilter: op (EQ/GE/LE) against the runtime key's value, else the default.
  envoy::config::accesslog::v3::ComparisonFilter::Op op_ = envoy::config::accesslog::v3::ComparisonFilter::EQ;
  uint32_t default_value_ = 0;
  std::string runtime_key_;
  // RuntimeFilter: percent out of denominator, overridable by runtime_key.
  uint64_t numerator_ = 0, denominator_ = 100;
  bool independent_randomness_ = false;
  std::vector<AccessLogFilter> children_;
  std::shared_ptr<const HeaderMatch> header_;
  std::vector<std::string> flags_;   // ResponseFlagFilter: empty means any flag
  uint32_t grpc_statuses_ = 0;       // bit per GrpcStatusFilter status (0..16)
  bool exclude_ = false;
};

}  // namespace monomesh::proxy
