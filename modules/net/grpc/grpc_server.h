// A gRPC server on the shared runtime: a method registry ("/package.Service/Method" -> coroutine
// handler), HTTP/2 connections from net/h2, unary and every streaming shape through ServerCall
// (read/write messages, then return a Status that becomes the grpc-status trailers). grpc-timeout
// deadlines cancel the call; a client's RST_STREAM cancels it too.
#pragma once

#include "net/grpc/grpc_status.h"
#include "net/grpc/message_stream.h"
#include "net/h2/h2_session.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace monomesh::net::grpc {

class ServerCall {
 public:
  ServerCall(std::shared_ptr<h2::Stream> stream, size_t max_message_size);
  std::string_view method() const;
  const h2::Headers& metadata() const { return io_.streamPtr()->headers(); }
  const std::string* metadataValue(std::string_view name) const { return h2::findHeader(metadata(), name); }
  std::string peer() const { return peer_; }

  // The next request message; nullopt when the client finished sending (or the call ended).
  boost::asio::awaitable<std::optional<std::string>> read() { return io_.read(); }
  // Sends a response message (response headers go first); false once the call is over.
  boost::asio::awaitable<bool> write(std::string_view message);
  // Extra response headers / trailers, before the first write / finish.
  void addInitialMetadata(std::string name, std::string value) { initial_.push_back({std::move(name), std::move(value)}); }
  void addTrailingMetadata(std::string name, std::string value) { trailing_.push_back({std::move(name), std::move(value)}); }
  // The client went away, reset the stream, or the deadline passed.
  bool cancelled() const { return cancelled_ || (io_.streamPtr()->closed() && io_.streamPtr()->errorCode() != 0); }
  const std::optional<Status>& readError() const { return io_.error(); }
  // Ends the call from the server side (RST_STREAM CANCEL); a pending read() returns at once.
  void cancel() {
    cancelled_ = true;
    io_.stream().reset(0x8);
  }

  // Sends the status now, before the handler returns (e.g. rejecting a stream while the client is
  // still sending); the client is told to stop (RST_STREAM NO_ERROR) and pending reads end.
  void finish(const Status& status);

 private:
  friend class GrpcServer;
  void sendHeaders(bool end_stream, const Status* trailers_only);
  MessageStream io_;
  std::string peer_;
  h2::Headers initial_;
  h2::Headers trailing_;
  bool headers_sent_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
};

using MethodHandler = std::function<boost::asio::awaitable<Status>(ServerCall&)>;

struct GrpcServerOptions {
  h2::H2Options h2;
  size_t max_message_size = kDefaultMaxMessageSize;
};

struct GrpcCounters {
  uint64_t calls_started = 0;
  uint64_t calls_ok = 0;
  uint64_t calls_failed = 0;
  uint64_t unimplemented = 0;
  uint64_t deadline_exceeded = 0;
};

class GrpcServer {
 public:
  explicit GrpcServer(GrpcServerOptions options = {});
  ~GrpcServer();

  void addMethod(std::string path, MethodHandler handler);
  // Typed unary method: parse the request, run `fn`, send the response when the status is OK.
  template <class Request, class Response>
  void addUnary(std::string path,
                std::function<boost::asio::awaitable<Status>(const Request&, Response&, ServerCall&)> fn);

  // Serves one accepted connection (plain TCP or TLS) on its executor.
  void serve(std::unique_ptr<Transport> transport);
  // Accepts connections until the acceptor is closed; each is served on the acceptor's executor.
  boost::asio::awaitable<void> acceptLoop(boost::asio::ip::tcp::acceptor& acceptor);
  // Binds `endpoint` (reuse_address) and accepts on `context` until shutdown(); the error when
  // the address cannot be bound.
  boost::system::error_code listen(boost::asio::io_context& context, const boost::asio::ip::tcp::endpoint& endpoint);
  // The bound address of listen() (the real port for port 0); empty before.
  boost::asio::ip::tcp::endpoint localEndpoint() const;
  // Stops accepting (if listening), then GOAWAY on every connection; open calls finish within
  // the h2 drain timeout.
  void shutdown();

  const h2::H2Counters& h2Counters() const noexcept { return h2_counters_; }
  const GrpcCounters& counters() const noexcept { return *counters_; }
  size_t connections() const;

 private:
  struct Methods;
  void onStream(std::shared_ptr<h2::Stream> stream);
  static boost::asio::awaitable<void> runCall(std::shared_ptr<ServerCall> call,
                                              std::shared_ptr<boost::asio::steady_timer> deadline,
                                              std::shared_ptr<Methods> methods, std::shared_ptr<GrpcCounters> counters,
                                              const MethodHandler* handler);
  GrpcServerOptions options_;
  std::shared_ptr<Methods> methods_;
  std::shared_ptr<GrpcCounters> counters_;
  h2::H2Counters h2_counters_;
  std::vector<std::weak_ptr<h2::Session>> sessions_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;  // listen()'s
};

template <class Request, class Response>
void GrpcServer::addUnary(std::string path,
                          std::function<boost::asio::awaitable<Status>(const Request&, Response&, ServerCall&)> fn) {
  addMethod(std::move(path), [fn = std::move(fn)](ServerCall& call) -> boost::asio::awaitable<Status> {
    auto bytes = co_await call.read();
    if (!bytes) co_return call.readError() ? *call.readError() : Status{StatusCode::internal, "missing request message"};
    Request request;
    if (!request.ParseFromString(*bytes)) co_return Status{StatusCode::internal, "cannot parse the request message"};
    Response response;
    Status status = co_await fn(request, response, call);
    if (status.ok() && !co_await call.write(response.SerializeAsString())) {
      co_return Status{StatusCode::cancelled, "the call ended before the response was sent"};
    }
    co_return status;
  });
}

}  // namespace monomesh::net::grpc
