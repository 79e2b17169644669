#include "net/tls/peer_identity.h"

#include <openssl/x509v3.h>

namespace monomesh::net::tls {
namespace {

// SAN types are IA5String (ASCII). A NUL inside would make "good.com\0.evil.com" compare as the
// first name in C code elsewhere; spaces and control bytes belong in no URI or DNS name.
std::optional<std::string> ia5Text(const ASN1_IA5STRING* s) {
  if (!s) return std::nullopt;
  const unsigned char* data = ASN1_STRING_get0_data(s);
  int length = ASN1_STRING_length(s);
  if (!data || length <= 0) return std::nullopt;
  std::string text(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
  for (unsigned char c : text) {
    if (c < 0x21 || c > 0x7e) return std::nullopt;
  }
  return text;
}

std::string firstCommonName(const X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  int index = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (index < 0) return {};
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) return {};
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  if (cn.find('\0') != std::string::npos) return {};
  return cn;
}

}  // namespace

PeerIdentity peerIdentityOf(const X509* cert) {
  PeerIdentity identity;
  if (!cert) return identity;
  identity.subject_cn = firstCommonName(cert);
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return identity;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI) {
      if (auto text = ia5Text(name->d.uniformResourceIdentifier)) identity.uri_sans.push_back(*text);
    } else if (name->type == GEN_DNS) {
      if (auto text = ia5Text(name->d.dNSName)) identity.dns_sans.push_back(*text);
    }
  }
  GENERAL_NAMES_free(names);
  for (const std::string& uri : identity.uri_sans) {
    std::string ignored;
    if ((identity.spiffe = SpiffeId::parse(uri, ignored))) break;
  }
  return identity;
}

std::optional<PeerIdentity> peerIdentityOf(const SSL* ssl) {
  // get0: no reference taken, the SSL keeps the certificate alive.
  const X509* cert = ssl ? SSL_get0_peer_certificate(ssl) : nullptr;
  if (!cert) return std::nullopt;
  return peerIdentityOf(cert);
}

}  // namespace monomesh::net::tls
