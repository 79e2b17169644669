#include "demo/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <list>

#include "observe/log.h"

namespace monomesh::demo {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}

Response makeResponse(unsigned status, std::string_view content_type, std::string body) {
  Response res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

Response jsonResponse(unsigned status, std::string body) {
  return makeResponse(status, "application/json", std::move(body));
}

std::string_view targetPath(std::string_view target) { return target.substr(0, target.find('?')); }

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(asio::io_context& c, std::shared_ptr<RequestHandler> h, ServerLimits l)
      : context(c), acceptor(c), handler(std::move(h)), limits(l) {}

  asio::io_context& context;
  tcp::acceptor acceptor;
  std::shared_ptr<RequestHandler> handler;
  ServerLimits limits;
  std::list<std::weak_ptr<beast::tcp_stream>> connections;
  bool closed = false;
};

namespace {

using State = HttpServer::State;

// The answer to a request Beast could not parse; the connection closes after it.
Response parseErrorResponse(const boost::system::error_code& ec) {
  unsigned status = 400;
  if (ec == http::error::header_limit) status = 431;
  else if (ec == http::error::body_limit) status = 413;
  Response res = makeResponse(status, "text/plain; charset=utf-8", "bad request: " + ec.message() + "\n");
  res.keep_alive(false);
  return res;
}

bool quietEnd(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::bad_descriptor;
}

asio::awaitable<Response> answer(std::shared_ptr<State> state, Request request) {
  std::string path(targetPath(request.target()));
  try {
    Response res = co_await state->handler->handle(std::move(request));
    co_return res;
  } catch (const std::exception& e) {
    observe::logScope("demo").error("request {} failed: {}", path, e.what());
  }
  co_return makeResponse(500, "text/plain; charset=utf-8", "internal error\n");
}

// After refusing a request the client may still be sending it; closing with unread input
// would reset the connection and could destroy our answer before the client reads it. So read
// and discard for a moment first, as nginx's lingering close does.
asio::awaitable<void> drainInput(beast::tcp_stream& stream) {
  constexpr size_t kMaxDrainBytes = 256 * 1024;
  stream.expires_after(std::chrono::milliseconds(500));
  char sink[4096];
  for (size_t drained = 0; drained < kMaxDrainBytes;) {
    auto [error, n] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
    if (error) break;
    drained += n;
  }
}

asio::awaitable<void> serveConnection(std::shared_ptr<State> state, std::shared_ptr<beast::tcp_stream> stream) {
  beast::flat_buffer buffer;
  bool drain_before_close = false;
  while (!state->closed) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(state->limits.max_header_bytes));
    parser.body_limit(state->limits.max_body_bytes);
    stream->expires_after(state->limits.io_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(*stream, buffer, parser, kNoThrow);
    (void)read_bytes;
    Response res;
    bool head = false;
    if (read_error) {
      if (quietEnd(read_error) || state->closed) break;
      res = parseErrorResponse(read_error);
      drain_before_close = true;
    } else {
      Request request = parser.release();
      head = request.method() == http::verb::head;
      bool keep_alive = request.keep_alive();
      res = co_await answer(state, std::move(request));
      if (state->closed) break;
      res.keep_alive(keep_alive);
    }
    res.version(11);
    res.set(http::field::server, "monomesh-bookinfo");
    res.prepare_payload();
    if (head) res.body().clear();  // Content-Length still says what GET would send
    stream->expires_after(state->limits.io_timeout);
    auto [write_error, written] = co_await http::async_write(*stream, res, kNoThrow);
    (void)written;
    if (write_error || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (drain_before_close && !state->closed) co_await drainInput(*stream);
  stream->close();
}

asio::awaitable<void> acceptConnections(std::shared_ptr<State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(kNoThrow);
    if (state->closed) co_return;
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {  // out of descriptors and the like: wait a little rather than spin
      observe::logScope("demo").warn("accept failed: {}", ec.message());
      asio::steady_timer pause(state->context, std::chrono::milliseconds(50));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    state->connections.remove_if([](const auto& weak) { return weak.expired(); });
    if (state->connections.size() >= state->limits.max_connections) {
      observe::logScope("demo").warn("refusing a connection: {} open", state->connections.size());
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    state->connections.push_back(stream);
    asio::co_spawn(state->context, serveConnection(state, stream), asio::detached);
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& context, std::shared_ptr<RequestHandler> handler, ServerLimits limits)
    : state_(std::make_shared<State>(context, std::move(handler), limits)) {}

HttpServer::~HttpServer() { close(); }

boost::system::error_code HttpServer::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  tcp::acceptor& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return ec;
  }
  asio::co_spawn(state_->context, acceptConnections(state_), asio::detached);
  return {};
}

tcp::endpoint HttpServer::localEndpoint() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec);
}

void HttpServer::close() {
  state_->closed = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& weak : state_->connections)
    if (auto stream = weak.lock()) stream->socket().close(ignored);
  state_->connections.clear();
}

}  // namespace monomesh::demo
