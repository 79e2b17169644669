#include "net/tls/pem.h"

#include <boost/test/unit_test.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "net/tls/peer_identity.h"
#include "test_certs.h"

namespace monomesh::net::tls {
namespace {

using testing::TestCa;

std::string subjectCn(const X509Ptr& cert) { return peerIdentityOf(cert.get()).subject_cn; }

BOOST_AUTO_TEST_SUITE(pem)

BOOST_AUTO_TEST_CASE(reads_every_certificate_in_order_and_skips_other_blocks) {
  TestCa ca("Root One");
  auto leaf = ca.issue({.common_name = "leaf-one"});
  std::string error;
  // A key block between the certificates is skipped, as in a combined PEM file.
  auto certs = readPemCertificates("preamble\n" + leaf.cert_pem + leaf.key_pem + ca.certPem(), error);
  BOOST_TEST(error == "");
  BOOST_REQUIRE_EQUAL(certs.size(), 2u);
  BOOST_TEST(subjectCn(certs[0]) == "leaf-one");
  BOOST_TEST(subjectCn(certs[1]) == "Root One");
}

BOOST_AUTO_TEST_CASE(no_certificate_is_an_empty_list_without_error) {
  std::string error;
  BOOST_TEST(readPemCertificates("", error).empty());
  BOOST_TEST(readPemCertificates("just text", error).empty());
  BOOST_TEST(error == "");
  BOOST_TEST(ERR_peek_error() == 0u);  // the expected "no start line" is not left behind
}

BOOST_AUTO_TEST_CASE(a_corrupt_block_names_its_position_and_openssl_reason) {
  TestCa ca;
  std::string error;
  std::string bad = "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n";
  auto certs = readPemCertificates(ca.certPem() + bad, error);
  BOOST_TEST(certs.empty());
  BOOST_TEST(error.starts_with("certificate 2: "), error);
  BOOST_TEST(error.find("PEM routines") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(reads_a_private_key) {
  std::string error;
  auto key = readPemPrivateKey(testing::newKeyPem(), error);
  BOOST_TEST(error == "");
  BOOST_REQUIRE(key);
  BOOST_TEST(EVP_PKEY_get_bits(key.get()) == 256);
}

BOOST_AUTO_TEST_CASE(missing_key_is_null_without_error_and_a_corrupt_one_has_an_error) {
  std::string error;
  TestCa ca;
  BOOST_TEST(!readPemPrivateKey(ca.certPem(), error));
  BOOST_TEST(error == "");
  std::string bad = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  BOOST_TEST(!readPemPrivateKey(bad, error));
  BOOST_TEST(error != "");
}

BOOST_AUTO_TEST_CASE(an_encrypted_key_is_refused_without_prompting) {
  std::string error;
  auto key = readPemPrivateKey(testing::newKeyPem(), error);
  BIO* bio = BIO_new(BIO_s_mem());
  static char passphrase[] = "secret";
  BOOST_REQUIRE(PEM_write_bio_PrivateKey(bio, key.get(), EVP_aes_128_cbc(), nullptr, 0, nullptr, passphrase));
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string encrypted(data, static_cast<size_t>(size));
  BIO_free(bio);
  BOOST_TEST(encrypted.find("ENCRYPTED") != std::string::npos);
  BOOST_TEST(!readPemPrivateKey(encrypted, error));
  BOOST_TEST(error != "");
}

BOOST_AUTO_TEST_CASE(openssl_errors_are_drained_into_one_line) {
  ERR_clear_error();
  BOOST_TEST(takeOpensslErrors() == "");
  ERR_raise(ERR_LIB_PEM, PEM_R_BAD_BASE64_DECODE);
  ERR_raise(ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH);
  BOOST_TEST(takeOpensslErrors() == "PEM routines: bad base64 decode; x509 certificate routines: key values mismatch");
  BOOST_TEST(ERR_peek_error() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::tls
