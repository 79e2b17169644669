#include "pilot/xds/virtual_service_routes.h"

#include <re2/re2.h>

#include <algorithm>

#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "observe/log.h"
#include "pilot/model/hostname.h"
#include "pilot/xds/naming.h"

namespace monomesh::pilot::xds {

namespace rv3 = envoy::config::route::v3;
namespace core = envoy::config::core::v3;
namespace matcher = envoy::type::matcher::v3;

namespace {

constexpr const char* kFaultFilter = "envoy.filters.http.fault";
constexpr const char* kCorsFilter = "envoy.filters.http.cors";

bool regexCompiles(const std::string& pattern, std::string_view what, const VirtualServiceEntry& vs) {
  re2::RE2 re(pattern, re2::RE2::Quiet);
  if (re.ok()) return true;
  observe::logScope("pilot").warn("VirtualService {}: {} regex \"{}\" is not valid RE2 ({}); that match is left out",
                                  vs.resource->key().str(), what, pattern, re.error());
  return false;
}

// Istio StringMatch -> Envoy StringMatcher (exact, prefix, or an RE2 full match).
matcher::StringMatcher stringMatcher(const networking::StringMatch& in) {
  matcher::StringMatcher out;
  switch (in.match_type_case()) {
    case networking::StringMatch::kExact: out.set_exact(in.exact()); break;
    case networking::StringMatch::kPrefix: out.set_prefix(in.prefix()); break;
    case networking::StringMatch::kRegex: out.mutable_safe_regex()->set_regex(in.regex()); break;
    default: out.set_prefix(""); break;  // an empty StringMatch matches anything present
  }
  return out;
}

rv3::HeaderMatcher headerMatcher(const std::string& name, const networking::StringMatch& in) {
  rv3::HeaderMatcher out;
  out.set_name(name);
  *out.mutable_string_match() = stringMatcher(in);
  return out;
}

// The match's regexes, checked before anything is emitted.
bool matchRegexesCompile(const networking::HTTPMatchRequest& m, const VirtualServiceEntry& vs) {
  auto ok = [&](const networking::StringMatch& s, std::string_view what) {
    return s.match_type_case() != networking::StringMatch::kRegex || regexCompiles(s.regex(), what, vs);
  };
  if (m.has_uri() && !ok(m.uri(), "uri")) return false;
  if (m.has_method() && !ok(m.method(), "method")) return false;
  if (m.has_authority() && !ok(m.authority(), "authority")) return false;
  if (m.has_scheme() && !ok(m.scheme(), "scheme")) return false;
  for (const auto& [name, s] : m.headers())
    if (!ok(s, "header " + name)) return false;
  return true;
}

// 1.1's translateRouteMatch: headers sorted by name, then :method, :authority, :scheme.
rv3::RouteMatch routeMatch(const networking::HTTPMatchRequest* in) {
  rv3::RouteMatch out;
  out.set_prefix("/");
  if (in == nullptr) return out;
  std::vector<std::string> names;
  for (const auto& [name, s] : in->headers()) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) *out.add_headers() = headerMatcher(name, in->headers().at(name));
  if (in->has_uri()) {
    const auto& uri = in->uri();
    switch (uri.match_type_case()) {
      case networking::StringMatch::kExact: out.set_path(uri.exact()); break;
      case networking::StringMatch::kPrefix: out.set_prefix(uri.prefix()); break;
      case networking::StringMatch::kRegex: out.mutable_safe_regex()->set_regex(uri.regex()); break;
      default: break;
    }
  }
  if (in->has_method()) *out.add_headers() = headerMatcher(":method", in->method());
  if (in->has_authority()) *out.add_headers() = headerMatcher(":authority", in->authority());
  if (in->has_scheme()) *out.add_headers() = headerMatcher(":scheme", in->scheme());
  return out;
}

// Istio's header maps, sorted by name (1.1 sorted them): `set` overwrites, `add` appends.
void addHeaders(const google::protobuf::Map<std::string, std::string>& headers, bool append,
                google::protobuf::RepeatedPtrField<core::HeaderValueOption>& out) {
  std::vector<std::pair<std::string, std::string>> sorted(headers.begin(), headers.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [key, value] : sorted) {
    auto* o = out.Add();
    o->mutable_header()->set_key(key);
    o->mutable_header()->set_value(value);
    o->set_append_action(append ? core::HeaderValueOption::APPEND_IF_EXISTS_OR_ADD
                                : core::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  }
}

// Request and response header changes of a route or of one weighted destination: `headers`
// first, then the deprecated 1.1 fields.
template <class In, class Out>
void translateHeaders(const In& in, Out& out) {
  addHeaders(in.headers().request().set(), false, *out.mutable_request_headers_to_add());
  addHeaders(in.headers().request().add(), true, *out.mutable_request_headers_to_add());
  addHeaders(in.append_request_headers(), true, *out.mutable_request_headers_to_add());
  addHeaders(in.headers().response().set(), false, *out.mutable_response_headers_to_add());
  addHeaders(in.headers().response().add(), true, *out.mutable_response_headers_to_add());
  addHeaders(in.append_response_headers(), true, *out.mutable_response_headers_to_add());
  for (const auto& h : in.headers().request().remove()) out.add_request_headers_to_remove(h);
  for (const auto& h : in.remove_request_headers()) out.add_request_headers_to_remove(h);
  for (const auto& h : in.headers().response().remove()) out.add_response_headers_to_remove(h);
  for (const auto& h : in.remove_response_headers()) out.add_response_headers_to_remove(h);
}

envoy::type::v3::FractionalPercent percentOf(bool has_percentage, double percentage, int32_t percent) {
  envoy::type::v3::FractionalPercent out;
  double value = has_percentage ? percentage : double(percent);
  out.set_numerator(uint32_t(std::clamp(value, 0.0, 100.0) * 10000.0 + 0.5));
  out.set_denominator(envoy::type::v3::FractionalPercent::MILLION);
  return out;
}

// 1.1's translateFault; nullopt when neither part is supported (exponential delay, gRPC and
// HTTP/2 aborts were "not supported yet").
std::optional<envoy::extensions::filters::http::fault::v3::HTTPFault> translateFault(const networking::HTTPFaultInjection& in) {
  envoy::extensions::filters::http::fault::v3::HTTPFault out;
  if (in.has_delay() && in.delay().has_fixed_delay()) {
    const auto& d = in.delay();
    *out.mutable_delay()->mutable_fixed_delay() = d.fixed_delay();
    *out.mutable_delay()->mutable_percentage() = percentOf(d.has_percentage(), d.percentage().value(), d.percent());
  }
  if (in.has_abort() && in.abort().error_type_case() == networking::HTTPFaultInjection::Abort::kHttpStatus) {
    const auto& a = in.abort();
    out.mutable_abort()->set_http_status(uint32_t(a.http_status()));
    *out.mutable_abort()->mutable_percentage() = percentOf(a.has_percentage(), a.percentage().value(), a.percent());
  }
  if (!out.has_delay() && !out.has_abort()) return std::nullopt;
  return out;
}

// CORS as the cors filter's per-route config (Envoy v3 moved it out of RouteAction).
envoy::extensions::filters::http::cors::v3::CorsPolicy translateCors(const networking::CorsPolicy& in) {
  envoy::extensions::filters::http::cors::v3::CorsPolicy out;
  for (const auto& origin : in.allow_origin()) out.add_allow_origin_string_match()->set_exact(origin);
  auto join = [](const auto& list) {
    std::string s;
    for (const auto& item : list) s += (s.empty() ? "" : ",") + item;
    return s;
  };
  out.set_allow_methods(join(in.allow_methods()));
  out.set_allow_headers(join(in.allow_headers()));
  out.set_expose_headers(join(in.expose_headers()));
  if (in.has_max_age()) out.set_max_age(std::to_string(in.max_age().seconds()));
  if (in.has_allow_credentials()) *out.mutable_allow_credentials() = in.allow_credentials();
  return out;
}

void addPreviousHostsPredicate(rv3::RetryPolicy& policy) {
  auto* p = policy.add_retry_host_predicate();
  p->set_name("envoy.retry_host_predicates.previous_hosts");
  p->mutable_typed_config()->PackFrom(envoy::extensions::retry::host::previous_hosts::v3::PreviousHostsPredicate());
}

// 1.1's retry.DefaultPolicy.
rv3::RetryPolicy defaultRetryPolicy() {
  rv3::RetryPolicy out;
  out.mutable_num_retries()->set_value(2);
  out.set_retry_on("connect-failure,refused-stream,unavailable,cancelled,resource-exhausted,retriable-status-codes");
  out.add_retriable_status_codes(503);
  addPreviousHostsPredicate(out);
  out.set_host_selection_retry_max_attempts(3);
  return out;
}

bool isHttpStatus(std::string_view s, uint32_t& code) {
  if (s.size() != 3 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  code = uint32_t(std::stoul(std::string(s)));
  return code >= 100 && code <= 599;
}

// 1.1's retry.ConvertPolicy: unset -> the default; attempts <= 0 -> no retries; numbers in
// retryOn are retriable status codes.
std::optional<rv3::RetryPolicy> translateRetries(const networking::HTTPRoute& in) {
  if (!in.has_retries()) return defaultRetryPolicy();
  const auto& r = in.retries();
  if (r.attempts() <= 0) return std::nullopt;
  auto out = defaultRetryPolicy();
  out.mutable_num_retries()->set_value(uint32_t(r.attempts()));
  if (!r.retry_on().empty()) {
    out.clear_retriable_status_codes();
    std::string policies;
    size_t start = 0;
    while (start <= r.retry_on().size()) {
      size_t comma = r.retry_on().find(',', start);
      std::string part = r.retry_on().substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      part.erase(0, part.find_first_not_of(" \t"));
      part.erase(part.find_last_not_of(" \t") + 1);
      uint32_t code = 0;
      if (isHttpStatus(part, code)) out.add_retriable_status_codes(code);
      else if (!part.empty()) policies += (policies.empty() ? "" : ",") + part;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    out.set_retry_on(policies);
  }
  if (r.has_per_try_timeout()) *out.mutable_per_try_timeout() = r.per_try_timeout();
  return out;
}

const networking::LoadBalancerSettings::ConsistentHashLB* portHash(
    const google::protobuf::RepeatedPtrField<networking::TrafficPolicy::PortTrafficPolicy>& settings, uint32_t port) {
  for (const auto& s : settings)
    if (s.port().number() == port && s.load_balancer().has_consistent_hash()) return &s.load_balancer().consistent_hash();
  return nullptr;
}

// 1.1's getHashPolicy: the destination's DestinationRule (subset port level, subset, port level,
// top level) may ask for consistent hashing on a header, a cookie or the source IP.
std::optional<rv3::RouteAction::HashPolicy> hashPolicy(const RouteSource& source, const networking::Destination& dst,
                                                      const std::string& host) {
  const auto* rule = source.push.destinationRule(source.proxy_namespace, host);
  if (rule == nullptr) return std::nullopt;
  const auto& tp = rule->spec->traffic_policy();
  uint32_t port = dst.port().number();
  const networking::LoadBalancerSettings::ConsistentHashLB* hash =
      tp.load_balancer().has_consistent_hash() ? &tp.load_balancer().consistent_hash() : nullptr;
  if (const auto* p = portHash(tp.port_level_settings(), port)) hash = p;
  for (const auto& subset : rule->spec->subsets()) {
    if (subset.name() != dst.subset()) continue;
    if (subset.traffic_policy().load_balancer().has_consistent_hash()) hash = &subset.traffic_policy().load_balancer().consistent_hash();
    if (const auto* p = portHash(subset.traffic_policy().port_level_settings(), port)) hash = p;
    break;
  }
  if (hash == nullptr) return std::nullopt;
  rv3::RouteAction::HashPolicy out;
  using H = networking::LoadBalancerSettings::ConsistentHashLB;
  switch (hash->hash_key_case()) {
    case H::kHttpHeaderName: out.mutable_header()->set_header_name(hash->http_header_name()); break;
    case H::kHttpCookie:
      out.mutable_cookie()->set_name(hash->http_cookie().name());
      out.mutable_cookie()->set_path(hash->http_cookie().path());
      if (hash->http_cookie().has_ttl()) *out.mutable_cookie()->mutable_ttl() = hash->http_cookie().ttl();
      break;
    case H::kUseSourceIp: out.mutable_connection_properties()->set_source_ip(hash->use_source_ip()); break;
    default: return std::nullopt;
  }
  return out;
}

void setForwarding(const RouteSource& source, const networking::HTTPRoute& in, const VirtualServiceEntry& vs, rv3::Route& out) {
  auto* action = out.mutable_route();
  if (auto retry = translateRetries(in)) *action->mutable_retry_policy() = *retry;
  if (in.has_timeout()) *action->mutable_timeout() = in.timeout();
  else action->mutable_timeout()->set_seconds(0);  // 1.1: no timeout unless the rule sets one
  if (in.has_rewrite()) {
    action->set_prefix_rewrite(in.rewrite().uri());
    if (!in.rewrite().authority().empty()) action->set_host_rewrite_literal(in.rewrite().authority());
  }
  translateHeaders(in, out);
  addHeaders(in.append_headers(), true, *out.mutable_request_headers_to_add());  // 1.1's oldest form
  const auto& ns = vs.resource->meta.namespace_;
  if (in.has_mirror())
    action->add_request_mirror_policies()->set_cluster(destinationCluster(source.push, in.mirror(), ns, source.port));
  if (in.websocket_upgrade()) action->add_upgrade_configs()->set_upgrade_type("websocket");
  if (in.has_cors_policy()) (*out.mutable_typed_per_filter_config())[kCorsFilter].PackFrom(translateCors(in.cors_policy()));

  std::vector<rv3::WeightedCluster::ClusterWeight> weighted;
  for (const auto& dst : in.route()) {
    uint32_t weight = uint32_t(std::max(0, dst.weight()));
    if (weight == 0) {
      if (in.route_size() != 1) continue;  // 1.1 ignored 0-weight destinations unless alone
      weight = 100;
    }
    rv3::WeightedCluster::ClusterWeight cw;
    cw.set_name(destinationCluster(source.push, dst.destination(), ns, source.port));
    cw.mutable_weight()->set_value(weight);
    translateHeaders(dst, cw);
    weighted.push_back(std::move(cw));
    auto host = resolveShortName(dst.destination().host(), ns, source.push.registryOptions().domain);
    if (auto hash = hashPolicy(source, dst.destination(), host)) *action->add_hash_policy() = *hash;
  }
  if (weighted.size() == 1) {
    // One destination: a plain cluster, its header changes moved to the route.
    auto& only = weighted.front();
    action->set_cluster(only.name());
    for (const auto& h : only.request_headers_to_add()) *out.add_request_headers_to_add() = h;
    for (const auto& h : only.request_headers_to_remove()) out.add_request_headers_to_remove(h);
    for (const auto& h : only.response_headers_to_add()) *out.add_response_headers_to_add() = h;
    for (const auto& h : only.response_headers_to_remove()) out.add_response_headers_to_remove(h);
  } else {
    for (auto& cw : weighted) *action->mutable_weighted_clusters()->add_clusters() = std::move(cw);
  }
}

std::optional<rv3::Route> translateRoute(const RouteSource& source, const networking::HTTPRoute& in,
                                         const networking::HTTPMatchRequest* match, const VirtualServiceEntry& vs) {
  const auto& ns = vs.resource->meta.namespace_;
  if (match != nullptr) {
    if (!sourceMatches(match->gateways(), match->source_labels(), ns, source.gateways, source.labels)) return std::nullopt;
    if (match->port() != 0 && match->port() != source.port) return std::nullopt;
    if (!matchRegexesCompile(*match, vs)) return std::nullopt;
  }
  rv3::Route out;
  *out.mutable_match() = routeMatch(match);
  if (in.has_redirect()) {
    auto* r = out.mutable_redirect();
    if (!in.redirect().authority().empty()) r->set_host_redirect(in.redirect().authority());
    if (!in.redirect().uri().empty()) r->set_path_redirect(in.redirect().uri());
  } else {
    bool has_destination = std::any_of(in.route().begin(), in.route().end(), [&](const auto& d) {
      return d.weight() > 0 || in.route_size() == 1;
    });
    if (!has_destination) {
      observe::logScope("pilot").warn("VirtualService {}: an http route has no destination with weight; left out",
                                      vs.resource->key().str());
      return std::nullopt;
    }
    setForwarding(source, in, vs, out);
  }
  if (in.has_fault())
    if (auto fault = translateFault(in.fault())) (*out.mutable_typed_per_filter_config())[kFaultFilter].PackFrom(*fault);
  return out;
}

}  // namespace

bool sourceMatches(const google::protobuf::RepeatedPtrField<std::string>& match_gateways,
                   const google::protobuf::Map<std::string, std::string>& source_labels, std::string_view rule_namespace,
                   const std::vector<std::string>& gateways, const Labels* labels) {
  if (!match_gateways.empty()) {
    for (const auto& g : match_gateways)
      if (std::find(gateways.begin(), gateways.end(), gatewayReference(g, rule_namespace)) != gateways.end()) return true;
    return false;
  }
  if (source_labels.empty()) return true;
  return labels != nullptr && labelsMatch(Labels(source_labels.begin(), source_labels.end()), *labels);
}

std::string destinationCluster(const PushContext& push, const networking::Destination& destination,
                               std::string_view rule_namespace, uint32_t listener_port) {
  auto host = resolveShortName(destination.host(), rule_namespace, push.registryOptions().domain);
  uint32_t port = listener_port;
  if (destination.has_port()) {
    if (destination.port().port_case() == networking::PortSelector::kName) return std::string(kBlackHoleCluster);
    port = destination.port().number();
  } else if (const Service* service = push.service(host); service != nullptr && service->ports.size() == 1) {
    port = service->ports.front().port;
  }
  return clusterName(Direction::Outbound, port, destination.subset(), host);
}

std::vector<rv3::Route> buildVirtualServiceRoutes(const RouteSource& source, const VirtualServiceEntry& vs) {
  std::vector<rv3::Route> out;
  for (const auto& http : vs.spec->http()) {
    if (http.match().empty()) {
      if (auto r = translateRoute(source, http, nullptr, vs)) out.push_back(std::move(*r));
      break;  // a rule without match conditions catches everything; later rules are unreachable
    }
    for (const auto& match : http.match()) {
      auto r = translateRoute(source, http, &match, vs);
      if (!r) continue;
      bool catch_all = isCatchAllRoute(*r);
      out.push_back(std::move(*r));
      if (catch_all) return out;
    }
  }
  return out;
}

rv3::Route buildDefaultRoute(const std::string& cluster) {
  rv3::Route out;
  out.set_name("default");
  out.mutable_match()->set_prefix("/");
  auto* action = out.mutable_route();
  action->set_cluster(cluster);
  action->mutable_timeout()->set_seconds(0);
  *action->mutable_retry_policy() = defaultRetryPolicy();
  return out;
}

bool isCatchAllRoute(const rv3::Route& route) {
  const auto& m = route.match();
  return m.path_specifier_case() == rv3::RouteMatch::kPrefix && m.prefix() == "/" && m.headers().empty() &&
         m.query_parameters().empty() && !m.has_runtime_fraction();
}

void combineRoutes(std::vector<rv3::Route>& routes, const std::vector<rv3::Route>& more) {
  std::vector<rv3::Route> specific, catch_all;
  for (auto& r : routes) (isCatchAllRoute(r) ? catch_all : specific).push_back(std::move(r));
  for (const auto& r : more) (isCatchAllRoute(r) ? catch_all : specific).push_back(r);
  routes = std::move(specific);
  routes.insert(routes.end(), std::make_move_iterator(catch_all.begin()), std::make_move_iterator(catch_all.end()));
}

}  // namespace monomesh::pilot::xds
