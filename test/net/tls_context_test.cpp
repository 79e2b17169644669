#include "net/tls/tls_context.h"

#include <boost/test/unit_test.hpp>
#include <openssl/x509_vfy.h>

#include "loopback_tls.h"
#include "test_certs.h"

namespace monomesh::net::tls {
namespace {

using testing::runLoopbackHandshake;
using testing::sslReason;
using testing::TestCa;

// A mesh in miniature: one CA, a server workload and a client workload, Istio-style mutual TLS.
struct Mesh {
  TestCa ca{"Mesh Root"};
  testing::CertAndKey server_cert = ca.issueWorkload("bookinfo", "reviews");
  testing::CertAndKey client_cert = ca.issueWorkload("bookinfo", "productpage");

  TlsSettings server(bool require_client = true) const {
    TlsSettings s;
    s.cert_chain_pem = server_cert.cert_pem;
    s.private_key_pem = server_cert.key_pem;
    s.trusted_ca_pem = ca.certPem();
    s.require_client_certificate = require_client;
    s.alpn = {"h2", "http/1.1"};
    return s;
  }
  TlsSettings client() const {
    TlsSettings s;
    s.cert_chain_pem = client_cert.cert_pem;
    s.private_key_pem = client_cert.key_pem;
    s.trusted_ca_pem = ca.certPem();
    s.alpn = {"h2", "http/1.1"};
    s.sni = "outbound_.9080_._.reviews.bookinfo.svc.cluster.local";
    return s;
  }
};

std::shared_ptr<const TlsContext> build(const TlsSettings& s, TlsContext::Side side) {
  TlsContextResult r = side == TlsContext::Side::Server ? makeServerContext(s) : makeClientContext(s);
  BOOST_REQUIRE_MESSAGE(r.context, r.error);
  BOOST_TEST(r.error == "");
  BOOST_TEST((r.context->side() == side));
  return r.context;
}
std::shared_ptr<const TlsContext> server(const TlsSettings& s) { return build(s, TlsContext::Side::Server); }
std::shared_ptr<const TlsContext> client(const TlsSettings& s) { return build(s, TlsContext::Side::Client); }

std::function<bool(const PeerIdentity&)> expectPrincipal(std::string principal, std::vector<std::string>* seen) {
  return [principal, seen](const PeerIdentity& id) {
    if (seen) seen->push_back(id.spiffe ? id.spiffe->principal() : "<none>");
    return id.spiffe && id.spiffe->principal() == principal;
  };
}

BOOST_AUTO_TEST_SUITE(tls_context)

BOOST_AUTO_TEST_CASE(invalid_settings_give_precise_errors) {
  Mesh mesh;
  TestCa other_ca("Other Root");
  auto with = [&](TlsSettings s, auto change) {
    change(s);
    return s;
  };
  struct Case {
    const char* name;
    TlsSettings settings;
    bool is_server;
    std::string error;
  } cases[] = {
      {"server without cert", with(mesh.server(), [](TlsSettings& s) { s.cert_chain_pem.clear(); }), true,
       "no certificate in cert_chain"},
      {"text instead of a cert", with(mesh.server(), [](TlsSettings& s) { s.cert_chain_pem = "hello"; }), true,
       "no certificate in cert_chain"},
      {"key missing", with(mesh.server(), [](TlsSettings& s) { s.private_key_pem.clear(); }), true,
       "no private key in private_key"},
      {"key of another cert", with(mesh.server(), [](TlsSettings& s) { s.private_key_pem = testing::newKeyPem(); }),
       true, "private key does not match certificate"},
      {"client cert without key", with(mesh.client(), [](TlsSettings& s) { s.private_key_pem.clear(); }), false,
       "no private key in private_key"},
      {"client key without cert", with(mesh.client(), [](TlsSettings& s) { s.cert_chain_pem.clear(); }), false,
       "no certificate in cert_chain"},
      {"required client cert without CA", with(mesh.server(), [](TlsSettings& s) { s.trusted_ca_pem.clear(); }),
       true, "require_client_certificate needs trusted_ca"},
      {"server predicate without CA", with(mesh.server(false), [](TlsSettings& s) {
         s.trusted_ca_pem.clear();
         s.verify_peer = [](const PeerIdentity&) { return true; };
       }), true, "verify_peer on a server needs trusted_ca"},
      {"CA text without cert", with(mesh.client(), [](TlsSettings& s) { s.trusted_ca_pem = "no cert here"; }), false,
       "no certificate in trusted_ca"},
      {"versions upside down", with(mesh.server(), [](TlsSettings& s) {
         s.min_version = TlsVersion::Tls13;
         s.max_version = TlsVersion::Tls12;
       }), true, "min_version TLSv1.3 is above max_version TLSv1.2"},
      {"unknown cipher", with(mesh.server(), [](TlsSettings& s) { s.cipher_suites = "ECDHE-ECDSA-AES128-GCM-SHA256:NOPE"; }),
       true, "cipher_suites: unknown cipher \"NOPE\""},
      {"unknown TLS 1.3 suite", with(mesh.server(), [](TlsSettings& s) { s.cipher_suites = "TLS_NOPE"; }), true,
       "cipher_suites: unknown cipher \"TLS_NOPE\""},
      {"empty ALPN name", with(mesh.client(), [](TlsSettings& s) { s.alpn = {"h2", ""}; }), false,
       "alpn: protocol name must be 1 to 255 bytes, got \"\""},
      {"SNI on a server", with(mesh.server(), [](TlsSettings& s) { s.sni = "a.example"; }), true,
       "sni is a client setting"},
      {"SNI with a space", with(mesh.client(), [](TlsSettings& s) { s.sni = "a b"; }), false,
       "sni: \"a b\" is not a host name"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      TlsContextResult r = c.is_server ? makeServerContext(c.settings) : makeClientContext(c.settings);
      BOOST_TEST(!r.context);
      BOOST_TEST(r.error == c.error);
    }
  }
  // A corrupt PEM block carries OpenSSL's reason.
  TlsSettings corrupt = mesh.server();
  corrupt.private_key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  TlsContextResult r = makeServerContext(corrupt);
  BOOST_TEST(!r.context);
  BOOST_TEST(r.error.starts_with("private_key: "), r.error);
  BOOST_TEST(r.error.size() > std::string("private_key: ").size());
}

BOOST_AUTO_TEST_CASE(mutual_tls_succeeds_and_each_side_sees_the_other) {
  Mesh mesh;
  auto out = runLoopbackHandshake(server(mesh.server()), client(mesh.client()));
  BOOST_TEST(!out.server_error, out.server_error.message());
  BOOST_TEST(!out.client_error, out.client_error.message());
  BOOST_TEST(out.exchanged);
  BOOST_TEST(out.server_verify_result == X509_V_OK);
  BOOST_TEST(out.client_verify_result == X509_V_OK);
  BOOST_TEST(out.version == "TLSv1.3");
  BOOST_TEST(out.server_sni == "outbound_.9080_._.reviews.bookinfo.svc.cluster.local");
  BOOST_REQUIRE(out.client_identity && out.client_identity->spiffe);
  BOOST_TEST(out.client_identity->spiffe->uri() == "spiffe://cluster.local/ns/bookinfo/sa/productpage");
  BOOST_REQUIRE(out.server_identity && out.server_identity->spiffe);
  BOOST_TEST(out.server_identity->spiffe->uri() == "spiffe://cluster.local/ns/bookinfo/sa/reviews");
}

BOOST_AUTO_TEST_CASE(alpn_follows_the_server_preference_among_offered_protocols) {
  Mesh mesh;
  auto srv = server(mesh.server());
  auto offer = [&](std::vector<std::string> alpn) {
    TlsSettings s = mesh.client();
    s.alpn = std::move(alpn);
    auto out = runLoopbackHandshake(srv, client(s));
    BOOST_TEST(out.ok());
    BOOST_TEST(out.server_alpn == out.client_alpn);
    return out.client_alpn;
  };
  BOOST_TEST(offer({"h2", "http/1.1"}) == "h2");
  BOOST_TEST(offer({"http/1.1", "h2"}) == "h2");
  BOOST_TEST(offer({"http/1.1"}) == "http/1.1");
  BOOST_TEST(offer({"spdy/3"}) == "");  // no overlap: no ALPN, the handshake still succeeds
  BOOST_TEST(offer({}) == "");
}

BOOST_AUTO_TEST_CASE(a_client_without_certificate_is_refused_when_one_is_required) {
  Mesh mesh;
  TlsSettings anonymous = mesh.client();
  anonymous.cert_chain_pem.clear();
  anonymous.private_key_pem.clear();
  auto out = runLoopbackHandshake(server(mesh.server(true)), client(anonymous));
  BOOST_TEST(sslReason(out.server_error) == "peer did not return a certificate");
  BOOST_TEST(!out.exchanged);
  BOOST_TEST(out.client_error.failed());  // TLS 1.3: learnt from the alert after its own handshake
  BOOST_TEST(!out.client_identity);

  // Permissive server (Istio's PERMISSIVE-style TLS): the same client gets through, anonymously.
  auto permissive = runLoopbackHandshake(server(mesh.server(false)), client(anonymous));
  BOOST_TEST(permissive.ok());
  BOOST_TEST(!permissive.client_identity);
}

BOOST_AUTO_TEST_CASE(a_peer_from_another_ca_is_refused_on_either_side) {
  Mesh mesh;
  TestCa other("Other Root");
  TlsSettings trusts_other = mesh.client();
  trusts_other.trusted_ca_pem = other.certPem();
  auto out = runLoopbackHandshake(server(mesh.server()), client(trusts_other));
  BOOST_TEST(sslReason(out.client_error) == "certificate verify failed");
  BOOST_TEST(out.client_verify_result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  BOOST_TEST(!out.exchanged);

  TlsSettings foreign = mesh.client();
  auto foreign_cert = other.issueWorkload("bookinfo", "productpage");
  foreign.cert_chain_pem = foreign_cert.cert_pem;
  foreign.private_key_pem = foreign_cert.key_pem;
  auto refused = runLoopbackHandshake(server(mesh.server()), client(foreign));
  BOOST_TEST(sslReason(refused.server_error) == "certificate verify failed");
  BOOST_TEST(refused.server_verify_result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  BOOST_TEST(!refused.exchanged);
}

BOOST_AUTO_TEST_CASE(an_expired_server_certificate_is_refused) {
  Mesh mesh;
  auto expired = mesh.ca.issue({.common_name = "old",
                                .not_before = std::chrono::hours(-48),
                                .not_after = std::chrono::hours(-24)});
  TlsSettings s = mesh.server();
  s.cert_chain_pem = expired.cert_pem;
  s.private_key_pem = expired.key_pem;
  auto out = runLoopbackHandshake(server(s), client(mesh.client()));
  BOOST_TEST(sslReason(out.client_error) == "certificate verify failed");
  BOOST_TEST(out.client_verify_result == X509_V_ERR_CERT_HAS_EXPIRED);
}

BOOST_AUTO_TEST_CASE(verify_peer_rejects_a_wrong_spiffe_identity) {
  Mesh mesh;
  std::vector<std::string> seen;
  TlsSettings wants_ratings = mesh.client();
  wants_ratings.verify_peer = expectPrincipal("cluster.local/ns/bookinfo/sa/ratings", &seen);
  auto out = runLoopbackHandshake(server(mesh.server()), client(wants_ratings));
  BOOST_TEST(sslReason(out.client_error) == "certificate verify failed");
  BOOST_TEST(out.client_verify_result == X509_V_ERR_APPLICATION_VERIFICATION);
  BOOST_TEST(seen == (std::vector<std::string>{"cluster.local/ns/bookinfo/sa/reviews"}), boost::test_tools::per_element());

  TlsSettings wants_reviews = mesh.client();
  wants_reviews.verify_peer = expectPrincipal("cluster.local/ns/bookinfo/sa/reviews", nullptr);
  BOOST_TEST(runLoopbackHandshake(server(mesh.server()), client(wants_reviews)).ok());

  // Server side: only productpage may call.
  TlsSettings only_details = mesh.server();
  only_details.verify_peer = expectPrincipal("cluster.local/ns/bookinfo/sa/details", nullptr);
  auto refused = runLoopbackHandshake(server(only_details), client(mesh.client()));
  BOOST_TEST(sslReason(refused.server_error) == "certificate verify failed");
  BOOST_TEST(refused.server_verify_result == X509_V_ERR_APPLICATION_VERIFICATION);
  BOOST_TEST(!refused.exchanged);

  // A throwing predicate rejects rather than unwinding through OpenSSL.
  TlsSettings throws = mesh.client();
  throws.verify_peer = [](const PeerIdentity&) -> bool { throw std::runtime_error("boom"); };
  auto thrown = runLoopbackHandshake(server(mesh.server()), client(throws));
  BOOST_TEST(thrown.client_verify_result == X509_V_ERR_APPLICATION_VERIFICATION);
  BOOST_TEST(sslReason(thrown.client_error) == "certificate verify failed");
  BOOST_TEST(!thrown.exchanged);
}

BOOST_AUTO_TEST_CASE(a_client_without_ca_checks_only_its_predicate) {
  Mesh mesh;
  TestCa other("Other Root");
  auto stranger = other.issueWorkload("bookinfo", "reviews");
  TlsSettings s = mesh.server(false);
  s.cert_chain_pem = stranger.cert_pem;
  s.private_key_pem = stranger.key_pem;
  TlsSettings no_ca = mesh.client();
  no_ca.trusted_ca_pem.clear();
  BOOST_TEST(runLoopbackHandshake(server(s), client(no_ca)).ok());
  no_ca.verify_peer = expectPrincipal("cluster.local/ns/bookinfo/sa/ratings", nullptr);
  auto out = runLoopbackHandshake(server(s), client(no_ca));
  BOOST_TEST(out.client_verify_result == X509_V_ERR_APPLICATION_VERIFICATION);
  BOOST_TEST(sslReason(out.client_error) == "certificate verify failed");
  BOOST_TEST(!out.exchanged);
}

BOOST_AUTO_TEST_CASE(versions_and_cipher_suites_are_applied) {
  Mesh mesh;
  TlsSettings tls12 = mesh.server();
  tls12.max_version = TlsVersion::Tls12;
  tls12.cipher_suites = "ECDHE-ECDSA-AES128-GCM-SHA256";
  auto out = runLoopbackHandshake(server(tls12), client(mesh.client()));
  BOOST_TEST(out.ok());
  BOOST_TEST(out.version == "TLSv1.2");
  BOOST_TEST(out.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256");

  TlsSettings tls13 = mesh.server();
  tls13.cipher_suites = "TLS_CHACHA20_POLY1305_SHA256";
  auto out13 = runLoopbackHandshake(server(tls13), client(mesh.client()));
  BOOST_TEST(out13.ok());
  BOOST_TEST(out13.cipher == "TLS_CHACHA20_POLY1305_SHA256");

  TlsSettings only13 = mesh.server();
  only13.min_version = TlsVersion::Tls13;
  TlsSettings only12 = mesh.client();
  only12.max_version = TlsVersion::Tls12;
  auto mismatch = runLoopbackHandshake(server(only13), client(only12));
  BOOST_TEST(sslReason(mismatch.server_error) == "unsupported protocol");
  BOOST_TEST(!mismatch.exchanged);
}

BOOST_AUTO_TEST_CASE(connections_outlive_their_context_objects) {
  // Streams keep the SSL_CTX and the callback state alive: the predicate still runs after the
  // TlsContext objects are gone, as it must when a certificate rotation replaces them.
  Mesh mesh;
  std::vector<std::string> seen;
  TlsSettings c = mesh.client();
  c.verify_peer = expectPrincipal("cluster.local/ns/bookinfo/sa/reviews", &seen);
  auto out = runLoopbackHandshake(server(mesh.server()), client(c), /*release_contexts=*/true);
  BOOST_TEST(out.ok());
  BOOST_TEST(seen.size() == 1u);
  BOOST_TEST(out.client_alpn == "h2");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::tls
