// Who is on the other end of a TLS connection: the names in the peer's leaf certificate (URI and
// DNS SANs, subject CN) and, when a URI SAN is one, its Istio SPIFFE identity.
#pragma once
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <optional>
#include <string>
#include <vector>

#include "net/tls/spiffe_id.h"

namespace monomesh::net::tls {

struct PeerIdentity {
  std::vector<std::string> uri_sans;  // in certificate order
  std::vector<std::string> dns_sans;
  std::string subject_cn;             // the first CN; empty when the subject has none
  std::optional<SpiffeId> spiffe;     // the first URI SAN that parses as an Istio SPIFFE identity

  bool operator==(const PeerIdentity&) const = default;
};

// The names of one certificate. SAN entries holding a NUL, a space, a control byte or non-ASCII
// bytes are left out: a NUL is how a certificate smuggles a second name past C-string compares.
PeerIdentity peerIdentityOf(const X509* cert);

// The peer's leaf certificate after (or during) a handshake; nullopt when the peer sent none.
std::optional<PeerIdentity> peerIdentityOf(const SSL* ssl);

}  // namespace monomesh::net::tls
