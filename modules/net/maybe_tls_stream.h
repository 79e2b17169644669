// A Beast-compatible stream that is plain TCP or TLS over the same beast::tcp_stream, chosen per
// connection: the proxy's HTTP/1 codec, tunnels and tcp_proxy run unchanged over either, and the
// tcp_stream underneath keeps carrying every timeout (beast::error::timeout) in both cases.
#pragma once

#include "net/tls/peer_identity.h"
#include "net/tls/tls_context.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace monomesh::net {

class MaybeTlsStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  explicit MaybeTlsStream(boost::beast::tcp_stream tcp) : stream_(std::in_place_index<0>, std::move(tcp)) {}
  explicit MaybeTlsStream(boost::asio::ip::tcp::socket socket)
      : stream_(std::in_place_index<0>, boost::beast::tcp_stream(std::move(socket))) {}
  MaybeTlsStream(MaybeTlsStream&&) = default;
  MaybeTlsStream& operator=(MaybeTlsStream&&) = default;

  // Wraps the connection in TLS with `context` (server or client by its side); call handshake()
  // next. The plain stream must not be in use.
  void startTls(std::shared_ptr<const tls::TlsContext> context);
  // The TLS handshake; an empty string on success, else why it failed.
  boost::asio::awaitable<std::string> handshake();

  bool isTls() const noexcept { return stream_.index() == 1; }
  // The negotiated ALPN protocol ("h2", "http/1.1"), empty without TLS or ALPN.
  std::string alpn() const;
  // The server name the client asked for (SNI), empty without TLS or SNI.
  std::string_view serverName() const;
  // The verified peer certificate's names (mutual TLS), when the peer sent one.
  std::optional<tls::PeerIdentity> peerIdentity() const;

  executor_type get_executor() noexcept { return tcp().get_executor(); }
  boost::beast::tcp_stream& tcp() noexcept {
    return stream_.index() == 0 ? std::get<0>(stream_) : std::get<1>(stream_).next_layer();
  }
  boost::asio::ip::tcp::socket& socket() noexcept { return tcp().socket(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (stream_.index() == 0) {
            std::get<0>(stream_).async_read_some(b, std::move(handler));
          } else {
            std::get<1>(stream_).async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (stream_.index() == 0) {
            std::get<0>(stream_).async_write_some(b, std::move(handler));
          } else {
            std::get<1>(stream_).async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

 private:
  boost::beast::ssl_stream<boost::beast::tcp_stream>& tlsStream() { return std::get<1>(stream_); }
  std::variant<boost::beast::tcp_stream, boost::beast::ssl_stream<boost::beast::tcp_stream>> stream_;
  std::shared_ptr<const tls::TlsContext> context_;  // outlives the SSL object made from it
};

}  // namespace monomesh::net
