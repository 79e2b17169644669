#include "pilot/xds/traffic_policy.h"

#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace monomesh::pilot::xds {

namespace cv3 = envoy::config::cluster::v3;
namespace tls = envoy::extensions::transport_sockets::tls::v3;

namespace {

// Istio 1.1's file locations for ISTIO_MUTUAL (the Citadel secret mounted at /etc/certs).
constexpr const char* kCertChain = "/etc/certs/cert-chain.pem";
constexpr const char* kKey = "/etc/certs/key.pem";
constexpr const char* kRootCert = "/etc/certs/root-cert.pem";

void overlay(networking::TrafficPolicy& base, const networking::TrafficPolicy& top) {
  if (top.has_load_balancer()) *base.mutable_load_balancer() = top.load_balancer();
  if (top.has_connection_pool()) *base.mutable_connection_pool() = top.connection_pool();
  if (top.has_outlier_detection()) *base.mutable_outlier_detection() = top.outlier_detection();
  if (top.has_tls()) *base.mutable_tls() = top.tls();
}

void overlayPort(networking::TrafficPolicy& base, const networking::TrafficPolicy& policy, uint32_t port) {
  for (const auto& p : policy.port_level_settings()) {
    if (p.port().number() != port) continue;
    if (p.has_load_balancer()) *base.mutable_load_balancer() = p.load_balancer();
    if (p.has_connection_pool()) *base.mutable_connection_pool() = p.connection_pool();
    if (p.has_outlier_detection()) *base.mutable_outlier_detection() = p.outlier_detection();
    if (p.has_tls()) *base.mutable_tls() = p.tls();
  }
}

void applyLoadBalancer(const networking::LoadBalancerSettings& lb, cv3::Cluster& c) {
  if (lb.has_consistent_hash()) {
    c.set_lb_policy(cv3::Cluster::RING_HASH);
    if (lb.consistent_hash().minimum_ring_size() > 0)
      c.mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(lb.consistent_hash().minimum_ring_size());
    return;
  }
  switch (lb.simple()) {
    case networking::LoadBalancerSettings::LEAST_CONN: c.set_lb_policy(cv3::Cluster::LEAST_REQUEST); break;
    case networking::LoadBalancerSettings::RANDOM: c.set_lb_policy(cv3::Cluster::RANDOM); break;
    case networking::LoadBalancerSettings::PASSTHROUGH:
      c.set_type(cv3::Cluster::ORIGINAL_DST);
      c.set_lb_policy(cv3::Cluster::CLUSTER_PROVIDED);
      c.clear_eds_cluster_config();
      c.clear_load_assignment();
      break;
    default: c.set_lb_policy(cv3::Cluster::ROUND_ROBIN); break;
  }
}

void applyConnectionPool(const networking::ConnectionPoolSettings& pool, cv3::Cluster& c) {
  auto* t = c.mutable_circuit_breakers()->add_thresholds();
  if (pool.has_tcp()) {
    const auto& tcp = pool.tcp();
    if (tcp.max_connections() > 0) t->mutable_max_connections()->set_value(uint32_t(tcp.max_connections()));
    if (tcp.has_connect_timeout()) *c.mutable_connect_timeout() = tcp.connect_timeout();
    if (tcp.has_tcp_keepalive()) {
      auto* ka = c.mutable_upstream_connection_options()->mutable_tcp_keepalive();
      const auto& k = tcp.tcp_keepalive();
      if (k.probes() > 0) ka->mutable_keepalive_probes()->set_value(k.probes());
      if (k.has_time()) ka->mutable_keepalive_time()->set_value(uint32_t(k.time().seconds()));
      if (k.has_interval()) ka->mutable_keepalive_interval()->set_value(uint32_t(k.interval().seconds()));
    }
  }
  if (pool.has_http()) {
    const auto& http = pool.http();
    if (http.http1_max_pending_requests() > 0)
      t->mutable_max_pending_requests()->set_value(uint32_t(http.http1_max_pending_requests()));
    if (http.http2_max_requests() > 0) t->mutable_max_requests()->set_value(uint32_t(http.http2_max_requests()));
    if (http.max_retries() > 0) t->mutable_max_retries()->set_value(uint32_t(http.max_retries()));
    if (http.max_requests_per_connection() > 0)
      c.mutable_max_requests_per_connection()->set_value(uint32_t(http.max_requests_per_connection()));
    if (http.has_idle_timeout()) *c.mutable_common_http_protocol_options()->mutable_idle_timeout() = http.idle_timeout();
  }
}

void applyOutlierDetection(const networking::OutlierDetection& o, cv3::Cluster& c) {
  auto* out = c.mutable_outlier_detection();
  // 1.1 counts consecutive 5xx responses (and local connect failures) as "errors".
  if (o.consecutive_errors() > 0) out->mutable_consecutive_5xx()->set_value(uint32_t(o.consecutive_errors()));
  if (o.has_interval()) *out->mutable_interval() = o.interval();
  if (o.has_base_ejection_time()) *out->mutable_base_ejection_time() = o.base_ejection_time();
  if (o.max_ejection_percent() > 0) out->mutable_max_ejection_percent()->set_value(uint32_t(o.max_ejection_percent()));
  out->mutable_enforcing_success_rate()->set_value(0);
  if (o.min_health_percent() > 0)
    c.mutable_common_lb_config()->mutable_healthy_panic_threshold()->set_value(o.min_health_percent());
}

void fileSource(envoy::config::core::v3::DataSource* d, const std::string& path) { d->set_filename(path); }

void applyTls(const networking::TLSSettings& settings, const Service& service, const std::string& sni, cv3::Cluster& c) {
  if (settings.mode() == networking::TLSSettings::DISABLE) return;
  tls::UpstreamTlsContext context;
  auto* common = context.mutable_common_tls_context();
  std::vector<std::string> sans(settings.subject_alt_names().begin(), settings.subject_alt_names().end());
  std::string ca = settings.ca_certificates();
  if (settings.mode() == networking::TLSSettings::ISTIO_MUTUAL) {
    auto* cert = common->add_tls_certificates();
    fileSource(cert->mutable_certificate_chain(), kCertChain);
    fileSource(cert->mutable_private_key(), kKey);
    ca = kRootCert;
    if (sans.empty()) sans = service.service_accounts;
    common->add_alpn_protocols("istio");
    context.set_sni(sni);
  } else {
    if (settings.mode() == networking::TLSSettings::MUTUAL) {
      auto* cert = common->add_tls_certificates();
      fileSource(cert->mutable_certificate_chain(), settings.client_certificate());
      fileSource(cert->mutable_private_key(), settings.private_key());
    }
    if (!settings.sni().empty()) context.set_sni(settings.sni());
  }
  if (!ca.empty()) {
    auto* validation = common->mutable_validation_context();
    fileSource(validation->mutable_trusted_ca(), ca);
    for (const auto& san : sans) validation->add_match_subject_alt_names()->set_exact(san);
  }
  auto* socket = c.mutable_transport_socket();
  socket->set_name("envoy.transport_sockets.tls");
  socket->mutable_typed_config()->PackFrom(context);
}

}  // namespace

networking::TrafficPolicy effectivePolicy(const networking::DestinationRule* rule, const networking::Subset* subset,
                                          uint32_t port) {
  networking::TrafficPolicy out;
  if (rule == nullptr) return out;
  overlay(out, rule->traffic_policy());
  overlayPort(out, rule->traffic_policy(), port);
  if (subset != nullptr && subset->has_traffic_policy()) {
    overlay(out, subset->traffic_policy());
    overlayPort(out, subset->traffic_policy(), port);
  }
  out.clear_port_level_settings();
  return out;
}

void applyTrafficPolicy(const networking::TrafficPolicy& policy, const Service& service, const std::string& sni,
                        cv3::Cluster& cluster) {
  if (policy.has_load_balancer()) applyLoadBalancer(policy.load_balancer(), cluster);
  if (policy.has_connection_pool()) applyConnectionPool(policy.connection_pool(), cluster);
  if (policy.has_outlier_detection()) applyOutlierDetection(policy.outlier_detection(), cluster);
  if (policy.has_tls() && cluster.type() != cv3::Cluster::ORIGINAL_DST) applyTls(policy.tls(), service, sni, cluster);
}

}  // namespace monomesh::pilot::xds
