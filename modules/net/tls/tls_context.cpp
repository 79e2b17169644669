#include "net/tls/tls_context.h"

#include <algorithm>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <string_view>

#include "net/tls/pem.h"

namespace monomesh::net::tls {
namespace {

using Side = TlsContext::Side;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// What the OpenSSL callbacks read. It hangs off the SSL_CTX as ex_data and is freed with it, so
// it outlives every SSL made from the context, however long those connections last.
struct CallbackData {
  bool verify_chain = false;
  std::function<bool(const PeerIdentity&)> verify_peer;
  std::vector<std::string> alpn;  // server preference order
};

void freeCallbackData(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<CallbackData*>(ptr);
}

int callbackDataIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeCallbackData);
  return index;
}

// Replaces OpenSSL's chain verification (as Envoy does) so that the chain check is optional on
// clients and the identity predicate runs on the leaf after it.
int verifyPeer(X509_STORE_CTX* store, void* arg) {
  const auto* data = static_cast<const CallbackData*>(arg);
  if (data->verify_chain && X509_verify_cert(store) <= 0) return 0;
  if (!data->verify_peer) return 1;
  bool accepted = false;
  try {
    accepted = data->verify_peer(peerIdentityOf(X509_STORE_CTX_get0_cert(store)));
  } catch (...) {
    // An exception must not unwind through OpenSSL's C frames; it rejects the peer.
  }
  if (!accepted) X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return accepted ? 1 : 0;
}

// Server preference: the first of our protocols the client offered. No overlap continues without
// ALPN, as Envoy does, and the HTTP codec falls back to its default.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
               unsigned int in_len, void* arg) {
  const auto* data = static_cast<const CallbackData*>(arg);
  for (const std::string& ours : data->alpn) {
    for (unsigned int i = 0; i < in_len; i += 1u + in[i]) {
      unsigned int len = in[i];
      if (i + 1 + len > in_len) break;
      if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == ours) {
        *out = in + i + 1;
        *out_len = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int protocolVersion(TlsVersion v) { return v == TlsVersion::Tls12 ? TLS1_2_VERSION : TLS1_3_VERSION; }
const char* versionName(TlsVersion v) { return v == TlsVersion::Tls12 ? "TLSv1.2" : "TLSv1.3"; }

std::optional<std::string> applyVersions(SSL_CTX* ctx, const TlsSettings& s) {
  if (protocolVersion(s.min_version) > protocolVersion(s.max_version)) {
    return std::string("min_version ") + versionName(s.min_version) + " is above max_version " +
           versionName(s.max_version);
  }
  if (!SSL_CTX_set_min_proto_version(ctx, protocolVersion(s.min_version)) ||
      !SSL_CTX_set_max_proto_version(ctx, protocolVersion(s.max_version))) {
    return "cannot set TLS versions: " + takeOpensslErrors();
  }
  return std::nullopt;
}

std::optional<std::string> applyCiphers(SSL_CTX* ctx, std::string_view suites) {
  if (suites.empty()) return std::nullopt;
  std::string tls12, tls13;
  for (size_t start = 0; start <= suites.size();) {
    size_t end = std::min(suites.find(':', start), suites.size());
    std::string name(suites.substr(start, end - start));
    start = end + 1;
    if (name.empty()) continue;
    bool is13 = name.starts_with("TLS_");
    // Checked one by one: OpenSSL accepts a list as long as a single name in it is known.
    int known = is13 ? SSL_CTX_set_ciphersuites(ctx, name.c_str()) : SSL_CTX_set_cipher_list(ctx, name.c_str());
    if (!known) {
      ERR_clear_error();
      return "cipher_suites: unknown cipher \"" + name + "\"";
    }
    std::string& list = is13 ? tls13 : tls12;
    list += (list.empty() ? "" : ":") + name;
  }
  const char* list12 = tls12.empty() ? OSSL_default_cipher_list() : tls12.c_str();
  const char* list13 = tls13.empty() ? OSSL_default_ciphersuites() : tls13.c_str();
  if (!SSL_CTX_set_cipher_list(ctx, list12) || !SSL_CTX_set_ciphersuites(ctx, list13)) {
    return "cipher_suites: " + takeOpensslErrors();
  }
  return std::nullopt;
}

// Certificate chain and key; a client may have neither.
std::optional<std::string> applyIdentity(SSL_CTX* ctx, const TlsSettings& s, Side side) {
  if (side == Side::Client && s.cert_chain_pem.empty() && s.private_key_pem.empty()) return std::nullopt;
  std::string error;
  std::vector<X509Ptr> chain = readPemCertificates(s.cert_chain_pem, error);
  if (!error.empty()) return "cert_chain: " + error;
  if (chain.empty()) return "no certificate in cert_chain";
  EvpPkeyPtr key = readPemPrivateKey(s.private_key_pem, error);
  if (!error.empty()) return "private_key: " + error;
  if (!key) return "no private key in private_key";
  if (!X509_check_private_key(chain.front().get(), key.get())) {
    ERR_clear_error();
    return "private key does not match certificate";
  }
  if (!SSL_CTX_use_certificate(ctx, chain.front().get()) || !SSL_CTX_use_PrivateKey(ctx, key.get())) {
    return "cert_chain: " + takeOpensslErrors();
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (!SSL_CTX_add1_chain_cert(ctx, chain[i].get())) {
      return "cert_chain: certificate " + std::to_string(i + 1) + ": " + takeOpensslErrors();
    }
  }
  return std::nullopt;
}

std::optional<std::string> applyTrust(SSL_CTX* ctx, const TlsSettings& s, Side side, CallbackData& data) {
  if (side == Side::Server && s.trusted_ca_pem.empty()) {
    if (s.require_client_certificate) return "require_client_certificate needs trusted_ca";
    if (s.verify_peer) return "verify_peer on a server needs trusted_ca";
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return std::nullopt;
  }
  if (!s.trusted_ca_pem.empty()) {
    std::string error;
    std::vector<X509Ptr> cas = readPemCertificates(s.trusted_ca_pem, error);
    if (!error.empty()) return "trusted_ca: " + error;
    if (cas.empty()) return "no certificate in trusted_ca";
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const X509Ptr& ca : cas) {
      if (!X509_STORE_add_cert(store, ca.get())) return "trusted_ca: " + takeOpensslErrors();
    }
    data.verify_chain = true;
  }
  data.verify_peer = s.verify_peer;
  // A server asks for a certificate whenever it can verify one; clients always check the server
  // through verifyPeer (which accepts any chain when no CA is configured).
  int mode = SSL_VERIFY_PEER;
  if (side == Side::Server && s.require_client_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, verifyPeer, &data);
  return std::nullopt;
}

std::optional<std::string> applyAlpn(SSL_CTX* ctx, const TlsSettings& s, Side side, CallbackData& data) {
  if (s.alpn.empty()) return std::nullopt;
  std::string wire;  // RFC 7301: each name prefixed by its one-byte length
  for (const std::string& name : s.alpn) {
    if (name.empty() || name.size() > 255) {
      return "alpn: protocol name must be 1 to 255 bytes, got \"" + name + "\"";
    }
    wire += static_cast<char>(name.size());
    wire += name;
  }
  if (side == Side::Server) {
    data.alpn = s.alpn;
    SSL_CTX_set_alpn_select_cb(ctx, selectAlpn, &data);
  } else if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                     static_cast<unsigned int>(wire.size())) != 0) {  // 0 is success
    return "alpn: " + takeOpensslErrors();
  }
  return std::nullopt;
}

std::optional<std::string> checkSni(const TlsSettings& s, Side side) {
  if (s.sni.empty()) return std::nullopt;
  if (side == Side::Server) return "sni is a client setting";
  if (s.sni.size() > 255) return "sni: longer than 255 bytes";
  for (unsigned char c : s.sni) {
    if (c < 0x21 || c > 0x7e) return "sni: \"" + s.sni + "\" is not a host name";
  }
  return std::nullopt;
}

TlsContextResult makeContext(const TlsSettings& s, Side side) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(side == Side::Server ? TLS_server_method() : TLS_client_method()));
  auto* data = new CallbackData();
  if (!ctx || callbackDataIndex() < 0 || !SSL_CTX_set_ex_data(ctx.get(), callbackDataIndex(), data)) {
    delete data;
    return {nullptr, "cannot create an OpenSSL context: " + takeOpensslErrors()};
  }
  uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
  if (side == Side::Server) options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  SSL_CTX_set_options(ctx.get(), options);
  // Send exactly cert_chain, as Envoy does, rather than completing it from the trust store.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_NO_AUTO_CHAIN);
  if (side == Side::Server) {
    // Needed for session resumption once client certificates are verified; tickets are keyed per
    // SSL_CTX, so a session never resumes across two contexts.
    static constexpr unsigned char kSessionContext[] = "monomesh";
    SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  }
  std::optional<std::string> error = checkSni(s, side);
  if (!error) error = applyVersions(ctx.get(), s);
  if (!error) error = applyCiphers(ctx.get(), s.cipher_suites);
  if (!error) error = applyIdentity(ctx.get(), s, side);
  if (!error) error = applyTrust(ctx.get(), s, side, *data);
  if (!error) error = applyAlpn(ctx.get(), s, side, *data);
  ERR_clear_error();
  if (error) return {nullptr, std::move(*error)};
  return {std::make_shared<const TlsContext>(side, ctx.release(), s.sni), {}};
}

}  // namespace

TlsContext::TlsContext(Side side, SSL_CTX* ctx, std::string sni)
    : context_(ctx), side_(side), sni_(std::move(sni)) {}

void TlsContext::prepareClient(SSL* ssl) const {
  // The name was checked when the context was built, so this cannot fail for its length.
  if (side_ == Side::Client && !sni_.empty()) SSL_set_tlsext_host_name(ssl, sni_.c_str());
}

TlsContextResult makeServerContext(const TlsSettings& settings) { return makeContext(settings, Side::Server); }
TlsContextResult makeClientContext(const TlsSettings& settings) { return makeContext(settings, Side::Client); }

}  // namespace monomesh::net::tls
