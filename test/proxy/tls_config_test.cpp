// tls_config: Envoy's TLS transport socket (Downstream/UpstreamTlsContext) compiled into net::tls
// contexts, checked by real handshakes over loopback and by the errors bad configs get.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "proxy_test_util.h"
#include "temp_dir.h"
#include "tls_test_util.h"

namespace core = envoy::config::core::v3;
using namespace monomesh::proxy;
using namespace monomesh::proxy::testing;
using monomesh::net::tls::testing::CertAndKey;
using monomesh::net::tls::testing::runLoopbackHandshake;

namespace {

std::string downstreamError(const google::protobuf::Message& c) {
  return errorOf([&] { compileDownstreamTls(wrap(c), "tls"); });
}
std::string upstreamError(const google::protobuf::Message& c) {
  return errorOf([&] { compileUpstreamTls(wrap(c), "tls"); });
}

const std::string kReviewsId = "spiffe://cluster.local/ns/bookinfo/sa/reviews";
const std::string kProductpageId = "spiffe://cluster.local/ns/bookinfo/sa/productpage";
const std::string kCommon = "tls.typed_config.common_tls_context";  // the path of errors in common_tls_context

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_config)

BOOST_AUTO_TEST_CASE(istio_style_mutual_tls_from_files) {
  Mesh mesh;
  monomesh::testing::TempDir dir;
  dir.write("root-cert.pem", mesh.ca.certPem());
  // Istio 1.1's layout: one folder per workload with cert-chain.pem and key.pem.
  auto files = [&](const std::string& who) {
    const CertAndKey& cert = who == "reviews" ? mesh.reviews : mesh.productpage;
    dir.write(who + "/cert-chain.pem", cert.cert_pem);
    dir.write(who + "/key.pem", cert.key_pem);
    return "tls_certificates: [{certificate_chain: {filename: " + dir.file(who + "/cert-chain.pem") +
           "}, private_key: {filename: " + dir.file(who + "/key.pem") + "}}]\n";
  };
  auto server = compileDownstreamTls(fromYaml<core::TransportSocket>(R"(
name: envoy.transport_sockets.tls
typed_config:
  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
  require_client_certificate: true
  common_tls_context:
    alpn_protocols: [h2, http/1.1]
    validation_context:
      trusted_ca: {filename: )" + dir.file("root-cert.pem") + R"(}
      match_subject_alt_names: [{exact: )" + kProductpageId + R"(}]
    )" + files("reviews")), "listeners[0].filter_chains[0].transport_socket");
  auto client = compileUpstreamTls(fromYaml<core::TransportSocket>(R"(
name: tls
typed_config:
  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
  sni: outbound_.9080_._.reviews.bookinfo.svc.cluster.local
  common_tls_context:
    alpn_protocols: [istio, h2]
    validation_context:
      trusted_ca: {filename: )" + dir.file("root-cert.pem") + R"(}
      match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: )" + kReviewsId + R"(}}]
    )" + files("productpage")), "clusters[0].transport_socket");
  BOOST_TEST((server.require_client_certificate && !server.require_sni));
  BOOST_TEST(server.alpn == (std::vector<std::string>{"h2", "http/1.1"}), boost::test_tools::per_element());
  BOOST_TEST(client.sni == "outbound_.9080_._.reviews.bookinfo.svc.cluster.local");
  auto out = runLoopbackHandshake(server.context, client.context);
  BOOST_TEST_REQUIRE(out.ok());
  BOOST_TEST(out.server_sni == client.sni);
  BOOST_TEST(out.client_alpn == "h2");
  BOOST_TEST_REQUIRE(out.client_identity.has_value());
  BOOST_TEST(out.client_identity->uri_sans.front() == kProductpageId);
}

BOOST_AUTO_TEST_CASE(inline_and_environment_sources) {
  Mesh mesh;
  auto d = serverTls(mesh);
  validation(d).mutable_trusted_ca()->set_inline_bytes(mesh.ca.certPem());
  ::setenv("MONOMESH_TLS_TEST_KEY", mesh.productpage.key_pem.c_str(), 1);
  auto u = clientTls(mesh);
  common(u).mutable_tls_certificates(0)->mutable_private_key()->set_environment_variable("MONOMESH_TLS_TEST_KEY");
  BOOST_TEST(handshake(d, u).ok());
  ::unsetenv("MONOMESH_TLS_TEST_KEY");
  BOOST_TEST(upstreamError(u) ==
             kCommon + ".tls_certificates[0].private_key.environment_variable: MONOMESH_TLS_TEST_KEY is not set");
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_named_and_a_foreign_key_refused) {
  Mesh mesh;
  auto missing = edited(serverTls(mesh), [](auto& d) {
    common(d).mutable_tls_certificates(0)->mutable_certificate_chain()->set_filename("/nonexistent/cert.pem");
  });
  BOOST_TEST(downstreamError(missing) == kCommon + ".tls_certificates[0].certificate_chain.filename: "
                                                   "cannot read /nonexistent/cert.pem: No such file or directory");
  auto foreign = edited(serverTls(mesh), [](auto& d) {
    common(d).mutable_tls_certificates(0)->mutable_private_key()->set_inline_string(monomesh::net::tls::testing::newKeyPem());
  });
  BOOST_TEST(downstreamError(foreign) == "tls.typed_config: private key does not match certificate");
}

BOOST_AUTO_TEST_CASE(typed_san_matchers_accept_the_right_spiffe_uri_only) {
  Mesh mesh;
  auto wants_reviews = clientTls(mesh);
  addUriSan(wants_reviews).set_exact(kReviewsId);
  BOOST_TEST(handshake(serverTls(mesh), wants_reviews).ok());

  auto wants_ratings = clientTls(mesh);
  addUriSan(wants_ratings).set_exact("spiffe://cluster.local/ns/bookinfo/sa/ratings");
  auto refused = handshake(serverTls(mesh), wants_ratings);
  BOOST_TEST(!refused.ok());
  BOOST_TEST(refused.client_verify_result == X509_V_ERR_APPLICATION_VERIFICATION);

  // The listener side: only details may call, so productpage is refused.
  auto only_details = serverTls(mesh);
  addUriSan(only_details).set_suffix("/sa/details");
  auto out = handshake(only_details, clientTls(mesh));
  BOOST_TEST(!out.ok());
  BOOST_TEST(out.server_verify_result == X509_V_ERR_APPLICATION_VERIFICATION);
}

BOOST_AUTO_TEST_CASE(match_subject_alt_names_checks_a_dns_named_server) {
  Mesh mesh;
  auto d = serverTls(mesh);
  auto named = mesh.ca.issue({.common_name = "reviews", .dns_sans = {"reviews.bookinfo.svc"}});
  common(d).clear_tls_certificates();
  setIdentity(common(d), named);
  auto u = clientTls(mesh);
  validation(u).add_match_subject_alt_names()->set_exact("reviews.bookinfo.svc");
  BOOST_TEST(handshake(d, u).ok());
  validation(u).mutable_match_subject_alt_names(0)->set_exact("ratings.bookinfo.svc");
  BOOST_TEST(handshake(d, u).client_verify_result == X509_V_ERR_APPLICATION_VERIFICATION);
}

BOOST_AUTO_TEST_CASE(tls_versions_are_1_2_and_1_3) {
  Mesh mesh;
  using P = tlsv3::TlsParameters;
  auto versions = [&](P::TlsProtocol min, P::TlsProtocol max) {
    auto d = serverTls(mesh);
    common(d).mutable_tls_params()->set_tls_minimum_protocol_version(min);
    common(d).mutable_tls_params()->set_tls_maximum_protocol_version(max);
    SSL_CTX* ctx = compileDownstreamTls(wrap(d), "tls").context->native();
    return std::pair<long, long>(SSL_CTX_get_min_proto_version(ctx), SSL_CTX_get_max_proto_version(ctx));
  };
  BOOST_TEST((versions(P::TLS_AUTO, P::TLS_AUTO) == std::pair<long, long>(TLS1_2_VERSION, TLS1_3_VERSION)));
  BOOST_TEST((versions(P::TLSv1_3, P::TLS_AUTO) == std::pair<long, long>(TLS1_3_VERSION, TLS1_3_VERSION)));
  BOOST_TEST((versions(P::TLSv1_0, P::TLSv1_2) == std::pair<long, long>(TLS1_2_VERSION, TLS1_2_VERSION)));  // raised
  auto d = serverTls(mesh);
  common(d).mutable_tls_params()->set_tls_maximum_protocol_version(P::TLSv1_1);
  BOOST_TEST(downstreamError(d) ==
             kCommon + ".tls_params.tls_maximum_protocol_version: TLSv1_1 is not supported (TLS 1.2 and 1.3 are)");
  common(d).mutable_tls_params()->set_tls_maximum_protocol_version(P::TLSv1_2);
  common(d).mutable_tls_params()->set_tls_minimum_protocol_version(P::TLSv1_3);
  BOOST_TEST(downstreamError(d) == kCommon + ".tls_params: tls_minimum_protocol_version is above tls_maximum_protocol_version");
}

BOOST_AUTO_TEST_CASE(sds_secrets_must_have_arrived) {
  Mesh mesh;
  auto d = serverTls(mesh);
  common(d).clear_tls_certificates();
  common(d).add_tls_certificate_sds_secret_configs()->set_name("default");
  BOOST_TEST(downstreamError(d) == kCommon + ".tls_certificate_sds_secret_configs[0]: SDS secret \"default\" has not arrived");
  auto u = clientTls(mesh);
  common(u).mutable_validation_context_sds_secret_config()->set_name("ROOTCA");
  BOOST_TEST(upstreamError(u) == kCommon + ".validation_context_sds_secret_config: SDS secret \"ROOTCA\" has not arrived");
  // A certificate given inline and by SDS is two certificates.
  auto both = serverTls(mesh);
  common(both).add_tls_certificate_sds_secret_configs()->set_name("default");
  BOOST_TEST(downstreamError(both) ==
             kCommon + ".tls_certificates: only one certificate is supported (Envoy picks among several by SNI and key type)");
}

BOOST_AUTO_TEST_CASE(sds_secrets_in_istios_shape_handshake) {
  Mesh mesh;
  SecretStore secrets;
  auto& cert = secrets["default"];
  cert.set_name("default");
  cert.mutable_tls_certificate()->mutable_certificate_chain()->set_inline_bytes(mesh.reviews.cert_pem);
  cert.mutable_tls_certificate()->mutable_private_key()->set_inline_bytes(mesh.reviews.key_pem);
  auto& roots = secrets["ROOTCA"];
  roots.set_name("ROOTCA");
  roots.mutable_validation_context()->mutable_trusted_ca()->set_inline_bytes(mesh.ca.certPem());
  // The server: certificate and roots from SDS, the SAN check inline (combined_validation_context).
  tlsv3::DownstreamTlsContext d;
  d.mutable_require_client_certificate()->set_value(true);
  common(d).add_tls_certificate_sds_secret_configs()->set_name("default");
  auto* combined = common(d).mutable_combined_validation_context();
  combined->mutable_validation_context_sds_secret_config()->set_name("ROOTCA");
  auto* san = combined->mutable_default_validation_context()->add_match_typed_subject_alt_names();
  san->set_san_type(tlsv3::SubjectAltNameMatcher::URI);
  san->mutable_matcher()->set_exact(kProductpageId);
  auto server = compileDownstreamTls(wrap(d), "server", &secrets).context;
  auto client = compileUpstreamTls(wrap(clientTls(mesh)), "client").context;
  BOOST_TEST(runLoopbackHandshake(server, client).ok());
  // The inline matcher still applies on top of the SDS roots.
  san->mutable_matcher()->set_exact("spiffe://cluster.local/ns/bookinfo/sa/somebody-else");
  auto strict = compileDownstreamTls(wrap(d), "server", &secrets).context;
  BOOST_TEST(!runLoopbackHandshake(strict, client).ok());
  // A validation secret that holds a certificate instead is named.
  secrets["ROOTCA"] = cert;
  BOOST_TEST(errorOf([&] { compileDownstreamTls(wrap(d), "server", &secrets); }) ==
             "server.typed_config.common_tls_context.combined_validation_context.validation_context_sds_secret_config: "
             "SDS secret \"ROOTCA\" holds no validation_context");
}

BOOST_AUTO_TEST_CASE(transport_socket_kinds) {
  Mesh mesh;
  core::TransportSocket named;
  for (std::string name : {"envoy.transport_sockets.raw_buffer", "raw_buffer", "envoy.transport_sockets.tls", "tls"}) {
    named.set_name(name);
    BOOST_TEST(isTlsTransportSocket(named) == name.ends_with("tls"));
    BOOST_TEST(isPlaintextTransportSocket(named) == name.ends_with("raw_buffer"));
  }
  BOOST_TEST(isTlsTransportSocket(wrap(serverTls(mesh), "")));  // the type URL suffices
  auto raw = fromYaml<core::TransportSocket>(
      "{name: tls, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}");
  BOOST_TEST((isPlaintextTransportSocket(raw) && !isTlsTransportSocket(raw)));
  BOOST_TEST(errorOf([&] { compileDownstreamTls(raw, "ts"); }) == "ts: raw_buffer is not a TLS transport socket");
  named.set_name("envoy.transport_sockets.alts");
  BOOST_TEST((!isTlsTransportSocket(named) && !isPlaintextTransportSocket(named)));
  BOOST_TEST(errorOf([&] { compileUpstreamTls(named, "ts"); }) ==
             "ts: unknown transport socket \"envoy.transport_sockets.alts\" (supported: envoy.transport_sockets.tls, raw_buffer)");
  // v2 style, no typed_config: an empty UpstreamTlsContext, TLS without a client certificate or
  // verification, which a server that does not require client certificates accepts.
  named.set_name("envoy.transport_sockets.tls");
  auto permissive = serverTls(mesh);
  permissive.clear_require_client_certificate();
  auto out = runLoopbackHandshake(compileDownstreamTls(wrap(permissive), "s").context, compileUpstreamTls(named, "c").context);
  BOOST_TEST(out.ok());
  BOOST_TEST(!out.client_identity);
}

BOOST_AUTO_TEST_CASE(a_typed_config_of_another_type_is_an_error) {
  Mesh mesh;
  BOOST_TEST(errorOf([&] { compileDownstreamTls(wrap(clientTls(mesh)), "ts"); }) ==
             "ts.typed_config: expected envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, got "
             "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext");
  BOOST_TEST(errorOf([&] { compileUpstreamTls(wrap(core::Locality(), "tls"), "ts"); }) ==
             "ts.typed_config: expected envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, got "
             "type.googleapis.com/envoy.config.core.v3.Locality");
  BOOST_TEST(errorOf([&] { compileUpstreamTls(wrap(core::Locality(), "custom"), "ts"); }) ==
             "ts: unknown transport socket \"type.googleapis.com/envoy.config.core.v3.Locality\" "
             "(supported: envoy.transport_sockets.tls, raw_buffer)");
}

BOOST_AUTO_TEST_CASE(listener_rules) {
  Mesh mesh;
  auto no_ca = edited(serverTls(mesh), [](auto& d) { common(d).clear_validation_context(); });
  BOOST_TEST(downstreamError(no_ca) ==
             "tls.typed_config.require_client_certificate: needs common_tls_context.validation_context.trusted_ca");
  no_ca.mutable_require_sni()->set_value(true);
  no_ca.clear_require_client_certificate();
  auto permissive = compileDownstreamTls(wrap(no_ca), "tls");
  BOOST_TEST((permissive.require_sni && !permissive.require_client_certificate && permissive.alpn.empty()));
  BOOST_TEST(downstreamError(edited(serverTls(mesh), [](auto& d) { common(d).clear_tls_certificates(); })) ==
             kCommon + ".tls_certificates: a TLS listener needs a certificate");
  auto two = edited(serverTls(mesh), [&](auto& d) { setIdentity(common(d), mesh.productpage); });
  BOOST_TEST(contains(downstreamError(two), kCommon + ".tls_certificates: only one certificate is supported"));
}

BOOST_AUTO_TEST_CASE(unsupported_settings_are_refused_not_ignored) {
  Mesh mesh;
  BOOST_TEST(upstreamError(edited(clientTls(mesh), [](auto& u) { validation(u).add_verify_certificate_hash("ab"); })) ==
             kCommon + ".validation_context.verify_certificate_hash: not supported yet");
  BOOST_TEST(upstreamError(edited(clientTls(mesh), [](auto& u) { u.set_allow_renegotiation(true); })) ==
             "tls.typed_config.allow_renegotiation: not supported yet");
  BOOST_TEST(downstreamError(edited(serverTls(mesh), [](auto& d) { d.mutable_session_ticket_keys()->add_keys(); })) ==
             "tls.typed_config.session_ticket_keys: not supported yet");
  auto unverified = edited(clientTls(mesh), [](auto& u) { validation(u).clear_trusted_ca(); });
  addUriSan(unverified).set_exact(kReviewsId);
  BOOST_TEST(upstreamError(unverified) == kCommon + ".validation_context: SAN matchers need trusted_ca "
                                                    "(matching names in an unverified certificate is insecure)");
}

BOOST_AUTO_TEST_SUITE_END()
