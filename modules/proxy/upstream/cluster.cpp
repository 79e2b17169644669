#include "proxy/upstream/cluster.h"

#include <stdexcept>

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "proxy/config/http2_options.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "proxy/config/config_source.h"
#include "proxy/config/proto_values.h"
#include "observe/log.h"

namespace monomesh::proxy {

namespace cv3 = envoy::config::cluster::v3;

std::string Host::str() const {
  return address.address().to_string() + ":" + std::to_string(address.port());
}

ClusterStats::ClusterStats(observe::StatsStore& s, const std::string& c) {
  auto n = [&](const char* stat) { return "cluster." + c + "." + stat; };
  rq_total = &s.counter(n("upstream_rq_total"));
  rq_2xx = &s.counter(n("upstream_rq_2xx"));
  rq_3xx = &s.counter(n("upstream_rq_3xx"));
  rq_4xx = &s.counter(n("upstream_rq_4xx"));
  rq_5xx = &s.counter(n("upstream_rq_5xx"));
  rq_timeout = &s.counter(n("upstream_rq_timeout"));
  rq_per_try_timeout = &s.counter(n("upstream_rq_per_try_timeout"));
  rq_retry = &s.counter(n("upstream_rq_retry"));
  rq_retry_overflow = &s.counter(n("upstream_rq_retry_overflow"));
  rq_pending_overflow = &s.counter(n("upstream_rq_pending_overflow"));
  cx_total = &s.counter(n("upstream_cx_total"));
  cx_connect_fail = &s.counter(n("upstream_cx_connect_fail"));
  cx_connect_timeout = &s.counter(n("upstream_cx_connect_timeout"));
  cx_overflow = &s.counter(n("upstream_cx_overflow"));
  cx_destroy = &s.counter(n("upstream_cx_destroy"));
  outlier_ejections_total = &s.counter(n("outlier_detection.ejections_total"));
  outlier_ejections_consecutive_5xx = &s.counter(n("outlier_detection.ejections_consecutive_5xx"));
  membership_change = &s.counter(n("membership_change"));
  ssl_handshake = &s.counter(n("ssl.handshake"));
  ssl_connection_error = &s.counter(n("ssl.connection_error"));
  cx_active = &s.gauge(n("upstream_cx_active"));
  rq_active = &s.gauge(n("upstream_rq_active"));
  rq_pending_active = &s.gauge(n("upstream_rq_pending_active"));
  membership_total = &s.gauge(n("membership_total"));
  membership_healthy = &s.gauge(n("membership_healthy"));
}

std::shared_ptr<ClusterInfo> ClusterInfo::compile(const cv3::Cluster& c, observe::StatsStore& stats, const SecretStore* secrets) {
  auto info = std::make_shared<ClusterInfo>();
  info->name = c.name();
  info->config = c;
  if (info->name.empty()) throw std::invalid_argument("name: required");
  switch (c.type()) {
    case cv3::Cluster::STATIC: info->type = Type::Static; break;
    case cv3::Cluster::STRICT_DNS: info->type = Type::StrictDns; break;
    case cv3::Cluster::LOGICAL_DNS: info->type = Type::LogicalDns; break;
    case cv3::Cluster::EDS: info->type = Type::Eds; break;
    case cv3::Cluster::ORIGINAL_DST: info->type = Type::OriginalDst; break;
    default: throw std::invalid_argument("type: unsupported discovery type");
  }
  switch (c.lb_policy()) {
    case cv3::Cluster::ROUND_ROBIN: info->lb = LbPolicy::RoundRobin; break;
    case cv3::Cluster::LEAST_REQUEST: info->lb = LbPolicy::LeastRequest; break;
    case cv3::Cluster::RANDOM: info->lb = LbPolicy::Random; break;
    case cv3::Cluster::RING_HASH: info->lb = LbPolicy::RingHash; break;
    case cv3::Cluster::MAGLEV: info->lb = LbPolicy::Maglev; break;
    case cv3::Cluster::CLUSTER_PROVIDED: info->lb = LbPolicy::ClusterProvided; break;
    default: throw std::invalid_argument("lb_policy: unsupported load balancing policy");
  }
  if (info->type == Type::OriginalDst && info->lb != LbPolicy::ClusterProvided && c.lb_policy() != cv3::Cluster::ROUND_ROBIN)
    throw std::invalid_argument("lb_policy: ORIGINAL_DST clusters use CLUSTER_PROVIDED");
  if (c.has_connect_timeout()) info->connect_timeout = toMillis(c.connect_timeout());
  // Upstream connections without requests close after idle_timeout (default 1 h; 0 never).
  auto idle = [&info](const envoy::config::core::v3::HttpProtocolOptions& o) {
    if (o.has_idle_timeout()) info->idle_timeout = timeoutOrNever(o.idle_timeout());
  };
  if (c.has_common_http_protocol_options()) idle(c.common_http_protocol_options());
  const envoy::config::core::v3::Http2ProtocolOptions* h2 = c.has_http2_protocol_options() ? &c.http2_protocol_options() : nullptr;
  if (auto it = c.typed_extension_protocol_options().find("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
      it != c.typed_extension_protocol_options().end()) {
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
    if (!it->second.UnpackTo(&options))
      throw std::invalid_argument("typed_extension_protocol_options: expected an HttpProtocolOptions");
    if (options.has_common_http_protocol_options()) idle(options.common_http_protocol_options());
    if (options.explicit_http_config().has_http2_protocol_options()) h2 = &options.explicit_http_config().http2_protocol_options();
    if (h2) info->h2 = h2OptionsFrom(*h2);  // before `options` goes away
    info->http2 = h2 != nullptr;
  } else if (h2) {
    info->http2 = true;
    info->h2 = h2OptionsFrom(*h2);
  }
  // A GOAWAY'd upstream connection (idle, its host gone, the proxy draining) lets its streams
  // finish, however long their own timeouts allow, as Envoy's drained pools do.
  info->h2.drain_timeout = kNoTimeout;
  if (c.has_transport_socket() && !isPlaintextTransportSocket(c.transport_socket())) {
    info->tls = std::make_shared<const UpstreamTls>(compileUpstreamTls(c.transport_socket(), "transport_socket", secrets));
  }
  if (c.has_dns_refresh_rate()) info->dns_refresh = toMillis(c.dns_refresh_rate());
  if (c.has_per_connection_buffer_limit_bytes()) info->per_connection_buffer_limit = c.per_connection_buffer_limit_bytes().value();
  if (c.has_max_requests_per_connection()) info->max_requests_per_connection = c.max_requests_per_connection().value();
  if (c.has_ring_hash_lb_config() && c.ring_hash_lb_config().has_minimum_ring_size())
    info->ring_min_size = c.ring_hash_lb_config().minimum_ring_size().value();
  info->locality_weighted = c.has_common_lb_config() && c.common_lb_config().has_locality_weighted_lb_config();
  if (c.has_circuit_breakers()) {
    for (const auto& t : c.circuit_breakers().thresholds()) {
      if (t.priority() != envoy::config::core::v3::DEFAULT) continue;
      if (t.has_max_connections()) info->limits.max_connections = t.max_connections().value();
      if (t.has_max_pending_requests()) info->limits.max_pending_requests = t.max_pending_requests().value();
      if (t.has_max_requests()) info->limits.max_requests = t.max_requests().value();
      if (t.has_max_retries()) info->limits.max_retries = t.max_retries().value();
    }
  }
  if (c.has_outlier_detection()) {
    const auto& o = c.outlier_detection();
    auto& s = info->outlier;
    s.enabled = true;
    if (o.has_consecutive_5xx()) s.consecutive_5xx = o.consecutive_5xx().value();
    if (o.has_consecutive_gateway_failure()) s.consecutive_gateway_failure = o.consecutive_gateway_failure().value();
    if (o.has_enforcing_consecutive_5xx()) s.enforce_5xx = o.enforcing_consecutive_5xx().value() > 0;
    if (o.has_enforcing_consecutive_gateway_failure())
      s.enforce_gateway_failure = o.enforcing_consecutive_gateway_failure().value() > 0;
    if (o.has_interval()) s.interval = toMillis(o.interval());
    if (o.has_base_ejection_time()) s.base_ejection_time = toMillis(o.base_ejection_time());
    if (o.has_max_ejection_percent()) s.max_ejection_percent = o.max_ejection_percent().value();
  }
  if (c.has_eds_cluster_config()) info->eds_service_name = c.eds_cluster_config().service_name();
  if (info->type == Type::Eds) {
    if (!c.has_eds_cluster_config() || !c.eds_cluster_config().has_eds_config())
      throw std::invalid_argument("eds_cluster_config.eds_config: required for EDS clusters (ads: {})");
    const auto& source = c.eds_cluster_config().eds_config();
    if (auto err = adsOnlyError(source, "eds_cluster_config.eds_config"); !err.empty()) throw std::invalid_argument(err);
    info->eds_initial_fetch_timeout = initialFetchTimeout(source);
  }
  info->targets = compileLoadAssignment(c.load_assignment(), info->type == Type::Static || info->type == Type::Eds,
                                        "load_assignment");
  if ((info->type == Type::StrictDns || info->type == Type::LogicalDns || info->type == Type::Static) &&
      info->targets.empty() && info->type != Type::Static)
    throw std::invalid_argument("load_assignment: DNS clusters need at least one endpoint");
  info->stats = std::make_shared<ClusterStats>(stats, info->name);
  return info;
}

std::vector<ClusterInfo::Target> compileLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& la,
                                                       bool require_ip, const std::string& field) {
  std::vector<ClusterInfo::Target> out;
  std::string prefix = field.empty() ? "" : field + ".";
  for (int i = 0; i < la.endpoints_size(); ++i) {
    const auto& locality_endpoints = la.endpoints(i);
    const auto& l = locality_endpoints.locality();
    std::string locality = l.region() + "/" + l.zone() + "/" + l.sub_zone();
    if (locality_endpoints.has_load_balancing_weight() && locality_endpoints.load_balancing_weight().value() == 0)
      throw std::invalid_argument(prefix + "endpoints[" + std::to_string(i) +
                                  "].load_balancing_weight: must be at least 1");
    uint32_t locality_weight = locality_endpoints.load_balancing_weight().value();
    for (int j = 0; j < locality_endpoints.lb_endpoints_size(); ++j) {
      const auto& lb = locality_endpoints.lb_endpoints(j);
      std::string where = prefix + "endpoints[" + std::to_string(i) + "].lb_endpoints[" + std::to_string(j) + "]";
      if (lb.endpoint().address().has_pipe()) {
        // A Unix socket: what an envoy_grpc service (ADS, SDS) may name; the HTTP and TCP pools
        // dial socket addresses only, so the endpoint is no host for routes.
        observe::logScope("proxy").info("{}: pipe {} serves gRPC config sources only, not routes", where,
                                        lb.endpoint().address().pipe().path());
        continue;
      }
      if (!lb.endpoint().address().has_socket_address())
        throw std::invalid_argument(where + ".endpoint.address: a socket_address or a pipe is required");
      const auto& sa = lb.endpoint().address().socket_address();
      ClusterInfo::Target t;
      t.address = sa.address();
      t.port = uint16_t(sa.port_value());
      if (sa.port_value() > 65535 || sa.port_value() == 0)
        throw std::invalid_argument(where + ".endpoint.address.socket_address.port_value: must be 1-65535");
      if (lb.has_load_balancing_weight() && lb.load_balancing_weight().value() == 0)
        throw std::invalid_argument(where + ".load_balancing_weight: must be at least 1");
      t.weight = lb.has_load_balancing_weight() ? lb.load_balancing_weight().value() : 1;
      t.priority = locality_endpoints.priority();
      t.locality = locality;
      t.locality_weight = locality_weight;
      auto health = lb.health_status();
      t.healthy = health == envoy::config::core::v3::UNKNOWN || health == envoy::config::core::v3::HEALTHY;
      if (require_ip) {
        boost::system::error_code ec;
        boost::asio::ip::make_address(t.address, ec);
        if (ec) throw std::invalid_argument(where + ".endpoint.address.socket_address.address: an IP address is required, got \"" + t.address + "\"");
      }
      out.push_back(std::move(t));
    }
  }
  return out;
}

}  // namespace monomesh::proxy
