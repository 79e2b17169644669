// Envoy's tls_inspector listener filter: before a filter chain is chosen, peek (without consuming)
// at the connection's first bytes and tell TLS from plaintext, with the ClientHello's SNI and ALPN
// for filter_chain_match. Bounded in bytes (16 KiB) and time (the listener filters timeout).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace monomesh::proxy {

// What filter chain matching knows about a connection beyond its addresses.
struct ConnectionInfo {
  std::string transport_protocol = "raw_buffer";  // "tls" when a ClientHello was seen
  std::string server_name;                        // SNI
  std::vector<std::string> application_protocols;  // ALPN offered by the client
};

struct InspectResult {
  ConnectionInfo info;
  bool close = false;  // timed out, closed by the peer, or a ClientHello over the size limit
  std::string reason;  // why, when close
};

boost::asio::awaitable<InspectResult> inspectConnection(boost::asio::ip::tcp::socket& socket,
                                                        std::chrono::milliseconds timeout);

}  // namespace monomesh::proxy
