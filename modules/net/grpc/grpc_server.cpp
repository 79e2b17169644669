#include "net/grpc/grpc_server.h"

#include "net/grpc/grpc_framing.h"
#include "observe/log.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace monomesh::net::grpc {

namespace asio = boost::asio;

struct GrpcServer::Methods {
  std::map<std::string, MethodHandler, std::less<>> handlers;
};

ServerCall::ServerCall(std::shared_ptr<h2::Stream> stream, size_t max_message_size)
    : io_(std::move(stream), max_message_size) {}

std::string_view ServerCall::method() const {
  const std::string* path = metadataValue(":path");
  return path ? std::string_view(*path) : std::string_view();
}

void ServerCall::sendHeaders(bool end_stream, const Status* trailers_only) {
  h2::Headers headers = {{":status", "200"}, {"content-type", "application/grpc"}, {"grpc-accept-encoding", "identity"}};
  for (auto& h : initial_) headers.push_back(h);
  if (trailers_only) {
    headers.push_back({"grpc-status", std::to_string(static_cast<int>(trailers_only->code))});
    if (!trailers_only->message.empty()) headers.push_back({"grpc-message", encodeGrpcMessage(trailers_only->message)});
    for (auto& h : trailing_) headers.push_back(h);
  }
  headers_sent_ = true;
  io_.stream().respond(headers, end_stream);
}

asio::awaitable<bool> ServerCall::write(std::string_view message) {
  if (finished_ || cancelled()) co_return false;
  if (!headers_sent_) sendHeaders(false, nullptr);
  co_return co_await io_.stream().write(frameMessage(message), false);
}

void ServerCall::finish(const Status& status) {
  if (finished_) return;
  finished_ = true;
  if (cancelled()) return;
  if (!headers_sent_) {
    sendHeaders(true, &status);  // trailers-only response
    return;
  }
  h2::Headers trailers = {{"grpc-status", std::to_string(static_cast<int>(status.code))}};
  if (!status.message.empty()) trailers.push_back({"grpc-message", encodeGrpcMessage(status.message)});
  for (auto& h : trailing_) trailers.push_back(h);
  io_.stream().finishWithTrailers(std::move(trailers));
}

GrpcServer::GrpcServer(GrpcServerOptions options)
    : options_(std::move(options)), methods_(std::make_shared<Methods>()), counters_(std::make_shared<GrpcCounters>()) {}

GrpcServer::~GrpcServer() {
  for (auto& weak : sessions_) {
    if (auto session = weak.lock()) session->close();
  }
}

void GrpcServer::addMethod(std::string path, MethodHandler handler) {
  methods_->handlers[std::move(path)] = std::move(handler);
}

void GrpcServer::serve(std::unique_ptr<Transport> transport) {
  std::erase_if(sessions_, [](const auto& weak) { return weak.expired(); });
  auto session = h2::Session::create(h2::Session::Role::server, std::move(transport), options_.h2,
                                     {[this](std::shared_ptr<h2::Stream> s) { onStream(std::move(s)); }, nullptr},
                                     &h2_counters_);
  sessions_.push_back(session);
  session->start();
}

asio::awaitable<void> GrpcServer::acceptLoop(asio::ip::tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. EMFILE: keep serving the connections we have
    serve(makeTcpTransport(std::move(socket)));
  }
}

boost::system::error_code GrpcServer::listen(asio::io_context& context, const asio::ip::tcp::endpoint& endpoint) {
  acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(context);
  boost::system::error_code ec;
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.reset();
    return ec;
  }
  asio::co_spawn(context, acceptLoop(*acceptor_), asio::detached);
  return ec;
}

asio::ip::tcp::endpoint GrpcServer::localEndpoint() const {
  boost::system::error_code ec;
  return acceptor_ ? acceptor_->local_endpoint(ec) : asio::ip::tcp::endpoint();
}

void GrpcServer::shutdown() {
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  for (auto& weak : sessions_) {
    if (auto session = weak.lock()) session->shutdown();
  }
}

size_t GrpcServer::connections() const {
  size_t n = 0;
  for (const auto& weak : sessions_) {
    if (auto s = weak.lock(); s && !s->closed()) ++n;
  }
  return n;
}

void GrpcServer::onStream(std::shared_ptr<h2::Stream> stream) {
  auto call = std::make_shared<ServerCall>(stream, options_.max_message_size);
  counters_->calls_started++;
  const std::string* method = h2::findHeader(stream->headers(), ":method");
  const std::string* type = h2::findHeader(stream->headers(), "content-type");
  if (!method || *method != "POST" || !type || type->rfind("application/grpc", 0) != 0) {
    // Not gRPC at all: an HTTP answer, as gRPC servers give.
    stream->respond({{":status", "415"}, {"content-type", "text/plain"}}, true);
    counters_->calls_failed++;
    return;
  }
  auto it = methods_->handlers.find(call->method());
  if (it == methods_->handlers.end()) {
    counters_->unimplemented++;
    counters_->calls_failed++;
    call->finish(Status{StatusCode::unimplemented, "unknown method " + std::string(call->method())});
    return;
  }
  std::shared_ptr<asio::steady_timer> deadline;
  if (const std::string* timeout = h2::findHeader(stream->headers(), "grpc-timeout")) {
    auto parsed = parseGrpcTimeout(*timeout);
    if (!parsed) {
      counters_->calls_failed++;
      call->finish(Status{StatusCode::internal, "malformed grpc-timeout: " + *timeout});
      return;
    }
    deadline = std::make_shared<asio::steady_timer>(stream->executor(), *parsed);
    deadline->async_wait([weak = std::weak_ptr<ServerCall>(call), counters = counters_](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto c = weak.lock(); c && !c->finished_) {
        // The status goes out now; the RST_STREAM(NO_ERROR) that follows an early answer wakes
        // the handler, whose own status is then dropped.
        counters->deadline_exceeded++;
        c->finish(Status{StatusCode::deadline_exceeded, "deadline exceeded"});
        c->cancelled_ = true;
      }
    });
  }
  asio::co_spawn(stream->executor(), runCall(call, deadline, methods_, counters_, &it->second), asio::detached);
}

// A named coroutine, not a capturing lambda: GCC 12 can destroy a co_spawned lambda's captures
// twice when its frame is torn down.
asio::awaitable<void> GrpcServer::runCall(std::shared_ptr<ServerCall> call, std::shared_ptr<asio::steady_timer> deadline,
                                          std::shared_ptr<Methods> methods, std::shared_ptr<GrpcCounters> counters,
                                          const MethodHandler* handler) {
  (void)methods;  // keeps `handler` alive
  Status status;
  try {
    status = co_await (*handler)(*call);
  } catch (const std::exception& e) {
    status = Status{StatusCode::internal, std::string("handler failed: ") + e.what()};
  }
  if (deadline) deadline->cancel();
  if (call->readError()) status = *call->readError();  // e.g. a message over the size limit
  (status.ok() && !call->cancelled() ? counters->calls_ok : counters->calls_failed)++;
  call->finish(status);
}

}  // namespace monomesh::net::grpc
