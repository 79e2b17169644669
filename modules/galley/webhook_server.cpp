#include "galley/webhook_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <map>

#include "galley/certificate_flags.h"
#include "net/maybe_tls_stream.h"
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

TlsListenerOptions listenerOptions(const WebhookServerOptions& options) {
  TlsListenerOptions out;
  out.name = "webhook";
  // The webhook does not ask for client certificates: no CA is read.
  out.certificates = certificateWatcherOptions(options.cert_file, options.key_file, "", options.reload_interval);
  net::tls::TlsSettings server;
  server.alpn = {"http/1.1"};
  out.certificates.server = server;
  out.handshake_timeout = options.handshake_timeout;
  out.max_connections = options.max_connections;
  out.on_certificates = [](const std::string& error) {
    (error.empty() ? certificateMetrics().updates : certificateMetrics().errors).with({}).inc();
  };
  return out;
}

}  // namespace

bool isJsonContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return media == "application/json";
}

WebhookReply textReply(unsigned status, std::string message) {
  return WebhookReply{status, "text/plain; charset=utf-8", std::move(message) + "\n"};
}

struct WebhookServer::State : std::enable_shared_from_this<WebhookServer::State> {
  State(asio::io_context& c, WebhookServerOptions o) : context(c), options(std::move(o)) {}

  asio::io_context& context;
  WebhookServerOptions options;
  std::map<std::string, WebhookHandler> routes;
  std::unique_ptr<TlsListener> listener;
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

// One connection after its TLS handshake: requests in turn until the client closes, an error or
// a timeout.
asio::awaitable<void> session(StatePtr state, StreamPtr stream) {
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

}  // namespace

WebhookServer::WebhookServer(asio::io_context& context, WebhookServerOptions options)
    : state_(std::make_shared<State>(context, std::move(options))) {}

WebhookServer::~WebhookServer() { stop(); }

void WebhookServer::handle(const std::string& path, WebhookHandler handler) { state_->routes[path] = std::move(handler); }

std::string WebhookServer::start(const tcp::endpoint& endpoint) {
  std::weak_ptr<State> weak = state_;
  state_->listener = std::make_unique<TlsListener>(state_->context, listenerOptions(state_->options),
                                                   [weak](std::shared_ptr<net::MaybeTlsStream> stream) {
                                                     auto state = weak.lock();
                                                     if (!state || state->closed) return;
                                                     asio::co_spawn(state->context, session(state, std::move(stream)),
                                                                    asio::detached);
                                                   });
  return state_->listener->start(endpoint);
}

void WebhookServer::stop() {
  state_->closed = true;
  if (state_->listener) state_->listener->stop();
}

tcp::endpoint WebhookServer::localEndpoint() const {
  return state_->listener ? state_->listener->localEndpoint() : tcp::endpoint();
}

const TlsListenerStats& WebhookServer::tlsStats() const {
  static const TlsListenerStats none;
  return state_->listener ? state_->listener->stats() : none;
}

const WebhookServerStats& WebhookServer::stats() const { return state_->stats; }

}  // namespace monomesh::galley
