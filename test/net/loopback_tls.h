// Test fixture for TLS: one handshake over loopback TCP between a server and a client context,
// with asio::ssl::stream on an io_context of its own, then a "ping"/"pong" exchange; reports what
// each side saw.
#pragma once
#include <boost/system/error_code.hpp>
#include <memory>
#include <optional>
#include <string>

#include "net/tls/peer_identity.h"
#include "net/tls/tls_context.h"

namespace monomesh::net::tls::testing {

struct HandshakeOutcome {
  boost::system::error_code server_error;  // of the handshake, or of the exchange after it
  boost::system::error_code client_error;
  long server_verify_result = 0;  // SSL_get_verify_result on each side (X509_V_OK is 0)
  long client_verify_result = 0;
  std::string client_alpn;  // negotiated protocol as each side sees it
  std::string server_alpn;
  std::string server_sni;  // the SNI the server received
  std::string version;     // "TLSv1.3", as the client negotiated it
  std::string cipher;      // "TLS_AES_256_GCM_SHA384"
  std::optional<PeerIdentity> client_identity;  // the client's certificate as the server saw it
  std::optional<PeerIdentity> server_identity;
  bool exchanged = false;  // "ping" reached the server and "pong" came back

  bool ok() const { return !server_error && !client_error && exchanged; }
};

// With `release_contexts`, the last references to the contexts are dropped once the two streams
// exist and before they handshake: a connection must not need its TlsContext object.
HandshakeOutcome runLoopbackHandshake(std::shared_ptr<const TlsContext> server,
                                      std::shared_ptr<const TlsContext> client, bool release_contexts = false);

// The OpenSSL reason of a TLS error code ("certificate verify failed"), for assertions.
std::string sslReason(const boost::system::error_code& ec);

}  // namespace monomesh::net::tls::testing
