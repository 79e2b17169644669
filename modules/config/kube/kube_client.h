// HTTP/1.1 requests to a Kubernetes API server (Beast over TLS on Asio): a whole bounded
// response for LIST pages, single objects (GET, POST, PUT with a JSON body) and error bodies, or
// a response read piece by piece for WATCH streams.
// Each request has its own connection, so a long watch never blocks a list; every step (resolve
// and connect, TLS handshake, response header, each body read) has a deadline. Use from one
// thread (the io_context's).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/kube/kube_config.h"

namespace monomesh::net::tls {
class TlsContext;
}

namespace monomesh::config::kube {

struct KubeClientOptions {
  std::chrono::milliseconds connect_timeout{10000};   // name resolution and TCP connect
  std::chrono::milliseconds tls_timeout{10000};       // TLS handshake
  std::chrono::milliseconds response_timeout{30000};  // request written and response header read
  std::chrono::milliseconds body_timeout{60000};      // a whole bounded body (a list page)
  size_t max_header_bytes = 64 * 1024;
  std::string user_agent = "monomesh";
  std::string system_roots = "/etc/ssl/certs/ca-certificates.crt";  // when no CA is configured
};

struct KubeResponse {
  unsigned status = 0;  // 0 when no complete response arrived; `error` says why
  std::string body;
  std::string error;
};

class KubeClient;

// One request's response after its header arrived.
class KubeResponseStream {
 public:
  struct Piece {
    std::string data;
    bool end = false;   // the body is complete
    std::string error;  // the connection failed or timed out
    bool timed_out = false;
  };

  KubeResponseStream(boost::asio::any_io_executor executor, std::shared_ptr<const KubeClient> client);
  ~KubeResponseStream();

  unsigned status() const { return status_; }  // 0: no response (see error())
  const std::string& error() const { return error_; }

  // The next body bytes; fails when nothing arrives within `idle`.
  boost::asio::awaitable<Piece> read(std::chrono::milliseconds idle);
  // The rest of the body, at most `max_bytes`, within `timeout`.
  boost::asio::awaitable<Piece> readAll(size_t max_bytes, std::chrono::milliseconds timeout);
  // Aborts pending operations; the stream then only reports errors.
  void close();

 private:
  friend class KubeClient;
  struct Impl;
  boost::asio::awaitable<void> start(std::string method, std::string target, std::string body);
  boost::asio::awaitable<Piece> readPiece();
  void fail(std::string error) { error_ = std::move(error); }

  std::unique_ptr<Impl> impl_;
  std::shared_ptr<const KubeClient> client_;
  unsigned status_ = 0;
  std::string error_;
  bool closed_ = false;
};

class KubeClient : public std::enable_shared_from_this<KubeClient> {
 public:
  // Builds the TLS context from the credentials; null with `error` naming what is wrong.
  static std::shared_ptr<KubeClient> create(boost::asio::any_io_executor executor, KubeCredentials credentials,
                                            KubeClientOptions options, std::string& error);
  KubeClient(boost::asio::any_io_executor executor, KubeCredentials credentials, KubeClientOptions options,
             std::shared_ptr<const net::tls::TlsContext> tls);

  // GET `target` ("/api/v1/services?limit=500") and read the whole response, at most `max_body`.
  boost::asio::awaitable<KubeResponse> get(std::string target, size_t max_body);
  // `method` ("GET", "POST", "PUT") `target` with `body` (JSON, none when empty) and read the
  // whole response, at most `max_body`.
  boost::asio::awaitable<KubeResponse> send(std::string method, std::string target, std::string body, size_t max_body);
  // GET `target` and return once the response header arrived (or the request failed).
  boost::asio::awaitable<std::shared_ptr<KubeResponseStream>> open(std::string target);

  // Closes every open connection; later requests fail at once.
  void shutdown();

  const boost::asio::any_io_executor& executor() const { return executor_; }
  const KubeCredentials& credentials() const { return credentials_; }
  const KubeClientOptions& options() const { return options_; }
  // "https://host:port/api/v1/services", for messages.
  std::string url(const std::string& target) const;

 private:
  friend class KubeResponseStream;
  boost::asio::awaitable<std::shared_ptr<KubeResponseStream>> openRequest(std::string method, std::string target,
                                                                          std::string body);
  boost::asio::any_io_executor executor_;
  KubeCredentials credentials_;
  KubeClientOptions options_;
  std::shared_ptr<const net::tls::TlsContext> tls_;  // null for http://
  std::vector<std::weak_ptr<KubeResponseStream>> open_;
  bool shut_down_ = false;
};

}  // namespace monomesh::config::kube
