#include "proxy/http/hcm_config.h"

#include <stdexcept>

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "proxy/config/config_source.h"
#include "proxy/config/http2_options.h"
#include "proxy/config/proto_values.h"

namespace monomesh::proxy {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;

HcmStats::HcmStats(observe::StatsStore& s, const std::string& prefix) {
  auto n = [&](const char* stat) { return "http." + prefix + "." + stat; };
  rq_total = &s.counter(n("downstream_rq_total"));
  rq_1xx = &s.counter(n("downstream_rq_1xx"));
  rq_2xx = &s.counter(n("downstream_rq_2xx"));
  rq_3xx = &s.counter(n("downstream_rq_3xx"));
  rq_4xx = &s.counter(n("downstream_rq_4xx"));
  rq_5xx = &s.counter(n("downstream_rq_5xx"));
  cx_total = &s.counter(n("downstream_cx_total"));
  cx_destroy = &s.counter(n("downstream_cx_destroy"));
  no_route = &s.counter(n("no_route"));
  no_cluster = &s.counter(n("no_cluster"));
  rq_timeout = &s.counter(n("downstream_rq_timeout"));
  rq_too_large = &s.counter(n("downstream_rq_too_large"));
  header_overflow = &s.counter(n("downstream_rq_header_overflow"));
  rq_direct_response = &s.counter(n("downstream_rq_direct_response"));
  rq_redirect = &s.counter(n("rq_redirect"));
  cx_protocol_error = &s.counter(n("downstream_cx_protocol_error"));
  cx_active = &s.gauge(n("downstream_cx_active"));
  rq_active = &s.gauge(n("downstream_rq_active"));
}

std::shared_ptr<const HcmConfig> HcmConfig::compile(const hcm::HttpConnectionManager& h, observe::StatsStore& stats,
                                                    RouteConfigProviders* rds, AccessLogManager* access_log_files) {
  auto c = std::make_shared<HcmConfig>();
  c->stat_prefix = h.stat_prefix();
  if (c->stat_prefix.empty()) throw std::invalid_argument("stat_prefix: required");
  if (h.codec_type() == hcm::HttpConnectionManager::HTTP3)
    throw std::invalid_argument("codec_type: HTTP3 is not supported (QUIC); use AUTO, HTTP1 or HTTP2");
  if (h.codec_type() == hcm::HttpConnectionManager::HTTP1) c->codec = Codec::Http1;
  if (h.codec_type() == hcm::HttpConnectionManager::HTTP2) c->codec = Codec::Http2;
  try {
    c->h2 = h2OptionsFrom(h.http2_protocol_options());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("http2_protocol_options.") + e.what());
  }
  c->h2.idle_timeout = std::chrono::milliseconds(0);  // the HCM's idle_timeout applies (below)
  if (h.has_route_config()) {
    try {
      c->routes = RouteTable::compile(h.route_config(), parsePerFilterConfig);
    } catch (const std::exception& e) {
      throw std::invalid_argument(std::string("route_config.") + e.what());
    }
  } else if (h.has_rds()) {
    c->rds_name = h.rds().route_config_name();
    if (c->rds_name.empty()) throw std::invalid_argument("rds.route_config_name: required");
    if (!h.rds().has_config_source()) throw std::invalid_argument("rds.config_source: required (ads: {})");
    if (auto err = adsOnlyError(h.rds().config_source(), "rds.config_source"); !err.empty()) throw std::invalid_argument(err);
    c->rds_initial_fetch_timeout = initialFetchTimeout(h.rds().config_source());
  } else {
    throw std::invalid_argument("route_specifier: one of route_config or rds is required");
  }
  bool router = false;
  for (int i = 0; i < h.http_filters_size(); ++i) {
    const auto& f = h.http_filters(i);
    std::string where = "http_filters[" + std::to_string(i) + "] (" + f.name() + ")";
    if (router) throw std::invalid_argument(where + ": no filter may follow the router");
    const HttpFilterFactory* factory = findHttpFilter(f.name(), f.has_typed_config() ? f.typed_config().type_url() : "");
    if (factory == nullptr) {
      if (f.is_optional()) continue;
      throw std::invalid_argument(where + ": unknown HTTP filter");
    }
    if (f.has_typed_config() && f.typed_config().type_url() != factory->type_url)
      throw std::invalid_argument(where + ": typed_config must be " + factory->type_url);
    try {
      HttpFilterSlot slot{factory->name, factory->parse(f.has_typed_config() ? &f.typed_config() : nullptr),
                          factory->on_request};
      if (factory->on_request == nullptr) {
        router = true;
        envoy::extensions::filters::http::router::v3::Router settings;
        if (f.has_typed_config() && !f.typed_config().UnpackTo(&settings))
          throw std::invalid_argument("typed_config does not parse as " + settings.GetTypeName());
        c->suppress_envoy_headers = settings.suppress_envoy_headers();
      }
      else if (!f.disabled()) c->filters.push_back(std::move(slot));
    } catch (const std::exception& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
  }
  if (!router) throw std::invalid_argument("http_filters: the last filter must be envoy.filters.http.router");
  if (h.has_use_remote_address()) c->use_remote_address = h.use_remote_address().value();
  c->skip_xff_append = h.skip_xff_append();
  if (h.has_generate_request_id()) c->generate_request_id = h.generate_request_id().value();
  c->preserve_external_request_id = h.preserve_external_request_id();
  if (h.has_max_request_headers_kb()) c->max_request_headers_bytes = size_t(h.max_request_headers_kb().value()) * 1024;
  if (h.has_request_timeout()) c->request_timeout = toMillis(h.request_timeout());
  if (h.has_stream_idle_timeout()) c->stream_idle_timeout = timeoutOrNever(h.stream_idle_timeout());
  if (h.has_request_headers_timeout()) c->request_headers_timeout = toMillis(h.request_headers_timeout());
  if (h.has_common_http_protocol_options() && h.common_http_protocol_options().has_idle_timeout())
    c->idle_timeout = timeoutOrNever(h.common_http_protocol_options().idle_timeout());
  if (!h.server_name().empty()) c->server_name = h.server_name();
  for (const auto& u : h.upgrade_configs()) {
    std::string type = u.upgrade_type();
    for (auto& ch : type) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    if (type == "websocket" && (!u.has_enabled() || u.enabled().value())) c->websocket = true;
  }
  for (int i = 0; i < h.access_log_size(); ++i) {
    try {
      c->access_logs.push_back(AccessLogger::create(h.access_log(i), access_log_files));
    } catch (const std::exception& e) {
      throw std::invalid_argument("access_log[" + std::to_string(i) + "]: " + e.what());
    }
  }
  c->stats = std::make_shared<HcmStats>(stats, c->stat_prefix);
  if (rds && !c->rds_name.empty()) c->rds = rds->get(c->rds_name, c->stat_prefix);
  return c;
}

}  // namespace monomesh::proxy
