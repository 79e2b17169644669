// Builders for Envoy TLS transport sockets in the proxy's tests: a mesh in miniature (one CA, the
// workloads reviews and productpage) and Downstream/UpstreamTlsContext messages for it.
#pragma once
#include <string>

#include "envoy/config/core/v3/base.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "net/loopback_tls.h"
#include "net/test_certs.h"
#include "proxy/config/tls_config.h"

namespace monomesh::proxy::testing {

namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;

// One CA; reviews serves, productpage calls (Istio's bookinfo in miniature).
struct Mesh {
  net::tls::testing::TestCa ca{"Mesh Root"};
  net::tls::testing::CertAndKey reviews = ca.issueWorkload("bookinfo", "reviews");
  net::tls::testing::CertAndKey productpage = ca.issueWorkload("bookinfo", "productpage");
};

inline envoy::config::core::v3::TransportSocket wrap(const google::protobuf::Message& context,
                                                     const std::string& name = "envoy.transport_sockets.tls") {
  envoy::config::core::v3::TransportSocket socket;
  socket.set_name(name);
  socket.mutable_typed_config()->PackFrom(context);
  return socket;
}

template <class Tls>
tlsv3::CommonTlsContext& common(Tls& tls) {
  return *tls.mutable_common_tls_context();
}
template <class Tls>
tlsv3::CertificateValidationContext& validation(Tls& tls) {
  return *common(tls).mutable_validation_context();
}

inline void setIdentity(tlsv3::CommonTlsContext& c, const net::tls::testing::CertAndKey& cert) {
  auto* t = c.add_tls_certificates();
  t->mutable_certificate_chain()->set_inline_string(cert.cert_pem);
  t->mutable_private_key()->set_inline_string(cert.key_pem);
}

// `cert` as identity, the mesh CA as the only trusted one.
template <class Tls>
Tls meshTls(const Mesh& mesh, const net::tls::testing::CertAndKey& cert) {
  Tls tls;
  setIdentity(common(tls), cert);
  validation(tls).mutable_trusted_ca()->set_inline_string(mesh.ca.certPem());
  return tls;
}

// reviews' listener: mutual TLS, any client of the mesh CA.
inline tlsv3::DownstreamTlsContext serverTls(const Mesh& mesh) {
  auto d = meshTls<tlsv3::DownstreamTlsContext>(mesh, mesh.reviews);
  d.mutable_require_client_certificate()->set_value(true);
  return d;
}

// productpage's cluster for reviews.
inline tlsv3::UpstreamTlsContext clientTls(const Mesh& mesh) {
  return meshTls<tlsv3::UpstreamTlsContext>(mesh, mesh.productpage);
}

// A typed URI SAN matcher to fill in.
template <class Tls>
envoy::type::matcher::v3::StringMatcher& addUriSan(Tls& tls) {
  auto* m = validation(tls).add_match_typed_subject_alt_names();
  m->set_san_type(tlsv3::SubjectAltNameMatcher::URI);
  return *m->mutable_matcher();
}

// `tls` changed by `edit`, for one-line error cases.
template <class Tls, class Edit>
Tls edited(Tls tls, Edit edit) {
  edit(tls);
  return tls;
}

// Compiles both sides and handshakes them over loopback.
inline net::tls::testing::HandshakeOutcome handshake(const tlsv3::DownstreamTlsContext& d,
                                                     const tlsv3::UpstreamTlsContext& u) {
  return net::tls::testing::runLoopbackHandshake(compileDownstreamTls(wrap(d), "server").context,
                                                 compileUpstreamTls(wrap(u), "client").context);
}

}  // namespace monomesh::proxy::testing
