// DestinationRule: host, traffic policies (top level, per port, per subset), subsets, exportTo.
#include "config/resource.h"
#include "config/validation/common_checks.h"
#include "config/validation/hosts.h"
#include "config/validation/route_checks.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"

namespace monomesh::config::validation {

namespace net = istio::networking::v1alpha3;

namespace {

void checkNonNegative(int64_t value, const FieldPath& at, Findings& findings) {
  if (value < 0) findings.error(at, "must not be negative, got " + std::to_string(value));
}

void checkOutlierDetection(const net::OutlierDetection& outlier, const FieldPath& at, Findings& findings) {
  if (outlier.has_base_ejection_time()) findings.check(at / "baseEjectionTime", durationError(outlier.base_ejection_time()));
  if (outlier.has_interval()) findings.check(at / "interval", durationError(outlier.interval()));
  checkNonNegative(outlier.consecutive_errors(), at / "consecutiveErrors", findings);
  findings.check(at / "maxEjectionPercent", percentError(outlier.max_ejection_percent()));
  findings.check(at / "minHealthPercent", percentError(outlier.min_health_percent()));
}

void checkConnectionPool(const net::ConnectionPoolSettings& pool, const FieldPath& at, Findings& findings) {
  if (!pool.has_http() && !pool.has_tcp()) {
    findings.error(at, "a connection pool needs http or tcp settings");
    return;
  }
  if (pool.has_http()) {
    const auto& http = pool.http();
    const FieldPath h = at / "http";
    checkNonNegative(http.http1_max_pending_requests(), h / "http1MaxPendingRequests", findings);
    checkNonNegative(http.http2_max_requests(), h / "http2MaxRequests", findings);
    checkNonNegative(http.max_requests_per_connection(), h / "maxRequestsPerConnection", findings);
    checkNonNegative(http.max_retries(), h / "maxRetries", findings);
    if (http.has_idle_timeout()) findings.check(h / "idleTimeout", durationError(http.idle_timeout()));
  }
  if (pool.has_tcp()) {
    const auto& tcp = pool.tcp();
    const FieldPath t = at / "tcp";
    checkNonNegative(tcp.max_connections(), t / "maxConnections", findings);
    if (tcp.has_connect_timeout()) findings.check(t / "connectTimeout", durationError(tcp.connect_timeout()));
    if (tcp.has_tcp_keepalive()) {
      const auto& keepalive = tcp.tcp_keepalive();
      if (keepalive.has_time()) findings.check(t / "tcpKeepalive.time", durationError(keepalive.time()));
      if (keepalive.has_interval()) findings.check(t / "tcpKeepalive.interval", durationError(keepalive.interval()));
    }
  }
}

void checkLoadBalancer(const net::LoadBalancerSettings& lb, const FieldPath& at, Findings& findings) {
  if (!lb.has_consistent_hash() || !lb.consistent_hash().has_http_cookie()) return;
  const auto& cookie = lb.consistent_hash().http_cookie();
  const FieldPath c = at / "consistentHash.httpCookie";
  if (cookie.name().empty()) findings.error(c / "name", "an HTTP cookie hash needs the cookie name");
  if (!cookie.has_ttl()) findings.error(c / "ttl", "an HTTP cookie hash needs a ttl");
}

void checkTls(const net::TLSSettings& tls, const FieldPath& at, Findings& findings) {
  if (tls.mode() != net::TLSSettings::MUTUAL) return;
  if (tls.client_certificate().empty())
    findings.error(at / "clientCertificate", "MUTUAL TLS needs clientCertificate");
  if (tls.private_key().empty()) findings.error(at / "privateKey", "MUTUAL TLS needs privateKey");
}

// The parts of a policy that TrafficPolicy and PortTrafficPolicy share.
template <class Policy>
void checkPolicyParts(const Policy& policy, const FieldPath& at, Findings& findings) {
  if (policy.has_outlier_detection()) checkOutlierDetection(policy.outlier_detection(), at / "outlierDetection", findings);
  if (policy.has_connection_pool()) checkConnectionPool(policy.connection_pool(), at / "connectionPool", findings);
  if (policy.has_load_balancer()) checkLoadBalancer(policy.load_balancer(), at / "loadBalancer", findings);
  if (policy.has_tls()) checkTls(policy.tls(), at / "tls", findings);
}

void checkTrafficPolicy(const net::TrafficPolicy& policy, const FieldPath& at, Findings& findings) {
  if (!policy.has_outlier_detection() && !policy.has_connection_pool() && !policy.has_load_balancer() &&
      !policy.has_tls() && policy.port_level_settings().empty()) {
    findings.error(at, "a traffic policy needs at least one setting");
    return;
  }
  checkPolicyParts(policy, at, findings);
  const FieldPath ports = at / "portLevelSettings";
  for (int i = 0; i < policy.port_level_settings_size(); ++i) {
    const auto& port_policy = policy.port_level_settings(i);
    const FieldPath item = ports[size_t(i)];
    if (!port_policy.has_port()) {
      findings.error(item / "port", "a port traffic policy needs a port");
    } else {
      checkPortSelector(port_policy.port(), item / "port", findings);
    }
    if (!port_policy.has_outlier_detection() && !port_policy.has_connection_pool() &&
        !port_policy.has_load_balancer() && !port_policy.has_tls()) {
      findings.error(item, "a port traffic policy needs at least one setting besides the port");
    } else {
      checkPolicyParts(port_policy, item, findings);
    }
  }
}

}  // namespace

void validateDestinationRule(const Resource& resource, Findings& findings) {
  const auto& rule = resource.as<net::DestinationRule>();
  const FieldPath spec("spec");
  // Istio 1.1 did not reject two subsets with one name, so neither does this.
  findings.check(spec / "host", wildcardDomainError(rule.host()));
  if (rule.has_traffic_policy()) checkTrafficPolicy(rule.traffic_policy(), spec / "trafficPolicy", findings);
  const FieldPath subsets = spec / "subsets";
  for (int i = 0; i < rule.subsets_size(); ++i) {
    const auto& subset = rule.subsets(i);
    const FieldPath item = subsets[size_t(i)];
    if (subset.name().empty()) {
      findings.error(item / "name", "a subset needs a name");
    } else if (!isDns1123Label(subset.name())) {
      findings.error(item / "name", "subset name " + quoted(subset.name()) + " is not a DNS-1123 label");
    }
    checkLabels(subset.labels(), item / "labels", findings);
    if (subset.has_traffic_policy()) checkTrafficPolicy(subset.traffic_policy(), item / "trafficPolicy", findings);
  }
  checkExportTo(rule.export_to(), spec / "exportTo", findings);
}

}  // namespace monomesh::config::validation
