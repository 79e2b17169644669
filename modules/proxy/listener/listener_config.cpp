#include "proxy/listener/listener_config.h"

#include <stdexcept>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace lv3 = envoy::config::listener::v3;

bool CidrMatch::contains(const asio::ip::address& a) const {
  if (a.is_v4() != prefix.is_v4()) return false;
  auto bytesOf = [](const asio::ip::address& x) {
    std::array<unsigned char, 16> out{};
    if (x.is_v4()) {
      auto b = x.to_v4().to_bytes();
      std::copy(b.begin(), b.end(), out.begin());
    } else {
      out = x.to_v6().to_bytes();
    }
    return out;
  };
  auto pa = bytesOf(prefix), aa = bytesOf(a);
  unsigned bits = length;
  for (size_t i = 0; bits > 0; ++i) {
    unsigned take = std::min(bits, 8u);
    unsigned char mask = static_cast<unsigned char>(0xFF << (8 - take));
    if ((pa[i] & mask) != (aa[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

namespace {

// Keeps the candidates `matches` accepts; when none does, those that leave the criterion unset.
template <class Matches, class Unset>
std::vector<const FilterChainConfig*> narrow(const std::vector<const FilterChainConfig*>& in, Matches matches,
                                             Unset unset) {
  std::vector<const FilterChainConfig*> out;
  for (const auto* c : in)
    if (matches(*c)) out.push_back(c);
  if (out.empty())
    for (const auto* c : in)
      if (unset(*c)) out.push_back(c);
  return out;
}

// Envoy's server_names: an exact name wins over wildcards ("*.example.com"), the longest
// wildcard over shorter ones. Returns the match length (0: no match).
size_t serverNameMatch(const FilterChainConfig& c, const std::string& sni) {
  size_t best = 0;
  for (const auto& name : c.server_names) {
    if (name == sni) return sni.size() + 1;
    if (name.size() > 1 && name[0] == '*' && sni.size() > name.size() - 1 && sni.ends_with(name.substr(1)))
      best = std::max(best, name.size() - 1);
  }
  return best;
}

}  // namespace

const FilterChainConfig* ListenerConfig::select(const asio::ip::tcp::endpoint& destination,
                                                const ConnectionInfo& info) const {
  // Envoy narrows the candidates one criterion at a time: chains naming the destination port,
  // else chains naming none; then the longest matching prefix, else chains naming none; then
  // server name, transport protocol and ALPN the same way.
  std::vector<const FilterChainConfig*> candidates;
  for (const auto& c : chains)
    if (c.destination_port && *c.destination_port == destination.port()) candidates.push_back(&c);
  if (candidates.empty())
    for (const auto& c : chains)
      if (!c.destination_port) candidates.push_back(&c);
  std::vector<const FilterChainConfig*> by_ip;
  int longest = -1;
  for (const auto* c : candidates) {
    for (const auto& r : c->prefix_ranges) {
      if (!r.contains(destination.address())) continue;
      if (int(r.length) > longest) {
        longest = int(r.length);
        by_ip.clear();
      }
      if (int(r.length) == longest) by_ip.push_back(c);
    }
  }
  if (by_ip.empty())
    for (const auto* c : candidates)
      if (c->prefix_ranges.empty()) by_ip.push_back(c);
  size_t best_name = 0;
  for (const auto* c : by_ip) best_name = std::max(best_name, info.server_name.empty() ? 0 : serverNameMatch(*c, info.server_name));
  auto by_name = narrow(
      by_ip, [&](const FilterChainConfig& c) { return best_name > 0 && serverNameMatch(c, info.server_name) == best_name; },
      [](const FilterChainConfig& c) { return c.server_names.empty(); });
  auto by_transport = narrow(
      by_name, [&](const FilterChainConfig& c) { return c.transport_protocol == info.transport_protocol; },
      [](const FilterChainConfig& c) { return c.transport_protocol.empty(); });
  auto by_alpn = narrow(
      by_transport,
      [&](const FilterChainConfig& c) {
        for (const auto& p : c.application_protocols)
          for (const auto& offered : info.application_protocols)
            if (p == offered) return true;
        return false;
      },
      [](const FilterChainConfig& c) { return c.application_protocols.empty(); });
  if (!by_alpn.empty()) return by_alpn.front();
  return default_chain ? &*default_chain : nullptr;
}

namespace {

FilterChainConfig compileChain(const lv3::FilterChain& fc, observe::StatsStore& stats, const std::string& where,
                               const SecretStore* secrets, RouteConfigProviders* rds, AccessLogManager* logs) {
  FilterChainConfig chain;
  chain.name = fc.name();
  const auto& m = fc.filter_chain_match();
  if (m.has_destination_port()) chain.destination_port = m.destination_port().value();
  for (const auto& r : m.prefix_ranges()) {
    boost::system::error_code ec;
    CidrMatch c;
    c.prefix = asio::ip::make_address(r.address_prefix(), ec);
    if (ec) throw std::invalid_argument(where + ".filter_chain_match.prefix_ranges: \"" + r.address_prefix() + "\" is not an IP address");
    unsigned width = c.prefix.is_v4() ? 32 : 128;
    c.length = r.has_prefix_len() ? r.prefix_len().value() : width;
    if (c.length > width)
      throw std::invalid_argument(where + ".filter_chain_match.prefix_ranges: prefix_len " + std::to_string(c.length) +
                                  " is longer than the address (" + std::to_string(width) + " bits)");
    chain.prefix_ranges.push_back(c);
  }
  chain.server_names.assign(m.server_names().begin(), m.server_names().end());
  chain.application_protocols.assign(m.application_protocols().begin(), m.application_protocols().end());
  chain.transport_protocol = m.transport_protocol();
  if (fc.has_transport_socket() && !isPlaintextTransportSocket(fc.transport_socket()))
    chain.tls = std::make_shared<const DownstreamTls>(compileDownstreamTls(fc.transport_socket(), where + ".transport_socket", secrets));
  if (fc.filters_size() == 0) throw std::invalid_argument(where + ".filters: at least one network filter is required");
  for (int i = 0; i < fc.filters_size(); ++i) {
    const auto& f = fc.filters(i);
    std::string fwhere = where + ".filters[" + std::to_string(i) + "] (" + f.name() + ")";
    bool last = i + 1 == fc.filters_size();
    const auto& any = f.typed_config();
    bool is_hcm = f.name() == "envoy.filters.network.http_connection_manager" || f.name() == "envoy.http_connection_manager" ||
                  any.type_url().ends_with("http_connection_manager.v3.HttpConnectionManager");
    bool is_tcp = f.name() == "envoy.filters.network.tcp_proxy" || f.name() == "envoy.tcp_proxy" ||
                  any.type_url().ends_with("tcp_proxy.v3.TcpProxy");
    try {
      if (is_hcm) {
        envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager h;
        if (!any.UnpackTo(&h)) throw std::invalid_argument("typed_config must be an HttpConnectionManager");
        chain.http = HcmConfig::compile(h, stats, rds, logs);
      } else if (is_tcp) {
        envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy t;
        if (!any.UnpackTo(&t)) throw std::invalid_argument("typed_config must be a TcpProxy");
        chain.tcp = TcpProxyConfig::compile(t, stats, logs);
      } else {
        throw std::invalid_argument("unknown network filter");
      }
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fwhere + ": " + e.what());
    }
    if (!last) throw std::invalid_argument(fwhere + ": a terminal filter must be the last filter of the chain");
  }
  return chain;
}

}  // namespace

std::set<std::string> ListenerConfig::rdsNames() const {
  std::set<std::string> out;
  auto add = [&out](const FilterChainConfig& c) {
    if (c.http && !c.http->rds_name.empty()) out.insert(c.http->rds_name);
  };
  for (const auto& c : chains) add(c);
  if (default_chain) add(*default_chain);
  return out;
}

void ListenerConfig::startDraining() const {
  auto mark = [](const FilterChainConfig& c) {
    if (c.http) c.http->draining.store(true, std::memory_order_relaxed);
  };
  for (const auto& c : chains) mark(c);
  if (default_chain) mark(*default_chain);
}

std::shared_ptr<const ListenerConfig> ListenerConfig::compile(const lv3::Listener& l, observe::StatsStore& stats,
                                                              const SecretStore* secrets, RouteConfigProviders* rds,
                                                              AccessLogManager* access_log_files) {
  auto c = std::make_shared<ListenerConfig>();
  c->config = l;
  if (!l.address().has_socket_address()) throw std::invalid_argument("address: a socket_address is required");
  const auto& sa = l.address().socket_address();
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(sa.address(), ec);
  if (ec) throw std::invalid_argument("address.socket_address.address: \"" + sa.address() + "\" is not an IP address");
  if (sa.port_value() > 65535) throw std::invalid_argument("address.socket_address.port_value: must be 0-65535");
  c->address = asio::ip::tcp::endpoint(ip, uint16_t(sa.port_value()));
  c->name = l.name().empty() ? sa.address() + "_" + std::to_string(sa.port_value()) : l.name();
  if (l.has_bind_to_port()) c->bind_to_port = l.bind_to_port().value();
  c->use_original_dst = l.has_use_original_dst() && l.use_original_dst().value();
  if (l.has_listener_filters_timeout()) {
    auto& t = l.listener_filters_timeout();
    c->listener_filters_timeout = std::chrono::milliseconds(t.seconds() * 1000 + t.nanos() / 1000000);
  }
  for (int i = 0; i < l.listener_filters_size(); ++i) {
    const auto& f = l.listener_filters(i);
    const auto& url = f.typed_config().type_url();
    using envoy::extensions::filters::listener::original_dst::v3::OriginalDst;
    using envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector;
    if (f.name() == "envoy.filters.listener.original_dst" || f.name() == "envoy.listener.original_dst" ||
        url.ends_with(OriginalDst::descriptor()->full_name())) {
      c->use_original_dst = true;
    } else if (f.name() == "envoy.filters.listener.tls_inspector" || f.name() == "envoy.listener.tls_inspector" ||
               url.ends_with(TlsInspector::descriptor()->full_name())) {
      c->tls_inspector = true;
    } else {
      throw std::invalid_argument("listener_filters[" + std::to_string(i) + "] (" + f.name() + "): unknown listener filter");
    }
  }
  for (int i = 0; i < l.filter_chains_size(); ++i)
    c->chains.push_back(compileChain(l.filter_chains(i), stats, "filter_chains[" + std::to_string(i) + "]", secrets, rds, access_log_files));
  if (l.has_default_filter_chain()) c->default_chain = compileChain(l.default_filter_chain(), stats, "default_filter_chain", secrets, rds, access_log_files);
  if (c->chains.empty() && !c->default_chain && !c->use_original_dst)
    throw std::invalid_argument("filter_chains: at least one filter chain is required");
  std::string prefix = "listener." + c->address.address().to_string() + "_" + std::to_string(c->address.port()) + ".";
  c->cx_total = &stats.counter(prefix + "downstream_cx_total");
  c->no_filter_chain = &stats.counter(prefix + "no_filter_chain_match");
  c->cx_active = &stats.gauge(prefix + "downstream_cx_active");
  c->ssl_handshake = &stats.counter(prefix + "ssl.handshake");
  c->ssl_connection_error = &stats.counter(prefix + "ssl.connection_error");
  c->ssl_no_certificate = &stats.counter(prefix + "ssl.no_certificate");
  return c;
}

}  // namespace monomesh::proxy
