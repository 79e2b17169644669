#include "proxy/http/http_filters.h"

#include <stdexcept>

#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "proxy/config/proto_values.h"

namespace monomesh::proxy {

namespace {

namespace fault = envoy::extensions::filters::http::fault::v3;
namespace cors = envoy::extensions::filters::http::cors::v3;

template <class T>
T unpack(const google::protobuf::Any& any, const char* what) {
  T message;
  if (!any.UnpackTo(&message)) throw std::invalid_argument(std::string("cannot read ") + what + " from " + any.type_url());
  return message;
}

// ---- fault ----
struct FaultConfig {
  // Runtime keys that override the configured values, as Envoy's fault filter reads them.
  std::string delay_percent_key = "fault.http.delay.fixed_delay_percent";
  std::string abort_percent_key = "fault.http.abort.abort_percent";
  std::string delay_duration_key = "fault.http.delay.fixed_duration_ms";
  std::string abort_status_key = "fault.http.abort.http_status";
  uint32_t delay_scale = 10000, abort_scale = 10000;  // per-million units of one runtime numerator
  uint32_t delay_per_million = 0;
  std::chrono::milliseconds delay{0};
  bool has_delay = false;
  uint32_t abort_per_million = 0;
  unsigned abort_status = 0;
  bool has_abort = false;
  std::vector<HeaderMatch> headers;
};

std::shared_ptr<const void> parseFault(const google::protobuf::Any& any) {
  auto f = unpack<fault::HTTPFault>(any, "HTTPFault");
  auto c = std::make_shared<FaultConfig>();
  if (!f.delay_percent_runtime().empty()) c->delay_percent_key = f.delay_percent_runtime();
  if (!f.abort_percent_runtime().empty()) c->abort_percent_key = f.abort_percent_runtime();
  if (!f.delay_duration_runtime().empty()) c->delay_duration_key = f.delay_duration_runtime();
  if (!f.abort_http_status_runtime().empty()) c->abort_status_key = f.abort_http_status_runtime();
  if (f.has_delay()) c->delay_scale = perMillionScale(f.delay().percentage());
  if (f.has_abort()) c->abort_scale = perMillionScale(f.abort().percentage());
  if (f.has_delay()) {
    if (!f.delay().has_fixed_delay()) throw std::invalid_argument("fault delay: only fixed_delay is supported");
    const auto& d = f.delay().fixed_delay();
    c->has_delay = true;
    c->delay = toMillis(d);
    c->delay_per_million = perMillion(f.delay().percentage());
  }
  if (f.has_abort()) {
    if (f.abort().error_type_case() != fault::FaultAbort::kHttpStatus)
      throw std::invalid_argument("fault abort: only http_status is supported on HTTP/1.1");
    c->has_abort = true;
    c->abort_status = f.abort().http_status();
    if (c->abort_status < 200 || c->abort_status >= 600)
      throw std::invalid_argument("fault abort: http_status must be 200-599");
    c->abort_per_million = perMillion(f.abort().percentage());
  }
  for (const auto& h : f.headers()) c->headers.push_back(compileHeaderMatch(h));
  return c;
}

FilterResult faultOnRequest(const void* listener_config, RequestContext& req) {
  // The route's (or virtual host's) fault config replaces the listener's, as Istio configures it.
  const FaultConfig* c = static_cast<const FaultConfig*>(listener_config);
  for (const auto* configs : {req.route ? &req.route->filter_configs : nullptr, req.vhost ? &req.vhost->filter_configs : nullptr}) {
    if (configs == nullptr) continue;
    for (const char* name : {"envoy.filters.http.fault", "envoy.fault"}) {
      auto it = configs->find(name);
      if (it != configs->end()) {
        c = static_cast<const FaultConfig*>(it->second.get());
        goto chosen;
      }
    }
  }
chosen:
  if (c == nullptr) return FilterResult::proceed();
  for (const auto& h : c->headers)
    if (!h.matches(req.headers)) return FilterResult::proceed();
  // Independent draws for delay and abort from the request's random number; the layered
  // runtime may override each configured value (fault.http.* keys).
  uint64_t r1 = req.random % 1000000, r2 = (req.random / 1000000) % 1000000;
  auto fromRuntime = [&](const std::string& key, uint64_t configured, uint64_t scale) -> uint64_t {
    if (req.runtime == nullptr) return configured;
    auto v = req.runtime->integer(key);
    return v ? std::min<uint64_t>(*v * scale, 1000000) : configured;
  };
  if (c->has_abort && r2 < fromRuntime(c->abort_percent_key, c->abort_per_million, c->abort_scale)) {
    req.response_flags = "FI";
    unsigned status = c->abort_status;
    if (req.runtime) {
      auto s = req.runtime->integer(c->abort_status_key);
      if (s && *s >= 200 && *s < 600) status = unsigned(*s);
    }
    return FilterResult{FilterResult::Kind::LocalReply, status, "fault filter abort", {}};
  }
  if (c->has_delay && r1 < fromRuntime(c->delay_percent_key, c->delay_per_million, c->delay_scale)) {
    req.response_flags = "DI";
    auto delay = c->delay;
    if (req.runtime)
      if (auto ms = req.runtime->integer(c->delay_duration_key)) delay = std::chrono::milliseconds(*ms);
    return FilterResult{FilterResult::Kind::Delay, 0, {}, delay};
  }
  return FilterResult::proceed();
}

// ---- cors ----
struct CorsConfig {
  std::vector<StringMatch> origins;
  std::string allow_methods, allow_headers, expose_headers, max_age;
  bool allow_credentials = false;
  uint32_t enabled_per_million = 1000000;
};

std::shared_ptr<const void> parseCorsPolicy(const google::protobuf::Any& any) {
  auto p = unpack<cors::CorsPolicy>(any, "CorsPolicy");
  auto c = std::make_shared<CorsConfig>();
  for (const auto& m : p.allow_origin_string_match()) c->origins.push_back(StringMatch::fromProto(m));
  c->allow_methods = p.allow_methods();
  c->allow_headers = p.allow_headers();
  c->expose_headers = p.expose_headers();
  c->max_age = p.max_age();
  c->allow_credentials = p.has_allow_credentials() && p.allow_credentials().value();
  if (p.has_filter_enabled()) c->enabled_per_million = perMillion(p.filter_enabled().default_value());
  return c;
}

const CorsConfig* corsPolicyFor(const RequestContext& req) {
  // The most specific policy wins: route, then virtual host.
  for (const auto* configs : {req.route ? &req.route->filter_configs : nullptr, req.vhost ? &req.vhost->filter_configs : nullptr}) {
    if (configs == nullptr) continue;
    auto it = configs->find("envoy.filters.http.cors");
    if (it != configs->end()) return static_cast<const CorsConfig*>(it->second.get());
  }
  return nullptr;
}

FilterResult corsOnRequest(const void*, RequestContext& req) {
  auto origin_it = req.headers.find("origin");
  if (origin_it == req.headers.end()) return FilterResult::proceed();
  const CorsConfig* c = corsPolicyFor(req);
  if (c == nullptr || (req.random / 7) % 1000000 >= c->enabled_per_million) return FilterResult::proceed();
  std::string origin(origin_it->value());
  bool allowed = false;
  // As Envoy: a matcher that accepts "*" allows every origin.
  for (const auto& m : c->origins) allowed |= m.matches(origin) || m.matches("*");
  if (!allowed) return FilterResult::proceed();
  bool preflight = req.method == "OPTIONS" && req.headers.find("access-control-request-method") != req.headers.end();
  req.response_headers.emplace_back("access-control-allow-origin", origin);
  if (c->allow_credentials) req.response_headers.emplace_back("access-control-allow-credentials", "true");
  if (preflight) {
    if (!c->allow_methods.empty()) req.response_headers.emplace_back("access-control-allow-methods", c->allow_methods);
    if (!c->allow_headers.empty()) req.response_headers.emplace_back("access-control-allow-headers", c->allow_headers);
    if (!c->max_age.empty()) req.response_headers.emplace_back("access-control-max-age", c->max_age);
    return FilterResult{FilterResult::Kind::LocalReply, 200, {}, {}};
  }
  if (!c->expose_headers.empty()) req.response_headers.emplace_back("access-control-expose-headers", c->expose_headers);
  return FilterResult::proceed();
}

std::vector<HttpFilterFactory> builtins() {
  std::vector<HttpFilterFactory> out;
  out.push_back(HttpFilterFactory{
      "envoy.filters.http.router", {"envoy.router"},
      // Built from the descriptor: this also links the type, so "@type" in YAML resolves.
      "type.googleapis.com/" + envoy::extensions::filters::http::router::v3::Router::descriptor()->full_name(), "",
      [](const google::protobuf::Any*) -> std::shared_ptr<const void> { return nullptr; }, nullptr, nullptr});
  out.push_back(HttpFilterFactory{
      "envoy.filters.http.fault", {"envoy.fault"},
      "type.googleapis.com/" + fault::HTTPFault::descriptor()->full_name(),
      "type.googleapis.com/" + fault::HTTPFault::descriptor()->full_name(),
      [](const google::protobuf::Any* any) -> std::shared_ptr<const void> { return any ? parseFault(*any) : nullptr; },
      [](const google::protobuf::Any& any) { return parseFault(any); }, faultOnRequest});
  out.push_back(HttpFilterFactory{
      "envoy.filters.http.cors", {"envoy.cors"},
      "type.googleapis.com/" + cors::Cors::descriptor()->full_name(),
      "type.googleapis.com/" + cors::CorsPolicy::descriptor()->full_name(),
      [](const google::protobuf::Any*) -> std::shared_ptr<const void> { return nullptr; },
      [](const google::protobuf::Any& any) { return parseCorsPolicy(any); }, corsOnRequest});
  return out;
}

}  // namespace

const std::vector<HttpFilterFactory>& httpFilterRegistry() {
  static const std::vector<HttpFilterFactory> registry = builtins();
  return registry;
}

const HttpFilterFactory* findHttpFilter(const std::string& name, const std::string& type_url) {
  for (const auto& f : httpFilterRegistry()) {
    if (f.name == name || std::find(f.aliases.begin(), f.aliases.end(), name) != f.aliases.end()) return &f;
    if (!type_url.empty() && (f.type_url == type_url)) return &f;
  }
  return nullptr;
}

std::shared_ptr<const void> parsePerFilterConfig(const std::string& filter_name, const google::protobuf::Any& config) {
  const HttpFilterFactory* f = findHttpFilter(filter_name);
  if (f == nullptr || !f->parse_per_route) return nullptr;  // Envoy ignores configs of absent optional filters
  if (config.type_url() != f->per_route_type_url)
    throw std::invalid_argument(filter_name + ": expected " + f->per_route_type_url + ", got " + config.type_url());
  return f->parse_per_route(config);
}

}  // namespace monomesh::proxy
