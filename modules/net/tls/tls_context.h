// Shared OpenSSL contexts for TLS servers and clients, built from plain settings (the proxy
// translates Envoy's Downstream/UpstreamTlsContext into these). One context serves many
// connections on any thread; each asio::ssl::stream made from it holds its own reference to the
// SSL_CTX, so a connection keeps working after the context is replaced or dropped.
#pragma once
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/tls/peer_identity.h"

namespace monomesh::net::tls {

enum class TlsVersion { Tls12, Tls13 };

struct TlsSettings {
  std::string cert_chain_pem;   // leaf first, then intermediates; required for servers
  std::string private_key_pem;  // the leaf's key; given together with cert_chain_pem
  // Verifies the peer's chain. Empty on a client: any server chain is accepted (only verify_peer
  // applies). On a server a CA is what makes it ask for client certificates.
  std::string trusted_ca_pem;
  bool require_client_certificate = false;  // server only; needs trusted_ca_pem
  std::vector<std::string> alpn;            // preference order, e.g. {"h2", "http/1.1"}
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
  // ':'-separated OpenSSL cipher names or aliases; TLS_* names are TLS 1.3 suites. Each of the two
  // lists replaces OpenSSL's default for its version only; empty keeps both defaults.
  std::string cipher_suites;
  // Runs after the chain verified, on the peer's leaf (e.g. SAN or SPIFFE matching); false fails
  // the handshake with X509_V_ERR_APPLICATION_VERIFICATION. Called on whichever thread runs the
  // handshake, on several at once, so it must be thread-safe; only when the peer sent a
  // certificate. On a server it needs trusted_ca_pem. Resumed sessions are not checked again.
  std::function<bool(const PeerIdentity&)> verify_peer;
  std::string sni;  // client only; set on each connection by TlsContext::prepareClient
};

class TlsContext {
 public:
  enum class Side { Server, Client };

  // Takes ownership of a configured `ctx`; use makeServerContext/makeClientContext.
  TlsContext(Side side, SSL_CTX* ctx, std::string sni);

  // For asio::ssl::stream, whose constructor wants a non-const reference but only reads the
  // handle; the context is never reconfigured after it was built.
  boost::asio::ssl::context& asio() const noexcept { return context_; }
  SSL_CTX* native() const noexcept { return context_.native_handle(); }
  Side side() const noexcept { return side_; }
  const std::string& sni() const noexcept { return sni_; }

  // Call on every client connection before its handshake: sets the configured SNI (the one
  // per-connection setting an SSL_CTX cannot carry). Does nothing on server contexts.
  void prepareClient(SSL* ssl) const;

 private:
  mutable boost::asio::ssl::context context_;
  Side side_;
  std::string sni_;
};

struct TlsContextResult {
  std::shared_ptr<const TlsContext> context;  // null when `error` is set
  std::string error;                          // e.g. "private key does not match certificate"
};

TlsContextResult makeServerContext(const TlsSettings& settings);
TlsContextResult makeClientContext(const TlsSettings& settings);

}  // namespace monomesh::net::tls
