// The peer check a TLS validation context's subject-alt-name matchers stand for
// (match_typed_subject_alt_names, or the older match_subject_alt_names Istio-era configs use).
#pragma once
#include <functional>
#include <string>

#include "envoy/extensions/transport_sockets/tls/v3/common.pb.h"
#include "net/tls/peer_identity.h"

namespace monomesh::proxy {

using PeerCheck = std::function<bool(const net::tls::PeerIdentity&)>;

// True when one SAN of the peer's certificate matches one matcher: a typed matcher looks at its
// san_type's names (URI or DNS; other types are refused), an untyped one at URI and DNS SANs. An
// exact matcher on a DNS SAN follows Envoy: the certificate's "*.example.com" covers one label.
// Empty when there are no matchers. Throws std::invalid_argument("<field>.<subfield>: <problem>");
// `field` is the validation context's path. The check is thread-safe (handshakes run on workers).
PeerCheck compileSanMatchers(const envoy::extensions::transport_sockets::tls::v3::CertificateValidationContext& v,
                             const std::string& field);

}  // namespace monomesh::proxy
