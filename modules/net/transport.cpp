#include "net/transport.h"

#include <boost/asio/write.hpp>

#include "net/maybe_tls_stream.h"

namespace monomesh::net {
namespace {

// Every transport is a MaybeTlsStream underneath: one implementation for TCP and TLS.
class StreamTransport final : public Transport {
 public:
  explicit StreamTransport(MaybeTlsStream stream) : stream_(std::move(stream)) {
    boost::system::error_code ignored;
    stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    stream_.tcp().expires_never();  // the protocol on top keeps its own timers
  }
  boost::asio::any_io_executor executor() override { return stream_.get_executor(); }
  void readSome(boost::asio::mutable_buffer buffer, IoHandler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  void write(boost::asio::const_buffer buffer, IoHandler handler) override {
    boost::asio::async_write(stream_, buffer, std::move(handler));
  }
  void close() override {
    // Hard close (no TLS close_notify round trip): pending operations end with an error.
    boost::system::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }
  std::string negotiatedProtocol() const override { return stream_.alpn(); }
  std::string peerAddress() const override {
    boost::system::error_code ec;
    auto ep = const_cast<MaybeTlsStream&>(stream_).socket().remote_endpoint(ec);
    if (ec) return "unknown";
    return ep.address().to_string() + ":" + std::to_string(ep.port());
  }

 private:
  MaybeTlsStream stream_;
};

class UnixTransport final : public Transport {
 public:
  explicit UnixTransport(boost::asio::local::stream_protocol::socket socket) : socket_(std::move(socket)) {}
  boost::asio::any_io_executor executor() override { return socket_.get_executor(); }
  void readSome(boost::asio::mutable_buffer buffer, IoHandler handler) override {
    socket_.async_read_some(buffer, std::move(handler));
  }
  void write(boost::asio::const_buffer buffer, IoHandler handler) override {
    boost::asio::async_write(socket_, buffer, std::move(handler));
  }
  void close() override {
    boost::system::error_code ignored;
    socket_.shutdown(boost::asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
  }
  std::string peerAddress() const override {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    return ec || ep.path().empty() ? "unix" : "unix:" + ep.path();
  }

 private:
  boost::asio::local::stream_protocol::socket socket_;
};

}  // namespace

std::unique_ptr<Transport> makeUnixTransport(boost::asio::local::stream_protocol::socket socket) {
  return std::make_unique<UnixTransport>(std::move(socket));
}

std::unique_ptr<Transport> makeTransport(MaybeTlsStream stream) {
  return std::make_unique<StreamTransport>(std::move(stream));
}

std::unique_ptr<Transport> makeTcpTransport(boost::asio::ip::tcp::socket socket) {
  return makeTransport(MaybeTlsStream(std::move(socket)));
}

}  // namespace monomesh::net
