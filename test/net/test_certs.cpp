#include "test_certs.h"

#include <atomic>
#include <cstring>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdexcept>

#include "net/tls/pem.h"

namespace monomesh::net::tls::testing {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what + ": " + takeOpensslErrors());
}

EvpPkeyPtr newKey() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation");
  return key;
}

std::string toPem(int (*write)(BIO*, void*), void* object) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(bio && write(bio, object), "PEM encoding");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string keyPem(EVP_PKEY* key) {
  return toPem([](BIO* b, void* k) {
    return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr, nullptr);
  }, key);
}

std::string x509Pem(X509* cert) {
  return toPem([](BIO* b, void* c) { return PEM_write_bio_X509(b, static_cast<X509*>(c)); }, cert);
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "extension");
  check(X509_add_ext(cert, ext, -1), "adding extension");
  X509_EXTENSION_free(ext);
}

// A certificate for `key`, signed by `issuer_key`; self-signed when `issuer` is null.
X509Ptr makeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, bool is_ca,
                 const LeafOptions& validity) {
  static std::atomic<long> serial{1};
  X509Ptr cert(X509_new());
  check(cert && X509_set_version(cert.get(), X509_VERSION_3), "X509_new");
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), validity.not_before.count());
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity.not_after.count());
  check(X509_set_pubkey(cert.get(), key), "public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                                   -1, -1, 0),
        "subject");
  X509* signer = issuer ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)), "issuer");
  if (is_ca) {
    addExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    addExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    addExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    addExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    addExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    std::string sans;
    for (const auto& uri : validity.uri_sans) sans += (sans.empty() ? "URI:" : ",URI:") + uri;
    for (const auto& dns : validity.dns_sans) sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
    if (!sans.empty()) addExtension(cert.get(), signer, NID_subject_alt_name, sans);
  }
  check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "signing");
  return cert;
}

}  // namespace

std::string newKeyPem() { return keyPem(newKey().get()); }

TestCa::TestCa(const std::string& common_name) {
  EvpPkeyPtr key = newKey();
  LeafOptions validity;
  validity.not_after = std::chrono::hours(24 * 365);
  X509Ptr cert = makeCert(key.get(), common_name, nullptr, key.get(), true, validity);
  root_ = {x509Pem(cert.get()), keyPem(key.get())};
}

CertAndKey TestCa::issue(const LeafOptions& options) const {
  std::string error;
  std::vector<X509Ptr> root = readPemCertificates(root_.cert_pem, error);
  EvpPkeyPtr root_key = readPemPrivateKey(root_.key_pem, error);
  check(root.size() == 1 && root_key, "reading the CA back");
  EvpPkeyPtr key = newKey();
  X509Ptr cert = makeCert(key.get(), options.common_name, root.front().get(), root_key.get(), false, options);
  return {x509Pem(cert.get()), keyPem(key.get())};
}

CertAndKey TestCa::issueWorkload(const std::string& ns, const std::string& sa) const {
  LeafOptions options;
  options.common_name = sa;
  options.uri_sans = {"spiffe://cluster.local/ns/" + ns + "/sa/" + sa};
  return issue(options);
}

}  // namespace monomesh::net::tls::testing
