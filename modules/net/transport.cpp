#include "net/transport.h"

#include <boost/asio/write.hpp>

namespace monomesh::net {
namespace {

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
    boost::system::error_code ignored;
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  }
  boost::asio::any_io_executor executor() override { return socket_.get_executor(); }
  void readSome(boost::asio::mutable_buffer buffer, IoHandler handler) override {
    socket_.async_read_some(buffer, std::move(handler));
  }
  void write(boost::asio::const_buffer buffer, IoHandler handler) override {
    boost::asio::async_write(socket_, buffer, std::move(handler));
  }
  void close() override {
    boost::system::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }
  std::string peerAddress() const override {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (ec) return "unknown";
    return ep.address().to_string() + ":" + std::to_string(ep.port());
  }

 private:
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace

std::unique_ptr<Transport> makeTcpTransport(boost::asio::ip::tcp::socket socket) {
  return std::make_unique<TcpTransport>(std::move(socket));
}

}  // namespace monomesh::net
