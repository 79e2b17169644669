#include "loopback_tls.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <openssl/err.h>

namespace monomesh::net::tls::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Stream = asio::ssl::stream<tcp::socket>;

std::string alpnOf(Stream& s) {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(s.native_handle(), &data, &length);
  return std::string(reinterpret_cast<const char*>(data), length);
}

}  // namespace

std::string sslReason(const boost::system::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return ec.message();
  const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  return reason ? reason : ec.message();
}

HandshakeOutcome runLoopbackHandshake(std::shared_ptr<const TlsContext> server_ctx,
                                      std::shared_ptr<const TlsContext> client_ctx, bool release_contexts) {
  asio::io_context io{1};
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  Stream server(io, server_ctx->asio());
  Stream client(io, client_ctx->asio());
  client_ctx->prepareClient(client.native_handle());
  if (release_contexts) {
    server_ctx.reset();
    client_ctx.reset();
  }
  HandshakeOutcome out;
  bool server_done = false, client_done = false;
  std::array<char, 4> server_buf{}, client_buf{};

  // Each side closes its socket when it fails, so the other side sees the end instead of waiting.
  auto serverFinish = [&](const boost::system::error_code& ec) {
    out.server_error = ec;
    server_done = true;
    if (ec) server.next_layer().close();
  };
  auto clientFinish = [&](const boost::system::error_code& ec) {
    out.client_error = ec;
    client_done = true;
    if (ec) client.next_layer().close();
  };

  acceptor.async_accept(server.next_layer(), [&](boost::system::error_code ec) {
    if (ec) return serverFinish(ec);
    server.async_handshake(Stream::server, [&](boost::system::error_code ec) {
      out.server_verify_result = SSL_get_verify_result(server.native_handle());
      out.client_identity = peerIdentityOf(server.native_handle());
      out.server_alpn = alpnOf(server);
      const char* sni = SSL_get_servername(server.native_handle(), TLSEXT_NAMETYPE_host_name);
      out.server_sni = sni ? sni : "";
      if (ec) return serverFinish(ec);
      asio::async_read(server, asio::buffer(server_buf), [&](boost::system::error_code ec, size_t) {
        if (ec) return serverFinish(ec);
        asio::async_write(server, asio::buffer("pong", 4),
                          [&](boost::system::error_code ec, size_t) { serverFinish(ec); });
      });
    });
  });

  client.next_layer().async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
    if (ec) return clientFinish(ec);
    client.async_handshake(Stream::client, [&](boost::system::error_code ec) {
      out.client_verify_result = SSL_get_verify_result(client.native_handle());
      out.server_identity = peerIdentityOf(client.native_handle());
      out.client_alpn = alpnOf(client);
      out.version = SSL_get_version(client.native_handle());
      const SSL_CIPHER* cipher = SSL_get_current_cipher(client.native_handle());
      out.cipher = cipher ? SSL_CIPHER_get_name(cipher) : "";
      if (ec) return clientFinish(ec);
      asio::async_write(client, asio::buffer("ping", 4), [&](boost::system::error_code ec, size_t) {
        if (ec) return clientFinish(ec);
        asio::async_read(client, asio::buffer(client_buf), [&](boost::system::error_code ec, size_t) {
          out.exchanged = !ec && std::string(client_buf.data(), 4) == "pong" &&
                          std::string(server_buf.data(), 4) == "ping";
          clientFinish(ec);
        });
      });
    });
  });

  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !(server_done && client_done) && std::chrono::steady_clock::now() < deadline;) {
    io.run_one_for(std::chrono::milliseconds(100));
  }
  if (!server_done) out.server_error = asio::error::timed_out;
  if (!client_done) out.client_error = asio::error::timed_out;
  return out;
}

}  // namespace monomesh::net::tls::testing
