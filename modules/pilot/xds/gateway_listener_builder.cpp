#include "pilot/xds/gateway_listener_builder.h"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <set>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "observe/log.h"
#include "pilot/model/hostname.h"
#include "pilot/xds/gateway_servers.h"
#include "pilot/xds/listener_common.h"
#include "pilot/xds/naming.h"
#include "pilot/xds/tcp_routes.h"

namespace monomesh::pilot::xds {

namespace lv3 = envoy::config::listener::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;
using TLSOptions = networking::Server::TLSOptions;

namespace {

struct Build {
  const ProxyView& view;
  std::vector<PushConflict>& conflicts;
  void conflict(const GatewayServer& s, const std::string& why) {
    conflicts.push_back({"gateway server", s.gateway->name + " server " + s.server->port().name() + " (port " +
                                               std::to_string(s.server->port().number()) + "): " + why});
  }
};

lv3::FilterChain chainWith(lv3::Filter filter, const std::vector<std::string>& server_names) {
  lv3::FilterChain chain;
  for (const auto& n : server_names) chain.mutable_filter_chain_match()->add_server_names(n);
  *chain.add_filters() = std::move(filter);
  return chain;
}

// An HTTP server's chain: the shared HCM, plus what 1.1 set for gateways: the client address is
// the connection's (use_remote_address), websockets need no rule, Server: istio-envoy.
lv3::FilterChain httpChain(const std::string& route_name, const std::vector<std::string>& server_names) {
  lv3::FilterChain chain;
  for (const auto& n : server_names) chain.mutable_filter_chain_match()->add_server_names(n);
  addHttpConnectionManager(chain, route_name, route_name, nullptr);
  hcm::HttpConnectionManager h;
  auto* any = chain.mutable_filters(0)->mutable_typed_config();
  any->UnpackTo(&h);
  h.mutable_rds()->mutable_config_source()->set_resource_api_version(envoy::config::core::v3::V3);
  h.mutable_use_remote_address()->set_value(true);
  h.set_server_name("istio-envoy");
  h.add_upgrade_configs()->set_upgrade_type("websocket");
  any->PackFrom(h);
  return chain;
}

// 1.1's buildGatewayListenerTLSContext with files (credentialName needs the SDS gateway agent,
// which we do not run). nullopt, with the reason in `why`, when our proxy could not use it.
std::optional<tlsv3::DownstreamTlsContext> tlsContext(const TLSOptions& tls, std::string& why) {
  if (tls.server_certificate().empty() || tls.private_key().empty()) {
    why = tls.credential_name().empty() ? "serverCertificate and privateKey are required for SIMPLE and MUTUAL"
                                        : "credentialName (certificates over SDS) is not supported; use serverCertificate and privateKey";
    return std::nullopt;
  }
  if (tls.mode() == TLSOptions::MUTUAL && tls.ca_certificates().empty()) {
    why = "MUTUAL needs caCertificates";
    return std::nullopt;
  }
  if (!tls.subject_alt_names().empty() && tls.ca_certificates().empty()) {
    why = "subjectAltNames need caCertificates (names in an unverified certificate prove nothing)";
    return std::nullopt;
  }
  if (tls.max_protocol_version() == TLSOptions::TLSV1_0 || tls.max_protocol_version() == TLSOptions::TLSV1_1) {
    why = "maxProtocolVersion below TLSV1_2 is not supported";
    return std::nullopt;
  }
  tlsv3::DownstreamTlsContext out;
  auto* common = out.mutable_common_tls_context();
  common->add_alpn_protocols("h2");
  common->add_alpn_protocols("http/1.1");
  auto* cert = common->add_tls_certificates();
  cert->mutable_certificate_chain()->set_filename(tls.server_certificate());
  cert->mutable_private_key()->set_filename(tls.private_key());
  if (!tls.ca_certificates().empty()) {
    auto* validation = common->mutable_validation_context();
    validation->mutable_trusted_ca()->set_filename(tls.ca_certificates());
    for (const auto& san : tls.subject_alt_names()) validation->add_match_subject_alt_names()->set_exact(san);
  }
  out.mutable_require_client_certificate()->set_value(tls.mode() == TLSOptions::MUTUAL);
  if (!tls.cipher_suites().empty() || tls.min_protocol_version() != TLSOptions::TLS_AUTO ||
      tls.max_protocol_version() != TLSOptions::TLS_AUTO) {
    auto* params = common->mutable_tls_params();
    // Istio's TLSProtocol numbers are Envoy's (TLS_AUTO, TLSv1_0 ... TLSv1_3).
    params->set_tls_minimum_protocol_version(tlsv3::TlsParameters::TlsProtocol(tls.min_protocol_version()));
    params->set_tls_maximum_protocol_version(tlsv3::TlsParameters::TlsProtocol(tls.max_protocol_version()));
    for (const auto& c : tls.cipher_suites()) params->add_cipher_suites(c);
  }
  return out;
}

bool addTls(Build& b, const GatewayServer& s, lv3::FilterChain& chain) {
  std::string why;
  auto tls = tlsContext(s.server->tls(), why);
  if (!tls) {
    b.conflict(s, why + "; the server is ignored");
    return false;
  }
  auto* socket = chain.mutable_transport_socket();
  socket->set_name("envoy.transport_sockets.tls");
  socket->mutable_typed_config()->PackFrom(*tls);
  return true;
}

// The VirtualServices bound to the server's gateway that share a host with the server.
std::vector<const VirtualServiceEntry*> boundVirtualServices(const ProxyView& view, const GatewayServer& s) {
  std::vector<const VirtualServiceEntry*> out;
  for (const auto* vs : view.push.virtualServices(s.gateway->name, view.proxy.namespace_)) {
    auto server_hosts = hostsForNamespace(s, vs->resource->meta.namespace_);
    bool overlap = false;
    for (const auto& h : server_hosts)
      for (const auto& v : vs->hosts) overlap |= hostsOverlap(h, v);
    if (overlap) out.push_back(vs);
  }
  return out;
}

// 1.1's AUTO_PASSTHROUGH (sni_cluster): the SNI names a cluster as "outbound_.<port>_.<subset>_.<host>".
// Our proxy has no sni_cluster filter, so each visible service port and subset gets its own chain.
std::vector<lv3::FilterChain> autoPassthroughChains(const ProxyView& view, const GatewayServer& s) {
  std::vector<lv3::FilterChain> out;
  auto patterns = sniHosts(s);
  const auto& push = view.push;
  for (const auto& service : push.registry().services) {
    if (!push.visibleFrom(*service, view.proxy.namespace_)) continue;
    std::vector<std::string> subsets = {""};
    if (const auto* rule = push.destinationRule(view.proxy.namespace_, service->hostname))
      for (const auto& subset : rule->spec->subsets()) subsets.push_back(subset.name());
    for (const auto& port : service->ports)
      for (const auto& subset : subsets) {
        std::string sni = sniClusterName(port.port, subset, service->hostname);
        bool admitted = patterns.empty() || std::any_of(patterns.begin(), patterns.end(),
                                                        [&sni](const std::string& p) { return hostMatches(p, sni); });
        if (!admitted) continue;
        auto cluster = clusterName(Direction::Outbound, port.port, subset, service->hostname);
        out.push_back(chainWith(tcpProxyFilter({{cluster, 100}}, cluster), {sni}));
      }
  }
  return out;
}

// Servers that are not HTTP here: plain TCP, TLS terminated then TCP, or TLS passed through.
std::vector<lv3::FilterChain> tcpChains(Build& b, const GatewayServer& s) {
  const auto& server = *s.server;
  L4Source source{server.port().number(), nullptr, {s.gateway->name}};
  std::vector<lv3::FilterChain> out;
  if (isPassthroughServer(server)) {
    if (server.tls().mode() == TLSOptions::AUTO_PASSTHROUGH) return autoPassthroughChains(b.view, s);
    for (const auto* vs : boundVirtualServices(b.view, s))
      for (auto& target : tlsRouteTargets(b.view.push, *vs, source))
        out.push_back(chainWith(tcpProxyFilter(target.destinations, vs->resource->meta.name + "." + vs->resource->meta.namespace_),
                                target.sni_hosts));
    return out;
  }
  for (const auto* vs : boundVirtualServices(b.view, s)) {
    auto target = tcpRouteTarget(b.view.push, *vs, source);
    if (!target) continue;
    auto chain = chainWith(tcpProxyFilter(target->destinations, vs->resource->meta.name + "." + vs->resource->meta.namespace_),
                           server.has_tls() ? sniHosts(s) : std::vector<std::string>{});
    if (server.has_tls() && !addTls(b, s, chain)) return {};
    out.push_back(std::move(chain));
    break;  // 1.1: the first VirtualService with a matching TCP route
  }
  return out;
}

std::string matchKey(const lv3::FilterChain& chain) {
  std::vector<std::string> names(chain.filter_chain_match().server_names().begin(), chain.filter_chain_match().server_names().end());
  std::sort(names.begin(), names.end());
  std::string key;
  for (const auto& n : names) key += n + ",";
  return key;
}

std::optional<lv3::Listener> portListener(Build& b, uint32_t port, const std::vector<GatewayServer>& servers) {
  std::vector<lv3::FilterChain> chains;
  std::vector<const GatewayServer*> owners;
  auto add = [&](std::vector<lv3::FilterChain> more, const GatewayServer& s) {
    for (auto& c : more) {
      chains.push_back(std::move(c));
      owners.push_back(&s);
    }
  };
  const auto& first = servers.front();
  if (isHttp(parseProtocol(first.server->port().protocol()))) {
    add({httpChain(first.route_name, {})}, first);
  } else {
    for (const auto& s : servers) {
      if (isHttpServer(*s.server)) {  // HTTPS terminated here
        auto chain = httpChain(s.route_name, sniHosts(s));
        if (addTls(b, s, chain)) add({std::move(chain)}, s);
      } else {
        add(tcpChains(b, s), s);
      }
    }
  }
  // Two chains with one match would be ambiguous (Envoy rejects the listener): the first wins.
  std::set<std::string> seen;
  lv3::Listener listener;
  bool sni = false;
  for (size_t i = 0; i < chains.size(); ++i) {
    auto key = matchKey(chains[i]);
    if (!seen.insert(key).second) {
      b.conflict(*owners[i], "a filter chain for server names [" + key + "] already exists on port " +
                                 std::to_string(port) + "; this one is ignored");
      continue;
    }
    sni |= chains[i].filter_chain_match().server_names_size() > 0;
    *listener.add_filter_chains() = std::move(chains[i]);
  }
  if (listener.filter_chains().empty()) return std::nullopt;
  std::string address = "0.0.0.0";
  boost::system::error_code ec;
  if (const auto& bind = first.server->bind(); !bind.empty()) {
    boost::asio::ip::make_address(bind, ec);
    if (!ec) address = bind;
    else b.conflict(first, "bind \"" + bind + "\" is not an IP address; listening on 0.0.0.0");
  }
  listener.set_name(address + "_" + std::to_string(port));
  setSocketAddress(listener, address, port);
  if (sni) addListenerFilter(listener, "envoy.filters.listener.tls_inspector");
  return listener;
}

}  // namespace

std::vector<lv3::Listener> buildGatewayListeners(const ProxyView& view, std::vector<PushConflict>& conflicts) {
  auto merged = mergeGateways(view.push.gateways(view.labels));
  conflicts.insert(conflicts.end(), merged.conflicts.begin(), merged.conflicts.end());
  Build b{view, conflicts};
  std::vector<lv3::Listener> out;
  for (const auto& [port, servers] : merged.servers_by_port)
    if (auto l = portListener(b, port, servers)) out.push_back(std::move(*l));
  return out;
}

std::vector<lv3::Listener> buildGatewayListeners(const ProxyView& view) {
  std::vector<PushConflict> conflicts;
  auto out = buildGatewayListeners(view, conflicts);
  for (const auto& c : conflicts) observe::logScope("pilot").warn("{} {}: {}", view.proxy.id, c.kind, c.detail);
  return out;
}

}  // namespace monomesh::pilot::xds
