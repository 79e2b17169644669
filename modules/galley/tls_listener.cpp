#include "galley/tls_listener.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <list>

#include "observe/log.h"

namespace monomesh::galley {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct TlsListener::State {
  State(asio::io_context& c, TlsListenerOptions o, OnConnection h)
      : context(c), acceptor(c), options(std::move(o)), on_connection(std::move(h)) {}

  asio::io_context& context;
  tcp::acceptor acceptor;
  TlsListenerOptions options;
  OnConnection on_connection;
  std::shared_ptr<const net::tls::TlsContext> tls;
  std::unique_ptr<net::tls::CertificateWatcher> certificates;
  std::list<std::weak_ptr<net::MaybeTlsStream>> connections;
  TlsListenerStats stats;
  bool closed = false;
  bool starting = false;  // the first load's error is start()'s to report
};

namespace {

using StatePtr = std::shared_ptr<TlsListener::State>;
using StreamPtr = std::shared_ptr<net::MaybeTlsStream>;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> handshake(StatePtr state, StreamPtr stream) {
  stream->tcp().expires_after(state->options.handshake_timeout);
  std::string failed = co_await stream->handshake();
  if (state->closed) co_return;
  if (!failed.empty()) {
    state->stats.handshake_failures++;
    boost::system::error_code ec;
    auto peer = stream->socket().remote_endpoint(ec);
    std::string from = ec ? std::string("a client") : peer.address().to_string() + ":" + std::to_string(peer.port());
    auto level = state->options.warn_on_handshake_failure ? spdlog::level::warn : spdlog::level::debug;
    observe::logScope("galley").log(level, "{}: TLS handshake with {} failed: {}", state->options.name, from, failed);
    stream->tcp().close();
    co_return;
  }
  state->on_connection(std::move(stream));
}

asio::awaitable<void> acceptLoop(StatePtr state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(use_nothrow);
    if (state->closed || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      observe::logScope("galley").warn("{}: accept failed: {}", state->options.name, ec.message());
      asio::steady_timer backoff(state->context, std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    state->connections.remove_if([](const auto& weak) { return weak.expired(); });
    if (state->connections.size() >= state->options.max_connections || !state->tls) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    // Answers are single small writes right after TLS records of the handshake's end (session
    // tickets): without this, Nagle holds them for the client's delayed ACK (~40 ms).
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto stream = std::make_shared<net::MaybeTlsStream>(std::move(socket));
    stream->startTls(state->tls);  // the context of this moment; a reload affects later connections
    state->connections.push_back(stream);
    asio::co_spawn(state->context, handshake(state, std::move(stream)), asio::detached);
  }
}

}  // namespace

TlsListener::TlsListener(asio::io_context& context, TlsListenerOptions options, OnConnection on_connection)
    : state_(std::make_shared<State>(context, std::move(options), std::move(on_connection))) {}

TlsListener::~TlsListener() { stop(); }

std::string TlsListener::start(const tcp::endpoint& endpoint) {
  std::weak_ptr<State> weak = state_;
  bool first = true;
  state_->certificates = std::make_unique<net::tls::CertificateWatcher>(
      state_->context, state_->options.certificates,
      [weak, first](const net::tls::WatchedContexts& contexts) mutable {
        auto state = weak.lock();
        if (!state) return;
        state->tls = contexts.server;
        if (!first) {
          state->stats.certificate_reloads++;
          observe::logScope("galley").info("{}: certificate reloaded", state->options.name);
          if (state->options.on_certificates) state->options.on_certificates("");
        }
        first = false;
      },
      [weak](const std::string& error) {
        auto state = weak.lock();
        if (!state || state->starting) return;
        state->stats.certificate_errors++;
        observe::logScope("galley").error("{}: certificate not loaded (keeping the previous one): {}",
                                          state->options.name, error);
        if (state->options.on_certificates) state->options.on_certificates(error);
      });
  state_->starting = true;
  auto error = state_->certificates->start();
  state_->starting = false;
  if (error) {
    state_->certificates->stop();
    return *error;
  }
  boost::system::error_code ec;
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    state_->certificates->stop();
    return "cannot listen on port " + std::to_string(endpoint.port()) + ": " + ec.message();
  }
  asio::co_spawn(state_->context, acceptLoop(state_), asio::detached);
  return {};
}

void TlsListener::stop() {
  state_->closed = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  if (state_->certificates) state_->certificates->stop();
  for (auto& weak : state_->connections)
    if (auto s = weak.lock()) s->socket().close(ignored);
  state_->connections.clear();
}

tcp::endpoint TlsListener::localEndpoint() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec);
}

const TlsListenerStats& TlsListener::stats() const { return state_->stats; }
bool TlsListener::stopped() const { return state_->closed; }

}  // namespace monomesh::galley
