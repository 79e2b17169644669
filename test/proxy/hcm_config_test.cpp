// HcmConfig::compile: the HTTP connection manager's filter chain rules, defaults, RDS, codec,
// upgrades, access logs and stats; plus the fault filter as the connection manager runs it.
#include <boost/test/unit_test.hpp>

#include "proxy/config/proto_values.h"

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "proxy/http/hcm_config.h"
#include "proxy_test_util.h"

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;

namespace {

const char* kRoutes = R"(
stat_prefix: ingress_http
route_config:
  name: local
  virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: web}}]}]
)";

const char* kRouter = "- name: envoy.filters.http.router\n";

// An HCM with the standard route_config, `filters` as http_filters (YAML list items) and `extra`.
std::string withFilters(const std::string& filters, const std::string& extra = "") {
  return std::string(kRoutes) + "http_filters:\n" + filters + extra;
}

std::shared_ptr<const HcmConfig> compileYaml(const std::string& yaml, monomesh::observe::StatsStore& stats) {
  return HcmConfig::compile(fromYaml<hcm::HttpConnectionManager>(yaml), stats);
}

std::shared_ptr<const HcmConfig> compileYaml(const std::string& yaml) {
  static monomesh::observe::StatsStore stats;
  return compileYaml(yaml, stats);
}

std::string compileError(const std::string& yaml) {
  monomesh::observe::StatsStore stats;
  return errorOf([&] { compileYaml(yaml, stats); });
}

// Runs filter `index` of `config` on `request`.
FilterResult runFilter(const HcmConfig& config, size_t index, RequestContext& request) {
  request.vhost = config.routes ? config.routes->findVirtualHost("x") : nullptr;
  const HttpFilterSlot& slot = config.filters.at(index);
  BOOST_REQUIRE(slot.on_request != nullptr);
  return slot.on_request(slot.config.get(), request);
}

// What filter `index` does with a GET carrying `headers`.
FilterResult::Kind kindFor(const HcmConfig& config, size_t index, Fields& headers, uint64_t random = 0) {
  RequestContext request{headers, "GET", "/"};
  request.random = random;
  return runFilter(config, index, request).kind;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hcm_config)

BOOST_AUTO_TEST_CASE(router_only) {
  auto c = compileYaml(withFilters(kRouter));
  BOOST_TEST(c->stat_prefix == "ingress_http");
  BOOST_TEST(c->routes != nullptr);
  BOOST_TEST(c->routes->name() == "local");
  BOOST_TEST(c->rds_name.empty());
  BOOST_TEST(c->filters.empty());  // the router ends the chain; it is not a slot
}

BOOST_AUTO_TEST_CASE(router_settings_and_extended_connect) {
  BOOST_TEST(!compileYaml(withFilters(kRouter))->suppress_envoy_headers);
  BOOST_TEST(!compileYaml(withFilters(kRouter))->h2.enable_connect_protocol);
  auto c = compileYaml(withFilters(R"(- name: envoy.filters.http.router
  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, suppress_envoy_headers: true}
)",
                                   "http2_protocol_options: {allow_connect: true}\n"));
  BOOST_TEST(c->suppress_envoy_headers);
  BOOST_TEST(c->h2.enable_connect_protocol);  // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441)
}

BOOST_AUTO_TEST_CASE(filters_before_the_router_in_order) {
  auto c = compileYaml(withFilters(
      "- name: envoy.filters.http.cors\n"
      "- name: envoy.fault\n"
      "  typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}\n"
      "- name: envoy.router\n"));
  BOOST_TEST_REQUIRE(c->filters.size() == 2u);
  BOOST_TEST(c->filters[0].name == "envoy.filters.http.cors");
  BOOST_TEST(c->filters[1].name == "envoy.filters.http.fault");  // canonical name for the 1.1 alias
  BOOST_TEST(c->filters[0].on_request != nullptr);
  BOOST_TEST(c->filters[1].on_request != nullptr);
}

BOOST_AUTO_TEST_CASE(missing_router_throws) {
  std::string none = compileError(std::string(kRoutes) + "http_filters: []\n");
  BOOST_TEST(contains(none, "http_filters"), none);
  BOOST_TEST(contains(none, "envoy.filters.http.router"), none);
  std::string absent = compileError(kRoutes);
  BOOST_TEST(contains(absent, "envoy.filters.http.router"), absent);
  std::string fault_only = compileError(withFilters("- name: envoy.filters.http.fault\n"));
  BOOST_TEST(contains(fault_only, "envoy.filters.http.router"), fault_only);
}

BOOST_AUTO_TEST_CASE(filter_after_router_throws) {
  std::string error = compileError(withFilters(std::string(kRouter) + "- name: envoy.filters.http.fault\n"));
  BOOST_TEST(contains(error, "http_filters[1] (envoy.filters.http.fault)"), error);
  BOOST_TEST(contains(error, "router"), error);
  std::string two_routers = compileError(withFilters(std::string(kRouter) + kRouter));
  BOOST_TEST(contains(two_routers, "http_filters[1]"), two_routers);
}

BOOST_AUTO_TEST_CASE(unknown_filter_throws_unless_optional) {
  std::string error = compileError(withFilters(std::string("- name: envoy.filters.http.lua\n") + kRouter));
  BOOST_TEST(contains(error, "http_filters[0] (envoy.filters.http.lua)"), error);
  BOOST_TEST(contains(error, "unknown HTTP filter"), error);
  auto c = compileYaml(withFilters(std::string("- {name: envoy.filters.http.lua, is_optional: true}\n") + kRouter));
  BOOST_TEST(c->filters.empty());
}

BOOST_AUTO_TEST_CASE(filter_found_by_type_url) {
  auto c = compileYaml(withFilters(
      "- name: my-fault\n"
      "  typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}\n"
      "- name: envoy.router\n"));
  BOOST_TEST_REQUIRE(c->filters.size() == 1u);
  BOOST_TEST(c->filters[0].name == "envoy.filters.http.fault");
}

BOOST_AUTO_TEST_CASE(wrong_typed_config_type_throws) {
  std::string error = compileError(withFilters(
      "- name: envoy.filters.http.router\n"
      "  typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}\n"));
  BOOST_TEST(contains(error, "http_filters[0] (envoy.filters.http.router)"), error);
  BOOST_TEST(contains(error, "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"), error);
  std::string cors = compileError(withFilters(
      "- name: envoy.filters.http.cors\n"
      "  typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy}\n" +
      std::string(kRouter)));
  BOOST_TEST(contains(cors, "http_filters[0] (envoy.filters.http.cors)"), cors);
  BOOST_TEST(contains(cors, "envoy.extensions.filters.http.cors.v3.Cors"), cors);
}

BOOST_AUTO_TEST_CASE(filter_config_errors_name_the_filter) {
  std::string error = compileError(withFilters(
      "- name: envoy.filters.http.fault\n"
      "  typed_config:\n"
      "    \"@type\": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault\n"
      "    abort: {http_status: 99, percentage: {numerator: 1}}\n" +
      std::string(kRouter)));
  BOOST_TEST(contains(error, "http_filters[0] (envoy.filters.http.fault)"), error);
  BOOST_TEST(contains(error, "http_status"), error);
}

BOOST_AUTO_TEST_CASE(disabled_filter_is_skipped) {
  auto c = compileYaml(withFilters(std::string("- {name: envoy.filters.http.fault, disabled: true}\n") + kRouter));
  BOOST_TEST(c->filters.empty());
}

BOOST_AUTO_TEST_CASE(defaults) {
  auto c = compileYaml(withFilters(kRouter));
  BOOST_TEST(c->generate_request_id);
  BOOST_TEST(c->max_request_headers_bytes == 60u * 1024u);
  BOOST_TEST(c->stream_idle_timeout.count() == 5 * 60 * 1000);
  BOOST_TEST(c->request_timeout.count() == 0);
  BOOST_TEST(c->request_headers_timeout.count() == 0);
  BOOST_TEST(c->idle_timeout.count() == 3600 * 1000);
  BOOST_TEST(!c->use_remote_address);
  BOOST_TEST(!c->skip_xff_append);
  BOOST_TEST(!c->preserve_external_request_id);
  BOOST_TEST(c->server_name == "envoy");
  BOOST_TEST(!c->websocket);
  BOOST_TEST(c->access_logs.empty());
}

BOOST_AUTO_TEST_CASE(settings_override_defaults) {
  auto c = compileYaml(withFilters(kRouter, R"(
generate_request_id: false
max_request_headers_kb: 96
stream_idle_timeout: 0s
request_timeout: 30s
request_headers_timeout: 10s
common_http_protocol_options: {idle_timeout: 90s}
use_remote_address: true
skip_xff_append: true
preserve_external_request_id: true
server_name: monomesh
)"));
  BOOST_TEST(!c->generate_request_id);
  BOOST_TEST(c->max_request_headers_bytes == 96u * 1024u);
  // 0s disables the timeout, as in Envoy: it becomes a window that never fires.
  BOOST_TEST((c->stream_idle_timeout == monomesh::proxy::kNoTimeout));
  BOOST_TEST(c->request_timeout.count() == 30000);
  BOOST_TEST(c->request_headers_timeout.count() == 10000);
  BOOST_TEST(c->idle_timeout.count() == 90000);
  BOOST_TEST(c->use_remote_address);
  BOOST_TEST(c->skip_xff_append);
  BOOST_TEST(c->preserve_external_request_id);
  BOOST_TEST(c->server_name == "monomesh");
}

BOOST_AUTO_TEST_CASE(rds_sets_rds_name) {
  auto c = compileYaml("stat_prefix: s\nrds: {route_config_name: outbound_80, config_source: {ads: {}}}\nhttp_filters:\n" +
                       std::string(kRouter));
  BOOST_TEST(c->rds_name == "outbound_80");
  BOOST_TEST(c->routes == nullptr);
}

BOOST_AUTO_TEST_CASE(route_specifier_and_stat_prefix_are_required) {
  std::string no_routes = compileError("stat_prefix: s\nhttp_filters:\n" + std::string(kRouter));
  BOOST_TEST(contains(no_routes, "route_config"), no_routes);
  std::string no_prefix = compileError("rds: {route_config_name: r}\nhttp_filters:\n" + std::string(kRouter));
  BOOST_TEST(contains(no_prefix, "stat_prefix"), no_prefix);
}

BOOST_AUTO_TEST_CASE(route_config_errors_are_prefixed) {
  std::string error = compileError(
      "stat_prefix: s\n"
      "route_config: {virtual_hosts: [{name: vh, domains: ['*'], routes: [{match: {prefix: /}, direct_response: {status: 700}}]}]}\n"
      "http_filters:\n" +
      std::string(kRouter));
  BOOST_TEST(contains(error, "route_config.virtual_hosts[0] (vh).routes[0]"), error);
}

BOOST_AUTO_TEST_CASE(codec_type) {
  std::string http3 = compileError(withFilters(kRouter, "codec_type: HTTP3\n"));
  BOOST_TEST(contains(http3, "codec_type"), http3);
  BOOST_TEST((compileYaml(withFilters(kRouter, "codec_type: AUTO\n"))->codec == HcmConfig::Codec::Auto));
  BOOST_TEST((compileYaml(withFilters(kRouter, "codec_type: HTTP1\n"))->codec == HcmConfig::Codec::Http1));
  BOOST_TEST((compileYaml(withFilters(kRouter, "codec_type: HTTP2\n"))->codec == HcmConfig::Codec::Http2));
}

BOOST_AUTO_TEST_CASE(http2_protocol_options) {
  auto c = compileYaml(withFilters(kRouter,
                                   "http2_protocol_options: {max_concurrent_streams: 7, initial_stream_window_size: 65536,\n"
                                   "  initial_connection_window_size: 1048576}\n"));
  BOOST_TEST(c->h2.max_concurrent_streams == 7u);
  BOOST_TEST(c->h2.initial_stream_window_size == 65536u);
  BOOST_TEST(c->h2.initial_connection_window_size == 1048576u);
  std::string tiny = compileError(withFilters(kRouter, "http2_protocol_options: {initial_stream_window_size: 100}\n"));
  BOOST_TEST(contains(tiny, "http2_protocol_options.initial_stream_window_size: 100 is outside 65535..2147483647"), tiny);
  std::string zero = compileError(withFilters(kRouter, "http2_protocol_options: {max_concurrent_streams: 0}\n"));
  BOOST_TEST(contains(zero, "max_concurrent_streams: must be at least 1"), zero);
}

BOOST_AUTO_TEST_CASE(websocket_upgrade_configs) {
  BOOST_TEST(compileYaml(withFilters(kRouter, "upgrade_configs: [{upgrade_type: websocket}]\n"))->websocket);
  BOOST_TEST(compileYaml(withFilters(kRouter, "upgrade_configs: [{upgrade_type: WebSocket, enabled: true}]\n"))->websocket);
  BOOST_TEST(!compileYaml(withFilters(kRouter, "upgrade_configs: [{upgrade_type: websocket, enabled: false}]\n"))->websocket);
  BOOST_TEST(!compileYaml(withFilters(kRouter, "upgrade_configs: [{upgrade_type: CONNECT}]\n"))->websocket);
}

BOOST_AUTO_TEST_CASE(access_logs_compile_and_errors_are_prefixed) {
  auto ok = compileYaml(withFilters(kRouter, R"(
access_log:
- name: envoy.access_loggers.stdout
  typed_config: {"@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog}
)"));
  BOOST_TEST(ok->access_logs.size() == 1u);
  std::string error = compileError(withFilters(kRouter, R"(
access_log:
- name: first
  typed_config: {"@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog}
- name: second
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog
    log_format: {text_format: "%BOGUS%"}
)"));
  BOOST_TEST(error.starts_with("access_log[1]: "), error);
  BOOST_TEST(contains(error, "BOGUS"), error);
  std::string unsupported = compileError(withFilters(kRouter, R"(
access_log:
- name: grpc
  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
)"));
  BOOST_TEST(unsupported.starts_with("access_log[0]: "), unsupported);
}

BOOST_AUTO_TEST_CASE(stats_names) {
  monomesh::observe::StatsStore stats;
  auto c = compileYaml(withFilters(kRouter), stats);
  BOOST_REQUIRE(c->stats != nullptr);
  c->stats->rq_total->inc();
  auto values = stats.values();
  for (const char* name : {"http.ingress_http.downstream_rq_total", "http.ingress_http.downstream_rq_2xx",
                           "http.ingress_http.downstream_rq_5xx", "http.ingress_http.downstream_cx_total",
                           "http.ingress_http.no_route", "http.ingress_http.downstream_cx_active",
                           "http.ingress_http.downstream_rq_active"})
    BOOST_TEST(values.count(name) == 1u, name << " is missing");
  BOOST_TEST(values["http.ingress_http.downstream_rq_total"] == 1);
}

// ---- the fault filter as configured on the connection manager ----

BOOST_AUTO_TEST_CASE(fault_abort_and_delay) {
  auto c = compileYaml(withFilters(R"(
- name: envoy.filters.http.fault
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
    abort: {http_status: 503, percentage: {numerator: 100}}
- name: envoy.filters.http.fault
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
    delay: {fixed_delay: 1.5s, percentage: {numerator: 100}}
)" + std::string(kRouter)));
  BOOST_TEST_REQUIRE(c->filters.size() == 2u);
  Fields headers;
  RequestContext first{headers, "GET", "/"};
  FilterResult abort = runFilter(*c, 0, first);
  BOOST_TEST((abort.kind == FilterResult::Kind::LocalReply));
  BOOST_TEST(abort.status == 503u);
  BOOST_TEST(first.response_flags == "FI");
  RequestContext second{headers, "GET", "/"};
  FilterResult delay = runFilter(*c, 1, second);
  BOOST_TEST((delay.kind == FilterResult::Kind::Delay));
  BOOST_TEST(delay.delay.count() == 1500);
  BOOST_TEST(second.response_flags == "DI");
}

BOOST_AUTO_TEST_CASE(fault_percentage_zero_never_fires) {
  auto c = compileYaml(withFilters(R"(
- name: envoy.filters.http.fault
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
    abort: {http_status: 503, percentage: {numerator: 0}}
)" + std::string(kRouter)));
  Fields headers;
  for (uint64_t random : {0ull, 123456789ull, 999999999999ull})
    BOOST_TEST((kindFor(*c, 0, headers, random) == FilterResult::Kind::Continue));
}

// HTTPFault.headers are route HeaderMatchers: a suffix/contains/range/present_match:false
// condition must be honoured, not reduced to "the header is present".
BOOST_AUTO_TEST_CASE(fault_header_conditions_are_honoured) {
  auto c = compileYaml(withFilters(R"(
- name: envoy.filters.http.fault
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
    abort: {http_status: 503, percentage: {numerator: 100}}
    headers: [{name: x-canary, prefix_match: test-}]
- name: envoy.filters.http.fault
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
    abort: {http_status: 503, percentage: {numerator: 100}}
    headers: [{name: x-canary, suffix_match: -test}]
- name: envoy.filters.http.fault
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
    abort: {http_status: 503, percentage: {numerator: 100}}
    headers: [{name: x-canary, present_match: false}]
)" + std::string(kRouter)));
  BOOST_TEST_REQUIRE(c->filters.size() == 3u);
  Fields prod;
  prod.insert("x-canary", "prod");
  Fields test;
  test.insert("x-canary", "test-1");
  Fields none;
  using K = FilterResult::Kind;
  BOOST_TEST((kindFor(*c, 0, test) == K::LocalReply));  // prefix matches
  BOOST_TEST((kindFor(*c, 0, prod) == K::Continue));
  BOOST_TEST((kindFor(*c, 1, prod) == K::Continue));    // "prod" does not end with "-test"
  BOOST_TEST((kindFor(*c, 2, prod) == K::Continue));    // the header is present
  BOOST_TEST((kindFor(*c, 2, none) == K::LocalReply));  // absent, as required
}

BOOST_AUTO_TEST_SUITE_END()
