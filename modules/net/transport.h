// A byte stream the protocol stacks run over: plain TCP or TLS, behind one small interface so the
// HTTP/2 session and gRPC code are written once. Callback style: the session drives it from its
// own state machine; a connection is used from one executor (its worker) only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <string>

namespace monomesh::net {

class Transport {
 public:
  using IoHandler = std::function<void(const boost::system::error_code&, std::size_t)>;
  virtual ~Transport() = default;

  virtual boost::asio::any_io_executor executor() = 0;
  // Completes after some bytes were read (or with an error / eof).
  virtual void readSome(boost::asio::mutable_buffer buffer, IoHandler handler) = 0;
  // Completes after the whole buffer was written.
  virtual void write(boost::asio::const_buffer buffer, IoHandler handler) = 0;
  // Hard close: pending operations complete with operation_aborted.
  virtual void close() = 0;
  // ALPN result for TLS ("h2", "http/1.1"); empty for plain TCP.
  virtual std::string negotiatedProtocol() const { return {}; }
  virtual std::string peerAddress() const = 0;
};

class MaybeTlsStream;
// A connected (and, for TLS, handshaken) stream as a Transport.
std::unique_ptr<Transport> makeTransport(MaybeTlsStream stream);
std::unique_ptr<Transport> makeTcpTransport(boost::asio::ip::tcp::socket socket);
// A connected Unix domain socket (a local gRPC peer such as an SDS agent), plaintext.
std::unique_ptr<Transport> makeUnixTransport(boost::asio::local::stream_protocol::socket socket);

}  // namespace monomesh::net
