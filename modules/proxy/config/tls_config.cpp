#include "proxy/config/tls_config.h"

#include <optional>
#include <stdexcept>
#include <string_view>

#include "envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "observe/log.h"
#include "proxy/config/data_source.h"
#include "proxy/config/san_matchers.h"

namespace monomesh::proxy {
namespace {

namespace core = envoy::config::core::v3;
namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;
using net::tls::TlsSettings;
using net::tls::TlsVersion;

constexpr size_t kMaxPemBytes = 1 << 20;  // certificates and CA bundles are KiBs; refuse anything huge

[[noreturn]] void fail(const std::string& field, const std::string& problem) {
  throw std::invalid_argument(field + ": " + problem);
}

// For settings we parse but cannot honour yet: ignoring a security setting would weaken it silently.
void rejectIfSet(bool set, const std::string& field) {
  if (set) fail(field, "not supported yet");
}

[[noreturn]] void failSds(const std::string& field) {
  fail(field, "SDS session ticket keys are not supported yet");
}

// The message name of a type URL ("type.googleapis.com/a.b.C" -> "a.b.C").
std::string_view typeName(const google::protobuf::Any& any) {
  std::string_view url = any.type_url();
  return url.substr(url.rfind('/') + 1);
}

bool isTlsContextType(std::string_view type) {
  return type == tlsv3::DownstreamTlsContext::descriptor()->full_name() ||
         type == tlsv3::UpstreamTlsContext::descriptor()->full_name();
}

bool isRawBufferType(std::string_view type) {
  return type == envoy::extensions::transport_sockets::raw_buffer::v3::RawBuffer::descriptor()->full_name();
}

// The socket's Downstream/UpstreamTlsContext. A TLS socket named without typed_config (v2 style)
// gets the empty context, as Envoy's factories start from their default config.
template <class Context>
Context unpackContext(const core::TransportSocket& socket, const std::string& field) {
  if (!isTlsTransportSocket(socket)) {
    if (isPlaintextTransportSocket(socket)) fail(field, "raw_buffer is not a TLS transport socket");
    std::string what = socket.has_typed_config() ? socket.typed_config().type_url() : socket.name();
    fail(field, "unknown transport socket \"" + what + "\" (supported: envoy.transport_sockets.tls, raw_buffer)");
  }
  Context context;
  if (!socket.has_typed_config()) return context;
  const std::string& expected = Context::descriptor()->full_name();
  if (typeName(socket.typed_config()) != expected)
    fail(field + ".typed_config", "expected " + expected + ", got " + socket.typed_config().type_url());
  if (!socket.typed_config().UnpackTo(&context)) fail(field + ".typed_config", "cannot decode " + expected);
  return context;
}

// Envoy's TLS_AUTO is TLS 1.2 to 1.3. We speak only 1.2 and 1.3: a lower minimum is raised to 1.2
// (peers that can only speak older versions fail their handshake), a lower maximum is an error.
TlsVersion versionOf(tlsv3::TlsParameters::TlsProtocol p, TlsVersion automatic, bool is_minimum,
                     const std::string& field) {
  using P = tlsv3::TlsParameters;
  switch (p) {
    case P::TLS_AUTO: return automatic;
    case P::TLSv1_2: return TlsVersion::Tls12;
    case P::TLSv1_3: return TlsVersion::Tls13;
    case P::TLSv1_0:
    case P::TLSv1_1:
      if (!is_minimum) fail(field, P::TlsProtocol_Name(p) + " is not supported (TLS 1.2 and 1.3 are)");
      observe::logScope("proxy").warn("{}: {} raised to TLSv1_2, the oldest version supported", field,
                                      P::TlsProtocol_Name(p));
      return TlsVersion::Tls12;
    default: fail(field, "unknown TLS version " + std::to_string(int(p)));
  }
}

void applyTlsParams(const tlsv3::TlsParameters& params, const std::string& field, TlsSettings& s) {
  s.min_version = versionOf(params.tls_minimum_protocol_version(), TlsVersion::Tls12, true,
                            field + ".tls_minimum_protocol_version");
  s.max_version = versionOf(params.tls_maximum_protocol_version(), TlsVersion::Tls13, false,
                            field + ".tls_maximum_protocol_version");
  if (s.min_version == TlsVersion::Tls13 && s.max_version == TlsVersion::Tls12)
    fail(field, "tls_minimum_protocol_version is above tls_maximum_protocol_version");
  for (const std::string& suite : params.cipher_suites()) s.cipher_suites += (s.cipher_suites.empty() ? "" : ":") + suite;
  rejectIfSet(params.ecdh_curves_size() > 0, field + ".ecdh_curves");
}

void applyCertificate(const tlsv3::TlsCertificate& cert, const std::string& field, TlsSettings& s) {
  rejectIfSet(cert.has_watched_directory(), field + ".watched_directory");
  rejectIfSet(cert.has_password(), field + ".password");
  rejectIfSet(cert.has_ocsp_staple(), field + ".ocsp_staple");
  s.cert_chain_pem = readDataSource(cert.certificate_chain(), field + ".certificate_chain", kMaxPemBytes);
  s.private_key_pem = readDataSource(cert.private_key(), field + ".private_key", kMaxPemBytes);
}

void applyValidation(const tlsv3::CertificateValidationContext& v, const std::string& field, TlsSettings& s) {
  using V = tlsv3::CertificateValidationContext;
  rejectIfSet(v.has_watched_directory(), field + ".watched_directory");
  rejectIfSet(v.verify_certificate_spki_size() > 0, field + ".verify_certificate_spki");
  rejectIfSet(v.verify_certificate_hash_size() > 0, field + ".verify_certificate_hash");
  rejectIfSet(v.require_signed_certificate_timestamp().value(), field + ".require_signed_certificate_timestamp");
  rejectIfSet(v.has_crl(), field + ".crl");
  rejectIfSet(v.allow_expired_certificate(), field + ".allow_expired_certificate");
  rejectIfSet(v.trust_chain_verification() != V::VERIFY_TRUST_CHAIN, field + ".trust_chain_verification");
  if (v.has_trusted_ca()) s.trusted_ca_pem = readDataSource(v.trusted_ca(), field + ".trusted_ca", kMaxPemBytes);
  // A second context (the default of a combined one) adds its matchers to what the first gave.
  if (auto check = compileSanMatchers(v, field)) s.verify_peer = std::move(check);
  // As Envoy: names in a certificate nobody verified prove nothing.
  if (s.verify_peer && s.trusted_ca_pem.empty())
    fail(field, "SAN matchers need trusted_ca (matching names in an unverified certificate is insecure)");
}

// An SDS secret that has arrived, or a failure naming it.
const tlsv3::Secret& secretOrFail(const tlsv3::SdsSecretConfig& config, const SecretStore* secrets, const std::string& field) {
  if (secrets) {
    auto it = secrets->find(config.name());
    if (it != secrets->end()) return it->second;
  }
  fail(field, "SDS secret \"" + config.name() + "\" has not arrived");
}

void applyValidationSecret(const tlsv3::SdsSecretConfig& config, const SecretStore* secrets, const std::string& field,
                           TlsSettings& s) {
  const auto& secret = secretOrFail(config, secrets, field);
  if (!secret.has_validation_context()) fail(field, "SDS secret \"" + config.name() + "\" holds no validation_context");
  applyValidation(secret.validation_context(), field + " (secret " + config.name() + ")", s);
}

// Everything common to both sides; `server` selects the certificate rule.
TlsSettings compileCommon(const tlsv3::CommonTlsContext& c, const std::string& field, bool server,
                          const SecretStore* secrets) {
  TlsSettings s;
  applyTlsParams(c.tls_params(), field + ".tls_params", s);
  if (c.tls_certificates_size() + c.tls_certificate_sds_secret_configs_size() > 1)
    fail(field + ".tls_certificates", "only one certificate is supported (Envoy picks among several by SNI and key type)");
  if (c.tls_certificates_size() == 1) {
    applyCertificate(c.tls_certificates(0), field + ".tls_certificates[0]", s);
  } else if (c.tls_certificate_sds_secret_configs_size() == 1) {
    std::string where = field + ".tls_certificate_sds_secret_configs[0]";
    const auto& secret = secretOrFail(c.tls_certificate_sds_secret_configs(0), secrets, where);
    if (!secret.has_tls_certificate()) fail(where, "SDS secret \"" + secret.name() + "\" holds no tls_certificate");
    applyCertificate(secret.tls_certificate(), where + " (secret " + secret.name() + ")", s);
  } else if (server) {
    fail(field + ".tls_certificates", "a TLS listener needs a certificate");
  }
  using C = tlsv3::CommonTlsContext;
  switch (c.validation_context_type_case()) {
    case C::kValidationContext: applyValidation(c.validation_context(), field + ".validation_context", s); break;
    case C::kValidationContextSdsSecretConfig:
      applyValidationSecret(c.validation_context_sds_secret_config(), secrets, field + ".validation_context_sds_secret_config", s);
      break;
    case C::kCombinedValidationContext: {
      // Istio's shape: the SDS secret brings the roots, the default context the SAN matchers.
      std::string combined = field + ".combined_validation_context";
      const auto& cv = c.combined_validation_context();
      if (cv.has_validation_context_sds_secret_config())
        applyValidationSecret(cv.validation_context_sds_secret_config(), secrets,
                              combined + ".validation_context_sds_secret_config", s);
      applyValidation(cv.default_validation_context(), combined + ".default_validation_context", s);
      break;
    }
    default: break;
  }
  s.alpn.assign(c.alpn_protocols().begin(), c.alpn_protocols().end());
  return s;
}

// net's errors name its own settings ("sni: ...", "cipher_suites: ...", "private key does not match
// certificate"), which read well after the TLS context's path.
std::shared_ptr<const net::tls::TlsContext> contextOrFail(net::tls::TlsContextResult result, const std::string& field) {
  if (!result.context) fail(field, result.error);
  return std::move(result.context);
}

}  // namespace

// A known typed_config type decides over the name, as Envoy picks the factory by type URL; with an
// unknown type a TLS name still counts as TLS, so the compile functions report the type.
bool isTlsTransportSocket(const core::TransportSocket& socket) {
  if (socket.has_typed_config()) {
    std::string_view type = typeName(socket.typed_config());
    if (isTlsContextType(type)) return true;
    if (isRawBufferType(type)) return false;
  }
  return socket.name() == "envoy.transport_sockets.tls" || socket.name() == "tls";
}

bool isPlaintextTransportSocket(const core::TransportSocket& socket) {
  if (socket.has_typed_config()) return isRawBufferType(typeName(socket.typed_config()));
  return socket.name() == "envoy.transport_sockets.raw_buffer" || socket.name() == "raw_buffer";
}

DownstreamTls compileDownstreamTls(const core::TransportSocket& socket, const std::string& field, const SecretStore* secrets) {
  auto tls = unpackContext<tlsv3::DownstreamTlsContext>(socket, field);
  std::string path = field + (socket.has_typed_config() ? ".typed_config" : "");
  rejectIfSet(tls.has_session_ticket_keys(), path + ".session_ticket_keys");
  if (tls.has_session_ticket_keys_sds_secret_config()) failSds(path + ".session_ticket_keys_sds_secret_config");
  rejectIfSet(tls.disable_stateless_session_resumption(), path + ".disable_stateless_session_resumption");
  rejectIfSet(tls.has_session_timeout(), path + ".session_timeout");
  TlsSettings s = compileCommon(tls.common_tls_context(), path + ".common_tls_context", true, secrets);
  s.require_client_certificate = tls.require_client_certificate().value();
  if (s.require_client_certificate && s.trusted_ca_pem.empty())
    fail(path + ".require_client_certificate", "needs common_tls_context.validation_context.trusted_ca");
  DownstreamTls out;
  out.context = contextOrFail(net::tls::makeServerContext(s), path);
  out.require_sni = tls.require_sni().value();
  out.require_client_certificate = s.require_client_certificate;
  out.alpn = std::move(s.alpn);
  return out;
}

UpstreamTls compileUpstreamTls(const core::TransportSocket& socket, const std::string& field, const SecretStore* secrets) {
  auto tls = unpackContext<tlsv3::UpstreamTlsContext>(socket, field);
  std::string path = field + (socket.has_typed_config() ? ".typed_config" : "");
  rejectIfSet(tls.allow_renegotiation(), path + ".allow_renegotiation");
  // max_session_keys needs nothing: client contexts keep no sessions, which is within any limit.
  TlsSettings s = compileCommon(tls.common_tls_context(), path + ".common_tls_context", false, secrets);
  s.sni = tls.sni();
  UpstreamTls out;
  out.context = contextOrFail(net::tls::makeClientContext(s), path);
  out.sni = tls.sni();
  return out;
}

namespace {

// The CommonTlsContext of a TLS socket's typed_config, if it has one.
std::optional<tlsv3::CommonTlsContext> commonContextOf(const core::TransportSocket& socket) {
  const auto& any = socket.typed_config();
  if (tlsv3::DownstreamTlsContext d; any.type_url().ends_with("DownstreamTlsContext") && any.UnpackTo(&d))
    return d.common_tls_context();
  if (tlsv3::UpstreamTlsContext u; any.type_url().ends_with("UpstreamTlsContext") && any.UnpackTo(&u))
    return u.common_tls_context();
  return std::nullopt;
}

}  // namespace

std::vector<std::string> tlsFilesOf(const envoy::config::core::v3::TransportSocket& socket) {
  std::vector<std::string> files;
  auto found = commonContextOf(socket);
  if (!found) return files;
  const auto& common = *found;
  auto add = [&files](const envoy::config::core::v3::DataSource& source) {
    if (source.has_filename()) files.push_back(source.filename());
  };
  for (const auto& c : common.tls_certificates()) {
    add(c.certificate_chain());
    add(c.private_key());
  }
  if (common.has_validation_context()) add(common.validation_context().trusted_ca());
  if (common.has_combined_validation_context()) add(common.combined_validation_context().default_validation_context().trusted_ca());
  return files;
}

std::vector<SdsReference> sdsReferencesOf(const core::TransportSocket& socket) {
  std::vector<SdsReference> out;
  auto found = commonContextOf(socket);
  if (!found) return out;
  const auto& common = *found;
  for (const auto& c : common.tls_certificate_sds_secret_configs()) out.push_back({c.name(), c.sds_config()});
  if (common.has_validation_context_sds_secret_config())
    out.push_back({common.validation_context_sds_secret_config().name(), common.validation_context_sds_secret_config().sds_config()});
  if (common.combined_validation_context().has_validation_context_sds_secret_config()) {
    const auto& c = common.combined_validation_context().validation_context_sds_secret_config();
    out.push_back({c.name(), c.sds_config()});
  }
  return out;
}

}  // namespace monomesh::proxy
