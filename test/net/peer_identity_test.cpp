#include "net/tls/peer_identity.h"

#include <boost/test/unit_test.hpp>
#include <openssl/x509v3.h>

#include "net/tls/pem.h"
#include "net/tls/tls_context.h"
#include "test_certs.h"

namespace monomesh::net::tls {
namespace {

using testing::TestCa;

X509Ptr parse(const std::string& pem) {
  std::string error;
  auto certs = readPemCertificates(pem, error);
  BOOST_REQUIRE_MESSAGE(certs.size() == 1, error);
  return std::move(certs.front());
}

// Adds a SAN extension holding names OpenSSL's text syntax cannot express (embedded NUL).
void addRawDnsSans(X509* cert, const std::vector<std::string>& names) {
  GENERAL_NAMES* sans = sk_GENERAL_NAME_new_null();
  for (const std::string& name : names) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    ASN1_STRING_set(ia5, name.data(), static_cast<int>(name.size()));
    GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    sk_GENERAL_NAME_push(sans, gn);
  }
  BOOST_REQUIRE(X509_add1_ext_i2d(cert, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT) == 1);
  GENERAL_NAMES_free(sans);
}

BOOST_AUTO_TEST_SUITE(peer_identity)

BOOST_AUTO_TEST_CASE(extracts_sans_cn_and_the_first_istio_spiffe_id) {
  TestCa ca;
  auto leaf = ca.issue({.common_name = "reviews",
                        .uri_sans = {"https://example.com/x", "spiffe://other.domain/workload",
                                     "spiffe://cluster.local/ns/bookinfo/sa/reviews",
                                     "spiffe://cluster.local/ns/bookinfo/sa/second"},
                        .dns_sans = {"reviews.bookinfo.svc.cluster.local", "reviews"}});
  X509Ptr cert = parse(leaf.cert_pem);
  PeerIdentity id = peerIdentityOf(cert.get());
  BOOST_TEST(id.subject_cn == "reviews");
  BOOST_TEST(id.uri_sans == (std::vector<std::string>{"https://example.com/x", "spiffe://other.domain/workload",
                                                       "spiffe://cluster.local/ns/bookinfo/sa/reviews",
                                                       "spiffe://cluster.local/ns/bookinfo/sa/second"}),
             boost::test_tools::per_element());
  BOOST_TEST(id.dns_sans == (std::vector<std::string>{"reviews.bookinfo.svc.cluster.local", "reviews"}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(id.spiffe);
  BOOST_TEST(id.spiffe->principal() == "cluster.local/ns/bookinfo/sa/reviews");
}

BOOST_AUTO_TEST_CASE(a_certificate_without_sans_has_only_its_cn) {
  TestCa ca("Only A Name");
  X509Ptr cert = parse(ca.certPem());
  PeerIdentity id = peerIdentityOf(cert.get());
  BOOST_TEST(id.subject_cn == "Only A Name");
  BOOST_TEST(id.uri_sans.empty());
  BOOST_TEST(id.dns_sans.empty());
  BOOST_TEST(!id.spiffe);
  BOOST_TEST((peerIdentityOf(static_cast<const X509*>(nullptr)) == PeerIdentity{}));
}

BOOST_AUTO_TEST_CASE(names_with_nul_or_control_bytes_are_dropped) {
  TestCa ca;
  X509Ptr cert = parse(ca.issue({}).cert_pem);
  addRawDnsSans(cert.get(), {std::string("good.com\0.evil.com", 18), "with space", "tab\there", "ok.example"});
  PeerIdentity id = peerIdentityOf(cert.get());
  BOOST_TEST(id.dns_sans == (std::vector<std::string>{"ok.example"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_ssl_without_a_peer_certificate_has_no_identity) {
  BOOST_TEST(!peerIdentityOf(static_cast<const SSL*>(nullptr)));
  auto client = makeClientContext({});
  BOOST_REQUIRE_MESSAGE(client.context, client.error);
  SSL* ssl = SSL_new(client.context->native());
  BOOST_TEST(!peerIdentityOf(ssl));  // before any handshake
  SSL_free(ssl);
  // After a handshake: see tls_context_test (client_identity / server_identity).
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::tls
