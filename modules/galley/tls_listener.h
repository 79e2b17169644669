// Galley's TLS front door, shared by the webhook server (HTTPS) and the distribution server
// (gRPC over mutual TLS): the certificate files are followed by a net::tls::CertificateWatcher
// (a new set serves new connections, live ones keep theirs; a broken set keeps the previous
// one), connections are accepted on one io_context, each handshakes in its own coroutine under a
// timeout (a slow or silent client holds up nobody), and the established stream is handed on.
// The number of connections held at once is bounded; stop() closes them.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "net/maybe_tls_stream.h"
#include "net/tls/certificate_files.h"

namespace monomesh::galley {

struct TlsListenerOptions {
  std::string name = "webhook";  // in log lines
  // The files, and the server settings (ALPN, client certificates) each context is built from.
  net::tls::CertificateWatcherOptions certificates;
  std::chrono::milliseconds handshake_timeout{10000};
  size_t max_connections = 256;
  // Handshake failures are probes and scanners on a webhook port (debug) but a misconfigured
  // client on the distribution port (warn).
  bool warn_on_handshake_failure = false;
  // Told after each certificate set after the first: "" when applied, else why it failed.
  std::function<void(const std::string& error)> on_certificates;
};

struct TlsListenerStats {
  uint64_t handshake_failures = 0;
  uint64_t certificate_reloads = 0;  // sets applied after the first
  uint64_t certificate_errors = 0;   // sets that failed to load (the previous one stays)
};

class TlsListener {
 public:
  // Called on the io_context with each stream whose handshake succeeded; the listener keeps a
  // weak reference so that stop() can close it while whoever holds it is still using it.
  using OnConnection = std::function<void(std::shared_ptr<net::MaybeTlsStream>)>;

  TlsListener(boost::asio::io_context& context, TlsListenerOptions options, OnConnection on_connection);
  ~TlsListener();
  TlsListener(const TlsListener&) = delete;

  // Loads the certificate files and listens; "" or why not ("cannot read /etc/certs/key.pem: ...").
  std::string start(const boost::asio::ip::tcp::endpoint& endpoint);
  void stop();

  boost::asio::ip::tcp::endpoint localEndpoint() const;
  const TlsListenerStats& stats() const;
  bool stopped() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace monomesh::galley
