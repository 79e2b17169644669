// An HttpConnectionManager compiled for serving: routes, filter chain, header handling,
// timeouts, limits, access logs and its Envoy stats (http.<stat_prefix>.*).
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "net/h2/h2_options.h"
#include "observe/stats_store.h"
#include "proxy/http/access_log.h"
#include "proxy/http/http_filters.h"
#include "proxy/http/route_config_provider.h"
#include "proxy/http/route_table.h"

namespace monomesh::proxy {

struct HcmStats {
  observe::Counter *rq_total, *rq_1xx, *rq_2xx, *rq_3xx, *rq_4xx, *rq_5xx, *cx_total, *cx_destroy, *no_route,
      *no_cluster, *rq_timeout, *rq_too_large, *header_overflow, *rq_direct_response, *rq_redirect, *cx_protocol_error;
  observe::Gauge *cx_active, *rq_active;
  HcmStats(observe::StatsStore& store, const std::string& prefix);
};

struct HcmConfig {
  std::string stat_prefix;
  // codec_type: AUTO serves HTTP/1.1 and HTTP/2 (h2c prior knowledge, or ALPN "h2" over TLS).
  enum class Codec { Auto, Http1, Http2 } codec = Codec::Auto;
  net::h2::H2Options h2;  // http2_protocol_options
  std::shared_ptr<const RouteTable> routes;  // route_config
  std::string rds_name;                      // rds: routes come from RDS instead
  std::shared_ptr<const RouteConfigProvider> rds;  // (null when compiled without a registry)
  std::chrono::milliseconds rds_initial_fetch_timeout{15000};  // its listener warms this long at most
  std::vector<HttpFilterSlot> filters;  // run before the router, in order
  bool use_remote_address = false;
  bool skip_xff_append = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
  size_t max_request_headers_bytes = 60 * 1024;
  std::chrono::milliseconds request_timeout{0};
  std::chrono::milliseconds stream_idle_timeout{300000};
  std::chrono::milliseconds idle_timeout{3600000};
  std::chrono::milliseconds request_headers_timeout{0};
  std::string server_name = "envoy";
  bool suppress_envoy_headers = false;  // the router's: no x-envoy-expected-rq-timeout-ms upstream
  bool websocket = false;  // HCM-level upgrade_configs
  std::vector<std::shared_ptr<const AccessLogger>> access_logs;
  std::shared_ptr<HcmStats> stats;
  // Set when the listener this HCM belongs to is removed or replaced (LDS): its connections
  // finish the request in flight and close.
  mutable std::atomic<bool> draining{false};

  // The routes a request on worker `worker` uses (hold it for the request): RDS's latest on that
  // worker, else the HCM's own. Null while RDS has sent nothing.
  std::shared_ptr<const RouteTable> routeTable(size_t worker) const { return rds ? rds->onWorker(worker) : routes; }
  bool isDraining() const noexcept { return draining.load(std::memory_order_relaxed); }

  // Throws std::invalid_argument naming the field and the problem. `rds` provides the route
  // tables of an HCM with rds (without it only rds_name is set). Access logs open their files
  // through `access_log_files` (null: unbuffered, for tools and tests).
  static std::shared_ptr<const HcmConfig> compile(
      const envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager& hcm,
      observe::StatsStore& stats, RouteConfigProviders* rds = nullptr, AccessLogManager* access_log_files = nullptr);
};

}  // namespace monomesh::proxy
