#include "net/tls_transport.h"

#include "net/maybe_tls_stream.h"

namespace monomesh::net {
namespace {

namespace asio = boost::asio;

asio::awaitable<TlsHandshake> handshake(asio::ip::tcp::socket socket, std::shared_ptr<const tls::TlsContext> context,
                                        std::chrono::milliseconds timeout) {
  MaybeTlsStream stream(std::move(socket));
  stream.startTls(std::move(context));
  stream.tcp().expires_after(timeout);
  TlsHandshake result;
  std::string error = co_await stream.handshake();
  if (!error.empty()) {
    result.error = "TLS handshake failed: " + error;
    co_return result;
  }
  result.peer = stream.peerIdentity();
  result.transport = makeTransport(std::move(stream));
  co_return result;
}

}  // namespace

asio::awaitable<TlsHandshake> tlsAccept(asio::ip::tcp::socket socket, std::shared_ptr<const tls::TlsContext> context,
                                        std::chrono::milliseconds timeout) {
  return handshake(std::move(socket), std::move(context), timeout);
}

asio::awaitable<TlsHandshake> tlsConnect(asio::ip::tcp::socket socket, std::shared_ptr<const tls::TlsContext> context,
                                         std::chrono::milliseconds timeout) {
  return handshake(std::move(socket), std::move(context), timeout);
}

}  // namespace monomesh::net
