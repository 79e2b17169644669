// PEM decoding from memory into owned OpenSSL objects, with OpenSSL's own reason when it fails.
#pragma once
#include <memory>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string>
#include <string_view>
#include <vector>

namespace monomesh::net::tls {

struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// Every certificate in `pem`, in order. Text outside PEM blocks is ignored, as OpenSSL does. On a
// malformed block returns an empty list and sets `error` ("certificate 2: PEM routines: bad base64
// decode"); a text without any certificate is an empty list and no error.
std::vector<X509Ptr> readPemCertificates(std::string_view pem, std::string& error);

// The first private key in `pem` (PKCS#8, RSA or EC). Encrypted keys are refused rather than
// prompting on the terminal. Null without error when `pem` holds no key block; null with `error`
// set when the key cannot be decoded.
EvpPkeyPtr readPemPrivateKey(std::string_view pem, std::string& error);

// Drains this thread's OpenSSL error queue into "library: reason; library: reason".
// Empty when the queue was empty.
std::string takeOpensslErrors();

}  // namespace monomesh::net::tls
