// The HTTPS server Kubernetes' API server calls Galley's admission webhooks on: HTTP/1.1 (Beast)
// over TLS (tls_listener.h: certificate and key files reloaded when they change, live
// connections keep the old context, a handshake timeout, a connection limit). Every request is
// bounded: header and body sizes, an I/O timeout per read and write. Handlers are plain
// functions of the request.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "galley/tls_listener.h"

namespace monomesh::galley {

struct WebhookRequest {
  std::string method;
  std::string path;  // without the query string
  std::string content_type;
  std::string body;
};

struct WebhookReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using WebhookHandler = std::function<WebhookReply(const WebhookRequest&)>;

// Whether a Content-Type names application/json (parameters such as charset are allowed), the
// only body an AdmissionReview comes in.
bool isJsonContentType(std::string_view content_type);
// A plain-text answer for requests that are refused before any review is read.
WebhookReply textReply(unsigned status, std::string message);

struct WebhookServerOptions {
  std::string cert_file;  // PEM chain, leaf first
  std::string key_file;   // PEM private key
  std::chrono::milliseconds reload_interval{1000};
  // An AdmissionReview carries the object and the old object; Kubernetes objects are at most
  // ~1.5 MiB (etcd's request limit), so 4 MiB is room for both and no more.
  size_t max_body_bytes = 4u << 20;
  size_t max_header_bytes = 16u << 10;
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds io_timeout{30000};
  size_t max_connections = 256;
};

struct WebhookServerStats {
  uint64_t requests = 0;
  uint64_t bad_requests = 0;  // unreadable or oversized requests, answered and closed
};

class WebhookServer {
 public:
  WebhookServer(boost::asio::io_context& context, WebhookServerOptions options);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;

  // Routes `path` (exact) to `handler`.
  void handle(const std::string& path, WebhookHandler handler);

  // Loads the certificate files and listens; "" or why not ("cannot read /etc/certs/key.pem: ...").
  std::string start(const boost::asio::ip::tcp::endpoint& endpoint);
  // Stops accepting, stops watching the files and closes open connections.
  void stop();

  boost::asio::ip::tcp::endpoint localEndpoint() const;
  const WebhookServerStats& stats() const;
  const TlsListenerStats& tlsStats() const;  // handshakes, certificate reloads

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace monomesh::galley
