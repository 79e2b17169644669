#include "galley/webhook_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <filesystem>
#include <list>
#include <map>

#include "net/maybe_tls_stream.h"
#include "net/tls/certificate_files.h"
#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::galley {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct CertificateMetrics {
  observe::Family<observe::Counter>& updates = observe::MetricsRegistry::global().counter(
      "galley_validation_cert_key_updates", "Webhook certificate and key reloads applied");
  observe::Family<observe::Counter>& errors = observe::MetricsRegistry::global().counter(
      "galley_validation_cert_key_update_errors", "Webhook certificate and key sets that failed to load");
};
CertificateMetrics& certificateMetrics() {
  static CertificateMetrics m;
  return m;
}

// The watcher reads `directory/name`; the two flags may name files in different folders.
net::tls::CertificateWatcherOptions watcherOptions(const WebhookServerOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path cert = fs::absolute(options.cert_file, ec), key = fs::absolute(options.key_file, ec);
  net::tls::CertificateWatcherOptions out;
  out.directory = cert.parent_path().string();
  out.names.cert_chain = cert.filename().string();
  out.names.private_key = key.lexically_relative(cert.parent_path()).string();
  out.names.root_cert.clear();  // the webhook does not ask for client certificates
  out.interval = options.reload_interval;
  net::tls::TlsSettings server;
  server.alpn = {"http/1.1"};
  out.server = server;
  return out;
}

}  // namespace

struct WebhookServer::State : std::enable_shared_from_this<WebhookServer::State> {
  State(asio::io_context& c, WebhookServerOptions o) : context(c), acceptor(c), options(std::move(o)) {}

  asio::io_context& context;
  tcp::acceptor acceptor;
  WebhookServerOptions options;
  std::map<std::string, WebhookHandler> routes;
  std::shared_ptr<const net::tls::TlsContext> tls;
  std::unique_ptr<net::tls::CertificateWatcher> certificates;
  std::list<std::weak_ptr<net::MaybeTlsStream>> sessions;
  WebhookServerStats stats;
  bool closed = false;

  WebhookReply dispatch(const WebhookRequest& request) {
    auto it = routes.find(request.path);
    if (it == routes.end()) return {404, "text/plain; charset=utf-8", "no webhook at " + request.path + "\n"};
    if (request.method != "POST") return {405, "text/plain; charset=utf-8", "webhooks take POST\n"};
    try {
      return it->second(request);
    } catch (const std::exception& e) {
      observe::logScope("galley").error("webhook {} failed: {}", request.path, e.what());
      return {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
    }
  }
};

namespace {

using StatePtr = std::shared_ptr<WebhookServer::State>;
using StreamPtr = std::shared_ptr<net::MaybeTlsStream>;

// After an error answer the client may still be sending its body: read and drop it for a
// moment, so closing does not reset the connection before the client has read the answer.
asio::awaitable<void> lingerAndClose(StreamPtr stream) {
  boost::system::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream->tcp().expires_after(std::chrono::seconds(2));
  std::vector<char> sink(64 * 1024);
  for (size_t total = 0; total < (16u << 20);) {
    auto [ec, n] = co_await stream->tcp().async_read_some(asio::buffer(sink), use_nothrow);
    if (ec) break;
    total += n;
  }
  stream->socket().close(ignored);
}

asio::awaitable<void> session(StatePtr state, StreamPtr stream) {
  stream->tcp().expires_after(state->options.handshake_timeout);
  std::string failed = co_await stream->handshake();
  if (!failed.empty()) {
    state->stats.handshake_failures++;
    observe::logScope("galley").debug("webhook TLS handshake failed: {}", failed);
    stream->tcp().close();
    co_return;
  }
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(uint32_t(state->options.max_header_bytes));
    parser.body_limit(state->options.max_body_bytes);
    stream->tcp().expires_after(state->options.io_timeout);
    auto [ec, n] = co_await http::async_read(*stream, buffer, parser, use_nothrow);
    (void)n;
    // Beast's parse errors (not a closed or timed-out connection) get an answer before closing.
    bool unreadable = ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
                      ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (unreadable) {
      state->stats.bad_requests++;
      unsigned status = ec == http::error::header_limit ? 431 : ec == http::error::body_limit ? 413 : 400;
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.set(http::field::connection, "close");
      res.body() = ec == http::error::body_limit
                       ? "request body larger than " + std::to_string(state->options.max_body_bytes) + " bytes\n"
                       : "bad request: " + ec.message() + "\n";
      res.prepare_payload();
      stream->tcp().expires_after(state->options.io_timeout);
      co_await http::async_write(*stream, res, use_nothrow);
      co_await lingerAndClose(stream);
      co_return;
    }
    if (ec) break;  // closed, timed out or reset
    auto& req = parser.get();
    WebhookRequest request;
    request.method = std::string(req.method_string());
    std::string_view target = req.target();
    request.path = std::string(target.substr(0, target.find('?')));
    request.content_type = std::string(req[http::field::content_type]);
    request.body = std::move(req.body());
    state->stats.requests++;
    WebhookReply reply = state->dispatch(request);
    http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
    res.set(http::field::server, "monomesh-galley");
    res.set(http::field::content_type, reply.content_type);
    res.keep_alive(req.keep_alive() && !state->closed);
    res.body() = std::move(reply.body);
    res.prepare_payload();
    stream->tcp().expires_after(state->options.io_timeout);
    auto [wec, wn] = co_await http::async_write(*stream, res, use_nothrow);
    (void)wn;
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream->socket().close(ignored);
}

asio::awaitable<void> acceptLoop(StatePtr state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(use_nothrow);
    if (state->closed || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      observe::logScope("galley").warn("webhook accept failed: {}", ec.message());
      asio::steady_timer backoff(state->context, std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    state->sessions.remove_if([](const auto& weak) { return weak.expired(); });
    if (state->sessions.size() >= state->options.max_connections || !state->tls) {
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
    state->sessions.push_back(stream);
    asio::co_spawn(state->context, session(state, stream), asio::detached);
  }
}

}  // namespace

WebhookServer::WebhookServer(asio::io_context& context, WebhookServerOptions options)
    : state_(std::make_shared<State>(context, std::move(options))) {}

WebhookServer::~WebhookServer() { stop(); }

void WebhookServer::handle(const std::string& path, WebhookHandler handler) { state_->routes[path] = std::move(handler); }

std::string WebhookServer::start(const tcp::endpoint& endpoint) {
  std::weak_ptr<State> weak = state_;
  bool first = true;
  state_->certificates = std::make_unique<net::tls::CertificateWatcher>(
      state_->context, watcherOptions(state_->options),
      [weak, first](const net::tls::WatchedContexts& contexts) mutable {
        auto state = weak.lock();
        if (!state) return;
        state->tls = contexts.server;
        if (!first) {
          state->stats.certificate_reloads++;
          certificateMetrics().updates.with({}).inc();
          observe::logScope("galley").info("webhook certificate reloaded");
        }
        first = false;
      },
      [weak](const std::string& error) {
        if (auto state = weak.lock()) state->stats.certificate_errors++;
        certificateMetrics().errors.with({}).inc();
        observe::logScope("galley").error("webhook certificate not loaded (keeping the previous one): {}", error);
      });
  if (auto error = state_->certificates->start()) {
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

void WebhookServer::stop() {
  state_->closed = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  if (state_->certificates) state_->certificates->stop();
  for (auto& weak : state_->sessions)
    if (auto s = weak.lock()) s->socket().close(ignored);
  state_->sessions.clear();
}

tcp::endpoint WebhookServer::localEndpoint() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec);
}

const WebhookServerStats& WebhookServer::stats() const { return state_->stats; }

}  // namespace monomesh::galley
