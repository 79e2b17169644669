#include "net/tls_transport.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace monomesh::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class TlsTransport final : public Transport {
 public:
  TlsTransport(tcp::socket socket, std::shared_ptr<const tls::TlsContext> context)
      : context_(std::move(context)), stream_(std::move(socket), context_->asio()) {
    boost::system::error_code ignored;
    stream_.next_layer().set_option(tcp::no_delay(true), ignored);
  }
  asio::ssl::stream<tcp::socket>& stream() noexcept { return stream_; }

  asio::any_io_executor executor() override { return stream_.get_executor(); }
  void readSome(asio::mutable_buffer buffer, IoHandler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  void write(asio::const_buffer buffer, IoHandler handler) override {
    asio::async_write(stream_, buffer, std::move(handler));
  }
  void close() override {
    // Hard close: no close_notify round trip; the peer sees the TCP close.
    boost::system::error_code ignored;
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
  }
  std::string negotiatedProtocol() const override {
    const unsigned char* data = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(const_cast<asio::ssl::stream<tcp::socket>&>(stream_).native_handle(), &data, &length);
    return data ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
  }
  std::string peerAddress() const override {
    boost::system::error_code ec;
    auto ep = stream_.next_layer().remote_endpoint(ec);
    return ec ? "unknown" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

 private:
  std::shared_ptr<const tls::TlsContext> context_;  // outlives the stream that uses it
  asio::ssl::stream<tcp::socket> stream_;
};

asio::awaitable<TlsHandshake> handshake(tcp::socket socket, std::shared_ptr<const tls::TlsContext> context,
                                        std::chrono::milliseconds timeout, asio::ssl::stream_base::handshake_type type) {
  auto transport = std::make_unique<TlsTransport>(std::move(socket), context);
  if (type == asio::ssl::stream_base::client) context->prepareClient(transport->stream().native_handle());
  asio::steady_timer limit(transport->executor(), timeout);
  bool timed_out = false;
  limit.async_wait([&timed_out, t = transport.get()](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = true;
    t->close();
  });
  auto [ec] = co_await transport->stream().async_handshake(type, asio::as_tuple(asio::use_awaitable));
  limit.cancel();
  TlsHandshake result;
  if (timed_out) {
    result.error = "TLS handshake timed out after " + std::to_string(timeout.count()) + " ms";
    co_return result;
  }
  if (ec) {
    std::string reason = ec.message();
    long verify = SSL_get_verify_result(transport->stream().native_handle());
    if (verify != X509_V_OK) reason += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    result.error = "TLS handshake failed: " + reason;
    co_return result;
  }
  result.peer = tls::peerIdentityOf(transport->stream().native_handle());
  result.transport = std::move(transport);
  co_return result;
}

}  // namespace

asio::awaitable<TlsHandshake> tlsAccept(tcp::socket socket, std::shared_ptr<const tls::TlsContext> context,
                                        std::chrono::milliseconds timeout) {
  return handshake(std::move(socket), std::move(context), timeout, asio::ssl::stream_base::server);
}

asio::awaitable<TlsHandshake> tlsConnect(tcp::socket socket, std::shared_ptr<const tls::TlsContext> context,
                                         std::chrono::milliseconds timeout) {
  return handshake(std::move(socket), std::move(context), timeout, asio::ssl::stream_base::client);
}

}  // namespace monomesh::net
