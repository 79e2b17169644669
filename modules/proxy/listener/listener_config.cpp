#include "proxy/listener/listener_config.h"

#include <stdexcept>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
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

const FilterChainConfig* ListenerConfig::select(const asio::ip::tcp::endpoint& destination) const {
  const FilterChainConfig* best = nullptr;
  int best_score = -1;
  for (const auto& chain : chains) {
    int score = 0;
    if (chain.destination_port) {
      if (*chain.destination_port != destination.port()) continue;
      score += 1000;
    }
    if (!chain.prefix_ranges.empty()) {
      int longest = -1;
      for (const auto& c : chain.prefix_ranges)
        if (c.contains(destination.address())) longest = std::max<int>(longest, int(c.length));
      if (longest < 0) continue;
      score += 1 + longest;
    }
    // Without TLS, a connection has no SNI or ALPN: chains that require them do not match, and
    // "raw_buffer" is the transport protocol.
    if (!chain.server_names.empty() || !chain.application_protocols.empty()) continue;
    if (!chain.transport_protocol.empty() && chain.transport_protocol != "raw_buffer") continue;
    if (score > best_score) {
      best = &chain;
      best_score = score;
    }
  }
  if (best == nullptr && default_chain) return &*default_chain;
  return best;
}

namespace {

FilterChainConfig compileChain(const lv3::FilterChain& fc, observe::StatsStore& stats, const std::string& where) {
  FilterChainConfig chain;
  chain.name = fc.name();
  const auto& m = fc.filter_chain_match();
  if (m.has_destination_port()) chain.destination_port = m.destination_port().value();
  for (const auto& r : m.prefix_ranges()) {
    boost::system::error_code ec;
    CidrMatch c;
    c.prefix = asio::ip::make_address(r.address_prefix(), ec);
    if (ec) throw std::invalid_argument(where + ".filter_chain_match.prefix_ranges: \"" + r.address_prefix() + "\" is not an IP address");
    c.length = r.has_prefix_len() ? r.prefix_len().value() : (c.prefix.is_v4() ? 32 : 128);
    chain.prefix_ranges.push_back(c);
  }
  chain.server_names.assign(m.server_names().begin(), m.server_names().end());
  chain.application_protocols.assign(m.application_protocols().begin(), m.application_protocols().end());
  chain.transport_protocol = m.transport_protocol();
  if (fc.has_transport_socket() && fc.transport_socket().name() != "envoy.transport_sockets.raw_buffer")
    throw std::invalid_argument(where + ".transport_socket: TLS transport sockets arrive with the TLS issue");
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
        chain.http = HcmConfig::compile(h, stats);
      } else if (is_tcp) {
        envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy t;
        if (!any.UnpackTo(&t)) throw std::invalid_argument("typed_config must be a TcpProxy");
        chain.tcp = TcpProxyConfig::compile(t, stats);
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

std::shared_ptr<const ListenerConfig> ListenerConfig::compile(const lv3::Listener& l, observe::StatsStore& stats) {
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
  for (int i = 0; i < l.listener_filters_size(); ++i) {
    const auto& f = l.listener_filters(i);
    const auto& url = f.typed_config().type_url();
    if (f.name() == "envoy.filters.listener.original_dst" || f.name() == "envoy.listener.original_dst" ||
        url.ends_with("original_dst.v3.OriginalDst")) {
      c->use_original_dst = true;
    } else if (f.name() == "envoy.filters.listener.tls_inspector" || f.name() == "envoy.listener.tls_inspector" ||
               url.ends_with("tls_inspector.v3.TlsInspector")) {
      // Plaintext connections carry no SNI/ALPN; TLS detection arrives with the TLS issue.
    } else {
      throw std::invalid_argument("listener_filters[" + std::to_string(i) + "] (" + f.name() + "): unknown listener filter");
    }
  }
  for (int i = 0; i < l.filter_chains_size(); ++i)
    c->chains.push_back(compileChain(l.filter_chains(i), stats, "filter_chains[" + std::to_string(i) + "]"));
  if (l.has_default_filter_chain()) c->default_chain = compileChain(l.default_filter_chain(), stats, "default_filter_chain");
  if (c->chains.empty() && !c->default_chain && !c->use_original_dst)
    throw std::invalid_argument("filter_chains: at least one filter chain is required");
  std::string prefix = "listener." + c->address.address().to_string() + "_" + std::to_string(c->address.port()) + ".";
  c->cx_total = &stats.counter(prefix + "downstream_cx_total");
  c->no_filter_chain = &stats.counter(prefix + "no_filter_chain_match");
  c->cx_active = &stats.gauge(prefix + "downstream_cx_active");
  return c;
}

}  // namespace monomesh::proxy
