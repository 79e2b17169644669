#include "config/kube/kube_client.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config/loader.h"
#include "net/maybe_tls_stream.h"
#include "net/tls/tls_context.h"

namespace monomesh::config::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string describe(const boost::system::error_code& ec, const std::string& phase, std::chrono::milliseconds limit) {
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
    return phase + " timed out after " + std::to_string(limit.count()) + " ms";
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
      ec == asio::ssl::error::stream_truncated)
    return phase + ": the server closed the connection";
  return phase + ": " + ec.message();
}

bool isIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

struct KubeResponseStream::Impl {
  explicit Impl(asio::any_io_executor executor) : stream(beast::tcp_stream(executor)) {}
  net::MaybeTlsStream stream;
  std::shared_ptr<tcp::resolver> resolver;
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  std::array<char, 16 * 1024> chunk{};
};

KubeResponseStream::KubeResponseStream(asio::any_io_executor executor, std::shared_ptr<const KubeClient> client)
    : impl_(std::make_unique<Impl>(executor)), client_(std::move(client)) {
  impl_->parser.body_limit(boost::none);  // bounded by the reader (line and list limits)
  impl_->parser.header_limit(uint32_t(client_->options_.max_header_bytes));
}

KubeResponseStream::~KubeResponseStream() = default;

void KubeResponseStream::close() {
  closed_ = true;
  if (impl_->resolver) impl_->resolver->cancel();
  boost::system::error_code ignored;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->stream.socket().close(ignored);
}

asio::awaitable<void> KubeResponseStream::start(std::string method, std::string target, std::string body) {
  const KubeClient& client = *client_;
  const auto& options = client.options_;
  const ApiServerAddress& server = client.credentials_.server;
  std::string token_error;
  auto token = currentToken(client.credentials_, token_error);
  if (!token) {
    fail(token_error);
    co_return;
  }

  // Resolve (IP literals need no resolver) and connect, within connect_timeout.
  auto executor = impl_->stream.get_executor();
  // stream.tcp() is looked up at each use: startTls() moves the TCP stream into the TLS layer.
  impl_->stream.tcp().expires_after(options.connect_timeout);
  boost::system::error_code ec;
  if (isIpLiteral(server.host)) {
    tcp::endpoint endpoint(asio::ip::make_address(server.host), uint16_t(std::stoi(server.port)));
    auto [cec] = co_await impl_->stream.tcp().async_connect(endpoint, kAwait);
    ec = cec;
  } else {
    impl_->resolver = std::make_shared<tcp::resolver>(executor);
    asio::steady_timer deadline(executor, options.connect_timeout);
    deadline.async_wait([resolver = impl_->resolver](boost::system::error_code wec) {
      if (!wec) resolver->cancel();  // a resolver has no deadline of its own
    });
    auto [rec, endpoints] = co_await impl_->resolver->async_resolve(server.host, server.port, kAwait);
    deadline.cancel();
    if (rec || closed_) {
      fail(closed_ ? "stopped" : describe(rec, "resolving " + server.host, options.connect_timeout));
      co_return;
    }
    auto [cec, ep] = co_await impl_->stream.tcp().async_connect(endpoints, kAwait);
    ec = cec;
  }
  if (ec || closed_) {
    fail(closed_ ? "stopped" : describe(ec, "connecting to " + server.url(), options.connect_timeout));
    co_return;
  }

  if (client.tls_) {
    impl_->stream.startTls(client.tls_);
    impl_->stream.tcp().expires_after(options.tls_timeout);
    std::string tls_error = co_await impl_->stream.handshake();
    if (!tls_error.empty() || closed_) {
      fail(closed_ ? "stopped" : "TLS handshake with " + server.url() + ": " + tls_error);
      co_return;
    }
  }

  http::request<http::string_body> request{http::string_to_verb(method), server.path_prefix + target, 11};
  bool v6 = server.host.find(':') != std::string::npos;
  request.set(http::field::host, (v6 ? "[" + server.host + "]" : server.host) + ":" + server.port);
  request.set(http::field::user_agent, options.user_agent);
  request.set(http::field::accept, "application/json");
  if (!token->empty()) request.set(http::field::authorization, "Bearer " + *token);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
  }
  request.keep_alive(false);
  request.prepare_payload();
  impl_->stream.tcp().expires_after(options.response_timeout);
  auto [wec, written] = co_await http::async_write(impl_->stream, request, kAwait);
  if (wec || closed_) {
    fail(closed_ ? "stopped" : describe(wec, "sending the request to " + client.url(target), options.response_timeout));
    co_return;
  }
  auto [hec, read] = co_await http::async_read_header(impl_->stream, impl_->buffer, impl_->parser, kAwait);
  if (hec || closed_) {
    fail(closed_ ? "stopped" : describe(hec, "waiting for the response from " + client.url(target), options.response_timeout));
    co_return;
  }
  status_ = impl_->parser.get().result_int();
}

asio::awaitable<KubeResponseStream::Piece> KubeResponseStream::readPiece() {
  Piece piece;
  auto& parser = impl_->parser;
  while (!parser.is_done() && piece.data.empty()) {
    if (closed_) {
      piece.error = "stopped";
      co_return piece;
    }
    parser.get().body().data = impl_->chunk.data();
    parser.get().body().size = impl_->chunk.size();
    auto [ec, n] = co_await http::async_read_some(impl_->stream, impl_->buffer, parser, kAwait);
    if (ec == http::error::need_buffer) ec = {};
    piece.data.append(impl_->chunk.data(), impl_->chunk.size() - parser.get().body().size);
    if (ec) {
      piece.timed_out = !closed_ && ec == beast::error::timeout;
      piece.error = closed_ ? "stopped" : describe(ec, "reading the response", {});
      co_return piece;
    }
  }
  piece.end = parser.is_done();
  co_return piece;
}

asio::awaitable<KubeResponseStream::Piece> KubeResponseStream::read(std::chrono::milliseconds idle) {
  if (status_ == 0) {
    Piece failed;
    failed.error = error_;
    co_return failed;
  }
  impl_->stream.tcp().expires_after(idle);
  Piece piece = co_await readPiece();
  if (piece.timed_out) piece.error = "no data from the server for " + std::to_string(idle.count()) + " ms";
  co_return piece;
}

asio::awaitable<KubeResponseStream::Piece> KubeResponseStream::readAll(size_t max_bytes, std::chrono::milliseconds timeout) {
  Piece all;
  if (status_ == 0) {
    all.error = error_;
    co_return all;
  }
  impl_->stream.tcp().expires_after(timeout);
  for (;;) {
    Piece piece = co_await readPiece();
    all.data += piece.data;
    if (all.data.size() > max_bytes) {
      all.error = "response body larger than " + std::to_string(max_bytes) + " bytes";
      close();
      co_return all;
    }
    if (!piece.error.empty()) {
      all.timed_out = piece.timed_out;
      all.error = piece.timed_out ? "response body not complete after " + std::to_string(timeout.count()) + " ms"
                                  : piece.error;
      co_return all;
    }
    if (piece.end) break;
  }
  all.end = true;
  co_return all;
}

std::shared_ptr<KubeClient> KubeClient::create(asio::any_io_executor executor, KubeCredentials credentials,
                                               KubeClientOptions options, std::string& error) {
  if (credentials.server.scheme == "http")
    return std::make_shared<KubeClient>(executor, std::move(credentials), std::move(options), nullptr);
  net::tls::TlsSettings settings;
  settings.cert_chain_pem = credentials.client_cert_pem;
  settings.private_key_pem = credentials.client_key_pem;
  settings.alpn = {"http/1.1"};
  const std::string& name = credentials.tls_server_name.empty() ? credentials.server.host : credentials.tls_server_name;
  if (!isIpLiteral(name)) settings.sni = name;
  if (!credentials.insecure_skip_tls_verify) {
    settings.trusted_ca_pem = credentials.ca_pem;
    if (settings.trusted_ca_pem.empty()) {
      std::string read_error;
      auto roots = readConfigFile(options.system_roots, 8u << 20, read_error);
      if (!roots) {
        error = credentials.origin + ": no certificate authority given and the system roots are unreadable (" +
                options.system_roots + ": " + read_error + ")";
        return nullptr;
      }
      settings.trusted_ca_pem = std::move(*roots);
    }
  }
  auto made = net::tls::makeClientContext(settings);
  if (!made.context) {
    error = credentials.origin + ": TLS settings: " + made.error;
    return nullptr;
  }
  if (!credentials.insecure_skip_tls_verify) {
    // Every connection inherits the context's parameters: the server certificate must name the
    // host (or tls-server-name), as client-go checks.
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(made.context->native());
    int ok = isIpLiteral(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) {
      error = credentials.origin + ": cannot check the server name \"" + name + "\"";
      return nullptr;
    }
  }
  return std::make_shared<KubeClient>(executor, std::move(credentials), std::move(options), std::move(made.context));
}

KubeClient::KubeClient(asio::any_io_executor executor, KubeCredentials credentials, KubeClientOptions options,
                       std::shared_ptr<const net::tls::TlsContext> tls)
    : executor_(std::move(executor)),
      credentials_(std::move(credentials)),
      options_(std::move(options)),
      tls_(std::move(tls)) {}

std::string KubeClient::url(const std::string& target) const { return credentials_.server.url() + target; }

asio::awaitable<std::shared_ptr<KubeResponseStream>> KubeClient::openRequest(std::string method, std::string target,
                                                                             std::string body) {
  auto stream = std::make_shared<KubeResponseStream>(executor_, shared_from_this());
  if (shut_down_) {
    stream->fail("stopped");
    co_return stream;
  }
  std::erase_if(open_, [](const auto& weak) { return weak.expired(); });
  open_.push_back(stream);
  co_await stream->start(std::move(method), std::move(target), std::move(body));
  co_return stream;
}

asio::awaitable<std::shared_ptr<KubeResponseStream>> KubeClient::open(std::string target) {
  return openRequest("GET", std::move(target), {});
}

asio::awaitable<KubeResponse> KubeClient::get(std::string target, size_t max_body) {
  return send("GET", std::move(target), {}, max_body);
}

asio::awaitable<KubeResponse> KubeClient::send(std::string method, std::string target, std::string body,
                                               size_t max_body) {
  auto stream = co_await openRequest(std::move(method), std::move(target), std::move(body));
  KubeResponse response;
  response.status = stream->status();
  if (response.status == 0) {
    response.error = stream->error();
    co_return response;
  }
  auto piece = co_await stream->readAll(max_body, options_.body_timeout);
  response.body = std::move(piece.data);
  if (!piece.error.empty()) {
    response.status = 0;
    response.error = piece.error;
  }
  stream->close();
  co_return response;
}

void KubeClient::shutdown() {
  shut_down_ = true;
  for (auto& weak : open_)
    if (auto stream = weak.lock()) stream->close();
  open_.clear();
}

}  // namespace monomesh::config::kube
