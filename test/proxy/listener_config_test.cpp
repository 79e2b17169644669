// ListenerConfig: compiling an Envoy Listener (listener filters, filter chains and their
// terminal network filter) and choosing the filter chain for a plaintext connection.
#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>

#include "envoy/config/listener/v3/listener.pb.h"
#include "proxy/listener/listener_config.h"
#include "proxy_test_util.h"

namespace lv3 = envoy::config::listener::v3;
using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;
using tcp = boost::asio::ip::tcp;

namespace {

// A tcp_proxy filter (flow-style YAML) sending to `cluster`.
std::string tcpFilter(const std::string& cluster) {
  return "{name: envoy.filters.network.tcp_proxy, typed_config: {\"@type\": "
         "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: " +
         cluster + ", cluster: " + cluster + "}}";
}

// A filter list of one tcp_proxy.
std::string tcpFilters(const std::string& cluster) { return "[" + tcpFilter(cluster) + "]"; }

const char* kHcmFilter = R"(
    - name: envoy.filters.network.http_connection_manager
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
        stat_prefix: ingress_http
        route_config:
          name: local
          virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: web}}]}]
        http_filters: [{name: envoy.filters.http.router}]
)";

// A listener on 0.0.0.0:15001 with the given filter_chains entries (YAML list items).
std::string listener(const std::string& chains, const std::string& extra = "") {
  return "name: virtual\n"
         "address: {socket_address: {address: 0.0.0.0, port_value: 15001}}\n" +
         extra + "filter_chains:\n" + chains;
}

std::string chain(const std::string& name, const std::string& match) {
  return "- name: " + name + "\n  filter_chain_match: " + match + "\n  filters: " + tcpFilters(name) + "\n";
}

std::shared_ptr<const ListenerConfig> compileYaml(const std::string& yaml, monomesh::observe::StatsStore& stats) {
  return ListenerConfig::compile(fromYaml<lv3::Listener>(yaml), stats);
}

std::string compileError(const std::string& yaml) {
  monomesh::observe::StatsStore stats;
  return errorOf([&] { compileYaml(yaml, stats); });
}

std::string selected(const ListenerConfig& l, const std::string& ip, uint16_t port) {
  const FilterChainConfig* c = l.select(tcp::endpoint(boost::asio::ip::make_address(ip), port));
  return c == nullptr ? "(none)" : c->name;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(listener_config)

BOOST_AUTO_TEST_CASE(compiles_an_http_listener) {
  monomesh::observe::StatsStore stats;
  auto l = compileYaml(std::string("name: http\naddress: {socket_address: {address: 127.0.0.1, port_value: 8080}}\n"
                                   "filter_chains:\n- filters:") + kHcmFilter,
                       stats);
  BOOST_TEST(l->name == "http");
  BOOST_TEST(l->address.address().to_string() == "127.0.0.1");
  BOOST_TEST(l->address.port() == 8080);
  BOOST_TEST(l->bind_to_port);
  BOOST_TEST(!l->use_original_dst);
  BOOST_TEST_REQUIRE(l->chains.size() == 1u);
  BOOST_TEST(l->chains[0].http != nullptr);
  BOOST_TEST(l->chains[0].tcp == nullptr);
  BOOST_TEST(l->chains[0].http->stat_prefix == "ingress_http");
  BOOST_TEST(selected(*l, "127.0.0.1", 8080) == "");  // the unnamed catch-all chain
  auto values = stats.values();
  BOOST_TEST(values.count("listener.127.0.0.1_8080.downstream_cx_total") == 1u);
  BOOST_TEST(values.count("http.ingress_http.downstream_rq_total") == 1u);
}

BOOST_AUTO_TEST_CASE(default_name_and_bind_to_port) {
  monomesh::observe::StatsStore stats;
  auto l = compileYaml("address: {socket_address: {address: 0.0.0.0, port_value: 9000}}\n"
                       "bind_to_port: false\n"
                       "filter_chains:\n" + chain("c", "{}"),
                       stats);
  BOOST_TEST(l->name == "0.0.0.0_9000");
  BOOST_TEST(!l->bind_to_port);
  BOOST_TEST(l->chains.at(0).tcp != nullptr);
  BOOST_TEST(l->chains.at(0).tcp->clusters.at(0).first == "c");
}

BOOST_AUTO_TEST_CASE(destination_port_beats_catch_all) {
  monomesh::observe::StatsStore stats;
  auto l = compileYaml(listener(chain("catch_all", "{}") + chain("port80", "{destination_port: 80}") +
                                chain("port443", "{destination_port: 443}")),
                       stats);
  BOOST_TEST(selected(*l, "10.0.0.1", 80) == "port80");
  BOOST_TEST(selected(*l, "10.0.0.1", 443) == "port443");
  BOOST_TEST(selected(*l, "10.0.0.1", 81) == "catch_all");
  // A port match also beats a catch-all port with a specific address.
  auto m = compileYaml(listener(chain("ip", "{prefix_ranges: [{address_prefix: 10.0.0.1, prefix_len: 32}]}") +
                                chain("port", "{destination_port: 80}")),
                       stats);
  BOOST_TEST(selected(*m, "10.0.0.1", 80) == "port");
  BOOST_TEST(selected(*m, "10.0.0.1", 81) == "ip");
}

BOOST_AUTO_TEST_CASE(longest_prefix_range_wins) {
  monomesh::observe::StatsStore stats;
  auto l = compileYaml(listener(chain("p8", "{prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}") +
                                chain("p32", "{prefix_ranges: [{address_prefix: 10.1.2.3, prefix_len: 32}]}") +
                                chain("p16", "{prefix_ranges: [{address_prefix: 10.1.0.0, prefix_len: 16}]}") +
                                chain("v6", "{prefix_ranges: [{address_prefix: \"fd00::\", prefix_len: 8}]}")),
                       stats);
  BOOST_TEST(selected(*l, "10.1.2.3", 80) == "p32");
  BOOST_TEST(selected(*l, "10.1.9.9", 80) == "p16");
  BOOST_TEST(selected(*l, "10.9.9.9", 80) == "p8");
  BOOST_TEST(selected(*l, "192.168.0.1", 80) == "(none)");
  BOOST_TEST(selected(*l, "fd12::1", 80) == "v6");
  BOOST_TEST(selected(*l, "fe80::1", 80) == "(none)");
  // A prefix without prefix_len is one address.
  auto exact = compileYaml(listener(chain("one", "{prefix_ranges: [{address_prefix: 10.0.0.7}]}")), stats);
  BOOST_TEST(selected(*exact, "10.0.0.7", 1) == "one");
  BOOST_TEST(selected(*exact, "10.0.0.8", 1) == "(none)");
  // A chain with several ranges counts its longest matching one.
  auto multi = compileYaml(listener(chain("wide", "{prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 24}]}") +
                                    chain("both", "{prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}, "
                                                  "{address_prefix: 10.0.0.5, prefix_len: 32}]}")),
                           stats);
  BOOST_TEST(selected(*multi, "10.0.0.5", 1) == "both");
  BOOST_TEST(selected(*multi, "10.0.0.6", 1) == "wide");
}

BOOST_AUTO_TEST_CASE(cidr_contains) {
  CidrMatch c{boost::asio::ip::make_address("192.168.16.0"), 20};
  BOOST_TEST(c.contains(boost::asio::ip::make_address("192.168.31.255")));
  BOOST_TEST(!c.contains(boost::asio::ip::make_address("192.168.32.0")));
  BOOST_TEST(!c.contains(boost::asio::ip::make_address("::ffff:192.168.16.1")));  // families differ
  CidrMatch all{boost::asio::ip::make_address("0.0.0.0"), 0};
  BOOST_TEST(all.contains(boost::asio::ip::make_address("8.8.8.8")));
}

BOOST_AUTO_TEST_CASE(tls_only_chains_never_match_plaintext) {
  monomesh::observe::StatsStore stats;
  auto l = compileYaml(listener(chain("sni", "{server_names: [a.example.com]}") +
                                chain("alpn", "{application_protocols: [h2, http/1.1]}") +
                                chain("tls", "{transport_protocol: tls}") +
                                chain("raw", "{transport_protocol: raw_buffer}")),
                       stats);
  BOOST_TEST(selected(*l, "10.0.0.1", 80) == "raw");
  auto only_tls = compileYaml(listener(chain("sni", "{server_names: [a.example.com]}") + chain("tls", "{transport_protocol: tls}")),
                              stats);
  BOOST_TEST(selected(*only_tls, "10.0.0.1", 80) == "(none)");
}

// What tls_inspector found, for select().
ConnectionInfo tlsHello(std::string sni, std::vector<std::string> alpn = {}) {
  ConnectionInfo info;
  info.transport_protocol = "tls";
  info.server_name = std::move(sni);
  info.application_protocols = std::move(alpn);
  return info;
}

std::string selectedFor(const ListenerConfig& l, const ConnectionInfo& info) {
  const FilterChainConfig* c = l.select(tcp::endpoint(boost::asio::ip::make_address("10.0.0.1"), 443), info);
  return c == nullptr ? "(none)" : c->name;
}

BOOST_AUTO_TEST_CASE(server_names_exact_then_longest_wildcard_then_unnamed) {
  monomesh::observe::StatsStore stats;
  auto l = compileYaml(listener(chain("exact", "{server_names: [api.example.com]}") +
                                chain("wild", "{server_names: ['*.example.com']}") +
                                chain("wilder", "{server_names: ['*.b.example.com']}") +
                                chain("any_tls", "{transport_protocol: tls}") + chain("plain", "{}")),
                       stats);
  BOOST_TEST(selectedFor(*l, tlsHello("api.example.com")) == "exact");
  BOOST_TEST(selectedFor(*l, tlsHello("x.example.com")) == "wild");
  BOOST_TEST(selectedFor(*l, tlsHello("a.b.example.com")) == "wilder");
  BOOST_TEST(selectedFor(*l, tlsHello("example.com")) == "any_tls");  // a wildcard needs a label in front
  BOOST_TEST(selectedFor(*l, tlsHello("other.org")) == "any_tls");
  BOOST_TEST(selected(*l, "10.0.0.1", 443) == "plain");  // no ClientHello: raw_buffer
}

BOOST_AUTO_TEST_CASE(alpn_after_transport_protocol) {
  monomesh::observe::StatsStore stats;
  // Istio's PERMISSIVE inbound: mutual TLS for "istio" ALPN, plaintext for the rest.
  auto l = compileYaml(listener(chain("mtls", "{transport_protocol: tls, application_protocols: [istio]}") +
                                chain("h2", "{transport_protocol: tls, application_protocols: [h2]}") +
                                chain("tls", "{transport_protocol: tls}") + chain("plain", "{transport_protocol: raw_buffer}")),
                       stats);
  BOOST_TEST(selectedFor(*l, tlsHello("", {"istio", "h2"})) == "mtls");
  BOOST_TEST(selectedFor(*l, tlsHello("", {"h2", "http/1.1"})) == "h2");
  BOOST_TEST(selectedFor(*l, tlsHello("", {"http/1.1"})) == "tls");
  BOOST_TEST(selected(*l, "10.0.0.1", 443) == "plain");
}

BOOST_AUTO_TEST_CASE(default_filter_chain_used_when_none_match) {
  monomesh::observe::StatsStore stats;
  auto l = compileYaml(listener(chain("port80", "{destination_port: 80}"),
                                "default_filter_chain: {name: fallback, filters: " + tcpFilters("fallback") + "}\n"),
                       stats);
  BOOST_TEST_REQUIRE(l->default_chain.has_value());
  BOOST_TEST(selected(*l, "10.0.0.1", 80) == "port80");
  BOOST_TEST(selected(*l, "10.0.0.1", 81) == "fallback");
  // A listener may have only a default chain.
  auto only = compileYaml("address: {socket_address: {address: 0.0.0.0, port_value: 1}}\n"
                          "default_filter_chain: {name: only, filters: " + tcpFilters("only") + "}\n",
                          stats);
  BOOST_TEST(only->chains.empty());
  BOOST_TEST(selected(*only, "1.2.3.4", 5) == "only");
}

// Envoy prunes the chains criterion by criterion (FilterChainMatch docs: "filter chains which
// most specifically match the attributes continue to the next step"): once a chain names the
// connection's destination port, chains without a port are no longer candidates, so a port-80
// connection to an address outside the port-80 chain's prefix_ranges matches nothing.
BOOST_AUTO_TEST_CASE(destination_port_match_does_not_fall_back_to_catch_all_port) {
  monomesh::observe::StatsStore stats;
  auto l = compileYaml(listener(chain("port80_10net", "{destination_port: 80, prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}") +
                                chain("catch_all", "{}")),
                       stats);
  BOOST_TEST(selected(*l, "10.1.1.1", 80) == "port80_10net");
  BOOST_TEST(selected(*l, "10.1.1.1", 81) == "catch_all");
  BOOST_TEST(selected(*l, "192.168.0.1", 80) == "(none)");
}

BOOST_AUTO_TEST_CASE(unknown_network_filter_throws_naming_it) {
  std::string error = compileError(listener(chain("good", "{}") +
                                            "- filter_chain_match: {destination_port: 90}\n"
                                            "  filters: [{name: envoy.filters.network.redis_proxy}]\n"));
  BOOST_TEST(contains(error, "filter_chains[1].filters[0] (envoy.filters.network.redis_proxy)"), error);
  BOOST_TEST(contains(error, "unknown network filter"), error);
}

BOOST_AUTO_TEST_CASE(terminal_filter_must_be_last) {
  std::string error = compileError(listener("- filters: [" + tcpFilter("a") + ", " + tcpFilter("b") + "]\n"));
  BOOST_TEST(contains(error, "filter_chains[0].filters[0] (envoy.filters.network.tcp_proxy)"), error);
  BOOST_TEST(contains(error, "last"), error);
}

BOOST_AUTO_TEST_CASE(chain_without_filters_throws) {
  std::string error = compileError(listener("- filter_chain_match: {destination_port: 80}\n"));
  BOOST_TEST(contains(error, "filter_chains[0].filters"), error);
}

BOOST_AUTO_TEST_CASE(tls_transport_socket_throws) {
  std::string error = compileError(listener("- transport_socket: {name: envoy.transport_sockets.tls}\n  filters: " +
                                            tcpFilters("a") + "\n"));
  BOOST_TEST(contains(error, "filter_chains[0].transport_socket"), error);
  monomesh::observe::StatsStore stats;
  auto raw = compileYaml(listener("- transport_socket: {name: envoy.transport_sockets.raw_buffer}\n  filters: " +
                                  tcpFilters("a") + "\n"),
                         stats);
  BOOST_TEST(raw->chains.size() == 1u);
}

BOOST_AUTO_TEST_CASE(network_filter_errors_are_prefixed_with_their_path) {
  std::string hcm = compileError(listener(
      "- filters:\n"
      "  - name: envoy.filters.network.http_connection_manager\n"
      "    typed_config:\n"
      "      \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
      "      stat_prefix: x\n"
      "      rds: {route_config_name: r, config_source: {ads: {}}}\n"
      "      http_filters: []\n"));
  BOOST_TEST(contains(hcm, "filter_chains[0].filters[0] (envoy.filters.network.http_connection_manager)"), hcm);
  BOOST_TEST(contains(hcm, "router"), hcm);
  std::string tcp_error = compileError(listener(
      "- filters: [{name: envoy.filters.network.tcp_proxy, typed_config: {\"@type\": "
      "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t}}]\n"));
  BOOST_TEST(contains(tcp_error, "filter_chains[0].filters[0] (envoy.filters.network.tcp_proxy)"), tcp_error);
  std::string mistyped = compileError(listener(
      "- filters: [{name: envoy.filters.network.http_connection_manager, typed_config: {\"@type\": "
      "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: c}}]\n"));
  BOOST_TEST(contains(mistyped, "HttpConnectionManager"), mistyped);
  std::string bad_prefix = compileError(listener(chain("p", "{prefix_ranges: [{address_prefix: not-an-ip}]}")));
  BOOST_TEST(contains(bad_prefix, "filter_chains[0].filter_chain_match.prefix_ranges"), bad_prefix);
}

BOOST_AUTO_TEST_CASE(original_dst_listener_filter_sets_use_original_dst) {
  monomesh::observe::StatsStore stats;
  auto by_name = compileYaml(listener(chain("c", "{}"), "listener_filters: [{name: envoy.filters.listener.original_dst}]\n"), stats);
  BOOST_TEST(by_name->use_original_dst);
  auto legacy = compileYaml(listener(chain("c", "{}"), "listener_filters: [{name: envoy.listener.original_dst}]\n"), stats);
  BOOST_TEST(legacy->use_original_dst);
  // Found by the type of its config whatever its name. (The Any is filled in directly: whether
  // "@type" can name these types in YAML is the bootstrap loader's test.)
  auto typed = fromYaml<lv3::Listener>(listener(chain("c", "{}"), "listener_filters: [{name: whatever}, {name: other}]\n"));
  typed.mutable_listener_filters(0)->mutable_typed_config()->set_type_url(
      "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst");
  typed.mutable_listener_filters(1)->mutable_typed_config()->set_type_url(
      "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector");
  BOOST_TEST(ListenerConfig::compile(typed, stats)->use_original_dst);
  auto tls_only = compileYaml(listener(chain("c", "{}"), "listener_filters: [{name: envoy.filters.listener.tls_inspector}]\n"), stats);
  BOOST_TEST(!tls_only->use_original_dst);
  auto field = compileYaml(listener(chain("c", "{}"), "use_original_dst: true\n"), stats);
  BOOST_TEST(field->use_original_dst);
  // An original_dst listener may have no filter chain at all: it hands connections on.
  auto virtual_only = compileYaml("address: {socket_address: {address: 0.0.0.0, port_value: 15001}}\nuse_original_dst: true\n", stats);
  BOOST_TEST(virtual_only->chains.empty());
}

// Envoy's CidrRange.prefix_len is validated "lte: 128"; a longer length must be rejected at load
// (CidrMatch::contains would otherwise read past its 16-byte address arrays).
BOOST_AUTO_TEST_CASE(prefix_len_beyond_the_address_width_throws) {
  std::string error = compileError(listener(chain("p", "{prefix_ranges: [{address_prefix: \"fd00::\", prefix_len: 200}]}")));
  BOOST_TEST(contains(error, "filter_chains[0].filter_chain_match.prefix_ranges"), error);
}

BOOST_AUTO_TEST_CASE(unknown_listener_filter_throws) {
  std::string error = compileError(listener(chain("c", "{}"),
                                            "listener_filters: [{name: envoy.filters.listener.tls_inspector}, "
                                            "{name: envoy.filters.listener.proxy_protocol}]\n"));
  BOOST_TEST(contains(error, "listener_filters[1] (envoy.filters.listener.proxy_protocol)"), error);
  BOOST_TEST(contains(error, "unknown listener filter"), error);
}

BOOST_AUTO_TEST_CASE(address_errors) {
  BOOST_TEST(contains(compileError("filter_chains:\n" + chain("c", "{}")), "address"));
  std::string not_ip = compileError("address: {socket_address: {address: localhost, port_value: 80}}\nfilter_chains:\n" + chain("c", "{}"));
  BOOST_TEST(contains(not_ip, "address.socket_address.address"), not_ip);
  std::string no_chain = compileError("address: {socket_address: {address: 0.0.0.0, port_value: 80}}\n");
  BOOST_TEST(contains(no_chain, "filter_chains"), no_chain);
}

BOOST_AUTO_TEST_SUITE_END()
