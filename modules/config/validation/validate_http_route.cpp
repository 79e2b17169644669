// A VirtualService's HTTP route: redirect/route/rewrite/fault combinations, matches, header
// operations, retries, fault injection, CORS, timeout and mirror.
#include <charconv>

#include "config/validation/addresses.h"
#include "config/validation/route_checks.h"

namespace monomesh::config::validation {

namespace net = istio::networking::v1alpha3;

namespace {

// HTTP statuses Go's http.StatusText knows (Istio accepted a numeric retryOn entry only if so).
bool knownHttpStatus(int code) {
  static const int kKnown[] = {100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302,
                               303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411,
                               412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
                               500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511};
  for (int k : kKnown)
    if (k == code) return true;
  return false;
}

bool knownRetryPolicy(std::string_view policy) {
  static const char* kPolicies[] = {"5xx", "gateway-error", "connect-failure", "retriable-4xx", "refused-stream",
                                    "retriable-status-codes", "cancelled", "deadline-exceeded", "internal",
                                    "resource-exhausted", "unavailable"};
  for (const char* p : kPolicies)
    if (policy == p) return true;
  int code = 0;
  auto [end, ec] = std::from_chars(policy.data(), policy.data() + policy.size(), code);
  return ec == std::errc() && end == policy.data() + policy.size() && knownHttpStatus(code);
}

void checkHeaderNames(const google::protobuf::Map<std::string, std::string>& headers, const FieldPath& at,
                      Findings& findings) {
  for (const auto& [name, value] : headers) findings.check(at.key(name), headerNameError(name));
}

void checkHeaderNames(const google::protobuf::RepeatedPtrField<std::string>& names, const FieldPath& at,
                      Findings& findings) {
  for (int i = 0; i < names.size(); ++i) findings.check(at[size_t(i)], headerNameError(names[i]));
}

void checkHeaderOperations(const net::Headers& headers, const FieldPath& at, Findings& findings) {
  for (auto [name, ops] : {std::pair{"request", &headers.request()}, std::pair{"response", &headers.response()}}) {
    const FieldPath side = at / name;
    checkHeaderNames(ops->set(), side / "set", findings);
    checkHeaderNames(ops->add(), side / "add", findings);
    checkHeaderNames(ops->remove(), side / "remove", findings);
  }
}

void checkStringMatch(const net::StringMatch& match, const FieldPath& at, Findings& findings) {
  if (match.match_type_case() == net::StringMatch::kRegex) findings.check(at / "regex", regexError(match.regex()));
}

void checkMatch(const net::HTTPMatchRequest& match, const FieldPath& at, Findings& findings) {
  for (auto [name, m] : {std::pair{"uri", &match.uri()}, std::pair{"scheme", &match.scheme()},
                         std::pair{"method", &match.method()}, std::pair{"authority", &match.authority()}})
    checkStringMatch(*m, at / name, findings);
  const FieldPath headers = at / "headers";
  for (const auto& [name, value] : match.headers()) {
    findings.check(headers.key(name), headerNameError(name));
    checkStringMatch(value, headers.key(name), findings);
  }
  if (match.port() != 0) findings.check(at / "port", portError(match.port()));
  checkLabels(match.source_labels(), at / "sourceLabels", findings);
  checkGatewayNames(match.gateways(), at / "gateways", findings);
}

void checkRetries(const net::HTTPRetry& retry, const FieldPath& at, Findings& findings) {
  if (retry.attempts() <= 0)
    findings.error(at / "attempts", "attempts must be greater than 0, got " + std::to_string(retry.attempts()));
  if (retry.has_per_try_timeout()) findings.check(at / "perTryTimeout", durationError(retry.per_try_timeout()));
  std::string_view on = retry.retry_on();
  if (on.empty()) return;
  size_t start = 0;
  while (true) {
    size_t comma = on.find(',', start);
    std::string_view policy = on.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!knownRetryPolicy(policy))
      findings.error(at / "retryOn", quoted(policy) +
                                         " is not a retry policy (an HTTP status code, or 5xx, gateway-error, connect-failure, "
                                         "retriable-4xx, refused-stream, retriable-status-codes, cancelled, "
                                         "deadline-exceeded, internal, resource-exhausted, unavailable)");
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

void checkFault(const net::HTTPFaultInjection& fault, const FieldPath& at, Findings& findings) {
  if (!fault.has_abort() && !fault.has_delay()) findings.error(at, "fault injection needs an abort, a delay or both");
  if (fault.has_abort()) {
    const auto& abort = fault.abort();
    const FieldPath a = at / "abort";
    findings.check(a / "percent", percentError(abort.percent()));
    if (abort.has_percentage()) findings.check(a / "percentage.value", percentageError(abort.percentage().value()));
    switch (abort.error_type_case()) {
      case net::HTTPFaultInjection::Abort::kHttpStatus:
        if (abort.http_status() < 0 || abort.http_status() > 600)
          findings.error(a / "httpStatus", "HTTP status " + std::to_string(abort.http_status()) + " is not in 0..600");
        break;
      case net::HTTPFaultInjection::Abort::kGrpcStatus:
        findings.error(a / "grpcStatus", "gRPC abort fault injection is not supported in Istio 1.1");
        break;
      case net::HTTPFaultInjection::Abort::kHttp2Error:
        findings.error(a / "http2Error", "HTTP/2 abort fault injection is not supported in Istio 1.1");
        break;
      case net::HTTPFaultInjection::Abort::ERROR_TYPE_NOT_SET: break;
    }
  }
  if (fault.has_delay()) {
    const auto& delay = fault.delay();
    const FieldPath d = at / "delay";
    findings.check(d / "percent", percentError(delay.percent()));
    if (delay.has_percentage()) findings.check(d / "percentage.value", percentageError(delay.percentage().value()));
    if (delay.has_fixed_delay()) findings.check(d / "fixedDelay", durationError(delay.fixed_delay()));
    if (delay.has_exponential_delay())
      findings.error(d / "exponentialDelay", "exponentialDelay is not supported in Istio 1.1; use fixedDelay");
  }
}

void checkCors(const net::CorsPolicy& cors, const FieldPath& at, Findings& findings) {
  static const char* kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"};
  const FieldPath methods = at / "allowMethods";
  for (int i = 0; i < cors.allow_methods_size(); ++i) {
    const std::string& method = cors.allow_methods(i);
    bool known = false;
    for (const char* m : kMethods) known = known || method == m;
    if (!known)
      findings.error(methods[size_t(i)],
                     quoted(method) + " is not an HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS, "
                                     "TRACE; upper case)");
  }
  checkHeaderNames(cors.allow_headers(), at / "allowHeaders", findings);
  checkHeaderNames(cors.expose_headers(), at / "exposeHeaders", findings);
  if (cors.has_max_age()) findings.check(at / "maxAge", wholeSecondsError(cors.max_age()));
}

void checkRedirectCombinations(const net::HTTPRoute& route, const FieldPath& at, Findings& findings) {
  const FieldPath redirect = at / "redirect";
  if (route.route_size() > 0) findings.error(redirect, "a route cannot have both redirect and route");
  if (route.has_fault()) findings.error(redirect, "a route cannot have both redirect and fault");
  if (route.has_rewrite()) findings.error(redirect, "a route cannot have both redirect and rewrite");
  if (route.websocket_upgrade()) findings.error(redirect, "websocketUpgrade is not allowed on a redirect route");
  if (route.redirect().uri().empty() && route.redirect().authority().empty())
    findings.error(redirect, "a redirect needs uri, authority or both");
}

}  // namespace

void checkHttpRoute(const net::HTTPRoute& route, const FieldPath& at, Findings& findings) {
  if (route.has_redirect()) {
    checkRedirectCombinations(route, at, findings);
  } else if (route.route().empty()) {
    findings.error(at / "route", "an HTTP route needs route or redirect");
  }
  if (route.has_rewrite() && route.rewrite().uri().empty() && route.rewrite().authority().empty())
    findings.error(at / "rewrite", "a rewrite needs uri, authority or both");
  const FieldPath matches = at / "match";
  for (int i = 0; i < route.match_size(); ++i) checkMatch(route.match(i), matches[size_t(i)], findings);
  checkHeaderNames(route.append_headers(), at / "appendHeaders", findings);
  checkHeaderNames(route.append_request_headers(), at / "appendRequestHeaders", findings);
  checkHeaderNames(route.append_response_headers(), at / "appendResponseHeaders", findings);
  checkHeaderNames(route.remove_request_headers(), at / "removeRequestHeaders", findings);
  checkHeaderNames(route.remove_response_headers(), at / "removeResponseHeaders", findings);
  if (route.has_headers()) checkHeaderOperations(route.headers(), at / "headers", findings);
  if (route.has_cors_policy()) checkCors(route.cors_policy(), at / "corsPolicy", findings);
  if (route.has_fault()) checkFault(route.fault(), at / "fault", findings);
  if (route.has_retries()) checkRetries(route.retries(), at / "retries", findings);
  const FieldPath destinations = at / "route";
  checkRouteDestinations(route.route(), destinations, findings);
  for (int i = 0; i < route.route_size(); ++i) {
    const auto& d = route.route(i);
    const FieldPath item = destinations[size_t(i)];
    if (d.has_headers()) checkHeaderOperations(d.headers(), item / "headers", findings);
    checkHeaderNames(d.append_request_headers(), item / "appendRequestHeaders", findings);
    checkHeaderNames(d.append_response_headers(), item / "appendResponseHeaders", findings);
    checkHeaderNames(d.remove_request_headers(), item / "removeRequestHeaders", findings);
    checkHeaderNames(d.remove_response_headers(), item / "removeResponseHeaders", findings);
  }
  if (route.has_timeout()) findings.check(at / "timeout", durationError(route.timeout()));
  if (route.has_mirror()) checkDestination(route.mirror(), at / "mirror", findings);
}

}  // namespace monomesh::config::validation
