#include "net/tls/pem.h"

#include <algorithm>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

namespace monomesh::net::tls {
namespace {

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memoryBio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// PEM readers report "no start line" when the text holds no further block of the wanted type:
// that is the normal end of a list, not a failure.
bool onlyNoStartLine() {
  unsigned long e = ERR_peek_last_error();
  if (e == 0) return true;
  if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    return true;
  }
  return false;
}

// OpenSSL 3's key decoder reports "unsupported" both for a corrupt key and for a text without any
// key, so absence is decided first: a "-----BEGIN ...PRIVATE KEY-----" line (PKCS#8, RSA, EC,
// ENCRYPTED).
bool hasPrivateKeyBlock(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN ", kEnd = "PRIVATE KEY-----";
  for (size_t at = pem.find(kBegin); at != std::string_view::npos; at = pem.find(kBegin, at + 1)) {
    size_t eol = std::min(pem.find('\n', at), pem.size());
    std::string_view line = pem.substr(at, eol - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.ends_with(kEnd)) return true;
  }
  return false;
}

// Without a callback OpenSSL would prompt for a passphrase on the terminal.
int refusePassphrase(char*, int, int, void*) { return -1; }

}  // namespace

std::string takeOpensslErrors() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    if (!out.empty()) out += "; ";
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    if (lib) out.append(lib).append(": ");
    if (reason) {
      out += reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      out += buf;
    }
    if ((flags & ERR_TXT_STRING) && data && *data) out.append(" (").append(data).append(")");
  }
  return out;
}

std::vector<X509Ptr> readPemCertificates(std::string_view pem, std::string& error) {
  ERR_clear_error();
  std::vector<X509Ptr> certs;
  BioPtr bio = memoryBio(pem);
  if (!bio) {
    error = "cannot allocate a memory BIO: " + takeOpensslErrors();
    return {};
  }
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, refusePassphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  if (!onlyNoStartLine()) {
    error = "certificate " + std::to_string(certs.size() + 1) + ": " + takeOpensslErrors();
    return {};
  }
  return certs;
}

EvpPkeyPtr readPemPrivateKey(std::string_view pem, std::string& error) {
  ERR_clear_error();
  if (!hasPrivateKeyBlock(pem)) return nullptr;
  BioPtr bio = memoryBio(pem);
  if (!bio) {
    error = "cannot allocate a memory BIO: " + takeOpensslErrors();
    return nullptr;
  }
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr));
  if (!key) error = takeOpensslErrors();
  return key;
}

}  // namespace monomesh::net::tls
