#include "demo/fake_upstream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/algorithm/string/case_conv.hpp>
#include <list>

namespace monomesh::demo::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}

struct FakeUpstream::State {
  State(asio::io_context& c, FakeBehaviour b) : context(c), acceptor(c), behaviour(std::move(b)) {}
  asio::io_context& context;
  tcp::acceptor acceptor;
  FakeBehaviour behaviour;
  std::list<std::weak_ptr<beast::tcp_stream>> streams;
  bool closed = false;
  mutable std::mutex mutex;
  std::vector<RecordedRequest> requests;
  size_t connections = 0;
};

namespace {

using State = FakeUpstream::State;

asio::awaitable<void> serve(std::shared_ptr<State> state, std::shared_ptr<beast::tcp_stream> stream) {
  beast::flat_buffer buffer;
  while (!state->closed) {
    http::request<http::string_body> request;
    stream->expires_never();
    auto [read_error, n] = co_await http::async_read(*stream, buffer, request, kNoThrow);
    (void)n;
    if (read_error) break;
    RecordedRequest record;
    record.target = std::string(request.target());
    for (const auto& field : request)
      record.headers.emplace(boost::algorithm::to_lower_copy(std::string(field.name_string())), std::string(field.value()));
    {
      std::lock_guard lock(state->mutex);
      state->requests.push_back(std::move(record));
    }
    const FakeBehaviour& behaviour = state->behaviour;
    if (behaviour.silent) continue;  // the client's deadline ends it
    if (behaviour.delay.count() > 0) {
      asio::steady_timer timer(state->context, behaviour.delay);
      co_await timer.async_wait(kNoThrow);
      if (state->closed) break;
    }
    http::response<http::string_body> response{static_cast<http::status>(behaviour.status), 11};
    response.set(http::field::content_type, "application/json");
    response.body() = behaviour.body;
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [write_error, written] = co_await http::async_write(*stream, response, kNoThrow);
    (void)written;
    if (write_error || !request.keep_alive() || behaviour.drop_after_answer) break;
  }
  stream->close();
}

asio::awaitable<void> acceptAll(std::shared_ptr<State> state) {
  for (;;) {
    auto [error, socket] = co_await state->acceptor.async_accept(kNoThrow);
    if (error || state->closed) co_return;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    state->streams.push_back(stream);
    {
      std::lock_guard lock(state->mutex);
      ++state->connections;
    }
    asio::co_spawn(state->context, serve(state, stream), asio::detached);
  }
}

}  // namespace

std::string RecordedRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

FakeUpstream::FakeUpstream(asio::io_context& context, FakeBehaviour behaviour)
    : state_(std::make_shared<State>(context, std::move(behaviour))) {
  tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(loopback.protocol());
  state_->acceptor.bind(loopback);
  state_->acceptor.listen();
  endpoint_ = state_->acceptor.local_endpoint();
  asio::co_spawn(context, acceptAll(state_), asio::detached);
}

FakeUpstream::~FakeUpstream() { close(); }

void FakeUpstream::close() {
  state_->closed = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& weak : state_->streams)
    if (auto stream = weak.lock()) stream->socket().close(ignored);
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

size_t FakeUpstream::connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->connections;
}

tcp::endpoint deadEndpoint() {
  asio::io_context context;
  tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint();
}

}  // namespace monomesh::demo::test
