// A RouteConfiguration compiled for matching: virtual hosts found by domain (exact, then the
// longest "*.suffix", then the longest "prefix*", then "*"), then the first route whose path,
// header, query and runtime-fraction conditions all hold. Built once per config load on the main
// context; immutable and shared by every worker.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envoy/config/route/v3/route.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "proxy/config/runtime_values.h"
#include "proxy/http/header_map.h"
#include "proxy/http/string_matcher.h"

namespace monomesh::proxy {

// Request and response header fields wherever the proxy matches or rewrites them.
using Fields = HeaderMap;

struct HeaderOperation {
  std::string name;
  std::string value;
  enum class Action { AppendOrAdd, AddIfAbsent, OverwriteOrAdd, OverwriteIfExists } action = Action::AppendOrAdd;
};

struct HeaderOperations {
  std::vector<HeaderOperation> add;
  std::vector<std::string> remove;
  bool empty() const { return add.empty() && remove.empty(); }
  void apply(Fields& fields) const;
};

struct HeaderMatch {
  std::string name;
  enum class Kind { Value, Present, Range } kind = Kind::Value;
  StringMatch value;
  bool present = true;
  int64_t range_start = 0, range_end = 0;
  bool invert = false;
  bool matches(const Fields& fields) const;
  // The same test on one value (nullopt: the header is absent): for pseudo-headers.
  bool matchesValue(std::optional<std::string_view> value) const;
};

struct QueryMatch {
  std::string name;
  std::optional<StringMatch> value;  // nullopt: present_match
  bool matches(std::string_view query) const;
};

struct RetryPolicy {
  uint32_t num_retries = 1;
  std::chrono::milliseconds per_try_timeout{0};
  bool on_5xx = false, on_gateway_error = false, on_connect_failure = false, on_retriable_4xx = false,
       on_refused_stream = false, on_reset = false, on_retriable_status_codes = false;
  std::vector<uint32_t> retriable_status_codes;
  bool previous_hosts = false;  // envoy.retry_host_predicates.previous_hosts
  uint32_t host_selection_max_attempts = 1;
  std::chrono::milliseconds backoff_base{25}, backoff_max{250};
  uint32_t grpc_codes = 0;  // bit n: retry a gRPC answer with grpc-status n
  bool retriesStatus(unsigned status) const;
  bool retriesGrpc(int grpc_status) const { return grpc_status > 0 && grpc_status < 32 && (grpc_codes >> grpc_status) & 1u; }
};

struct WeightedTarget {
  std::string cluster;
  uint32_t weight = 0;
  HeaderOperations request_headers, response_headers;
};

struct MirrorPolicy {
  std::string cluster;
  std::string cluster_header;  // lower case; the cluster is named by this request header
  uint32_t per_million = 1000000;
};

struct HashPolicy {
  enum class Kind { Header, Cookie, SourceIp, QueryParameter } kind = Kind::Header;
  std::string name;
  bool terminal = false;
};

struct Route {
  std::string name;
  // Match.
  enum class PathKind { Prefix, Path, Regex, PathSeparatedPrefix, Connect } path_kind = PathKind::Prefix;
  std::string path;
  std::shared_ptr<const re2::RE2> path_regex;
  bool case_sensitive = true;
  std::vector<HeaderMatch> headers;
  std::vector<QueryMatch> query;
  std::optional<uint32_t> fraction_per_million;  // runtime_fraction default value
  std::string fraction_runtime_key;             // its runtime key (overrides the default)
  uint32_t fraction_scale = 1;                   // per-million units of one runtime numerator
  // Action.
  enum class Action { Cluster, ClusterHeader, Weighted, Redirect, DirectResponse } action = Action::Cluster;
  std::string cluster;
  std::vector<WeightedTarget> weighted;
  uint32_t total_weight = 0;
  std::string prefix_rewrite;
  std::shared_ptr<const re2::RE2> regex_rewrite;
  std::string regex_rewrite_substitution;
  std::string host_rewrite;
  bool auto_host_rewrite = false;
  std::chrono::milliseconds timeout{15000};  // 0 disables
  std::optional<std::chrono::milliseconds> idle_timeout;
  // gRPC requests take their timeout from grpc-timeout, less the offset, capped by this (0: no cap).
  std::optional<std::chrono::milliseconds> max_grpc_timeout;
  std::chrono::milliseconds grpc_timeout_offset{0};
  std::optional<RetryPolicy> retry;
  std::vector<MirrorPolicy> mirrors;
  std::vector<HashPolicy> hash;
  bool websocket = false;
  // Redirect.
  std::string redirect_scheme, redirect_host, redirect_path, redirect_prefix;
  uint32_t redirect_port = 0;
  unsigned redirect_code = 301;
  bool strip_query = false;
  // Direct response.
  unsigned direct_status = 200;
  std::string direct_body;
  // Headers (route level; virtual host and route-config levels are applied too).
  HeaderOperations request_headers, response_headers;
  // Per-filter configuration, parsed by each filter's factory (keyed by filter name).
  std::map<std::string, std::shared_ptr<const void>> filter_configs;

  bool matches(std::string_view method, std::string_view path, const Fields& fields, uint64_t random,
               const RuntimeValues* runtime = nullptr) const;
  // The path sent upstream after prefix_rewrite / regex_rewrite.
  std::string rewritePath(std::string_view path) const;
  // Whether rewritePath() can change a path (else it returns it as it is).
  bool rewritesPath() const noexcept {
    return regex_rewrite || (!prefix_rewrite.empty() && (path_kind == PathKind::Prefix || path_kind == PathKind::Path ||
                                                         path_kind == PathKind::PathSeparatedPrefix));
  }
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;
  std::vector<Route> routes;
  HeaderOperations request_headers, response_headers;
  std::optional<RetryPolicy> retry;
  std::map<std::string, std::shared_ptr<const void>> filter_configs;
  bool require_tls = false;
};

// Parses a filter's typed_per_filter_config entry. Returns nullptr for filters that take none.
using PerFilterConfigParser =
    std::function<std::shared_ptr<const void>(const std::string& filter_name, const google::protobuf::Any& config)>;

class RouteTable {
 public:
  // Throws std::invalid_argument naming the virtual host/route and the problem.
  static std::shared_ptr<const RouteTable> compile(const envoy::config::route::v3::RouteConfiguration& config,
                                                   const PerFilterConfigParser& per_filter = {});

  const std::string& name() const { return name_; }
  const VirtualHost* findVirtualHost(std::string_view host) const;
  // `random` decides runtime fractions (one draw per request).
  const Route* findRoute(const VirtualHost& vh, std::string_view method, std::string_view target,
                         const Fields& fields, uint64_t random, const RuntimeValues* runtime = nullptr) const;

  const HeaderOperations& requestHeaders() const { return request_headers_; }
  const HeaderOperations& responseHeaders() const { return response_headers_; }
  size_t virtualHostCount() const { return hosts_.size(); }

 private:
  std::string name_;
  std::vector<VirtualHost> hosts_;
  std::map<std::string, size_t, std::less<>> exact_;
  std::vector<std::pair<std::string, size_t>> suffixes_;  // longest first ("*.foo.com" -> ".foo.com")
  std::vector<std::pair<std::string, size_t>> prefixes_;  // longest first ("foo.*" -> "foo.")
  std::optional<size_t> any_;
  HeaderOperations request_headers_, response_headers_;
};

// Throws std::invalid_argument for a bad regex.
HeaderMatch compileHeaderMatch(const envoy::config::route::v3::HeaderMatcher& matcher);

HeaderOperations compileHeaderOperations(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove);

}  // namespace monomesh::proxy
