// TLS connections as net::Transport: the server and client handshakes (bounded by a timeout),
// after which HTTP/2, gRPC or HTTP/1 run over the encrypted stream exactly as over TCP. The
// negotiated ALPN protocol and the verified peer's identity (SPIFFE) stay readable.
#pragma once

#include "net/tls/peer_identity.h"
#include "net/tls/tls_context.h"
#include "net/transport.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace monomesh::net {

struct TlsHandshake {
  std::unique_ptr<Transport> transport;  // null when the handshake failed
  std::string error;                     // why, e.g. "certificate verify failed"
  std::optional<tls::PeerIdentity> peer;  // the peer certificate's names, when it sent one
};

boost::asio::awaitable<TlsHandshake> tlsAccept(boost::asio::ip::tcp::socket socket,
                                               std::shared_ptr<const tls::TlsContext> context,
                                               std::chrono::milliseconds timeout);
boost::asio::awaitable<TlsHandshake> tlsConnect(boost::asio::ip::tcp::socket socket,
                                                std::shared_ptr<const tls::TlsContext> context,
                                                std::chrono::milliseconds timeout);

}  // namespace monomesh::net
