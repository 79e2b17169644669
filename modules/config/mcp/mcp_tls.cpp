#include "config/mcp/mcp_tls.h"

#include <openssl/x509v3.h>

#include "config/loader.h"
#include "net/tls_transport.h"
#include "observe/log.h"

namespace monomesh::config::mcp {

namespace asio = boost::asio;
using istio::networking::v1alpha3::TLSSettings;

namespace {

bool isIpAddress(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::optional<std::string> readPem(const std::string& path, const char* field, std::string& out) {
  std::string error;
  auto text = readConfigFile(path, 1u << 20, error);
  if (!text) return std::string(field) + " " + path + ": " + error;
  out = std::move(*text);
  return std::nullopt;
}

}  // namespace

std::optional<McpTls> mcpTlsFrom(const TLSSettings& settings, const std::string& host, const std::string& certs_dir,
                                 std::string& error) {
  if (settings.mode() == TLSSettings::DISABLE) return std::nullopt;
  McpTls out;
  out.mode = TLSSettings::TLSmode_Name(settings.mode());
  auto fail = [&](const std::string& field, const std::string& rule) {
    error = "tlsSettings." + field + ": " + rule;
    return std::nullopt;
  };
  switch (settings.mode()) {
    case TLSSettings::SIMPLE:
      if (!settings.client_certificate().empty() || !settings.private_key().empty())
        return fail(settings.client_certificate().empty() ? "privateKey" : "clientCertificate",
                    "a client certificate is only sent with MUTUAL");
      out.ca_file = settings.ca_certificates();
      break;
    case TLSSettings::MUTUAL:
      if (settings.client_certificate().empty()) return fail("clientCertificate", "required with MUTUAL");
      if (settings.private_key().empty()) return fail("privateKey", "required with MUTUAL");
      if (settings.ca_certificates().empty())
        return fail("caCertificates", "required with MUTUAL (the CA that signed Galley's certificate)");
      out.cert_file = settings.client_certificate();
      out.key_file = settings.private_key();
      out.ca_file = settings.ca_certificates();
      break;
    case TLSSettings::ISTIO_MUTUAL:
      for (auto [field, value] : {std::pair{"clientCertificate", &settings.client_certificate()},
                                  {"privateKey", &settings.private_key()}, {"caCertificates", &settings.ca_certificates()}})
        if (!value->empty())
          return fail(field, "must be empty with ISTIO_MUTUAL (the workload certificates in " + certs_dir + " are used)");
      out.cert_file = certs_dir + "/cert-chain.pem";
      out.key_file = certs_dir + "/key.pem";
      out.ca_file = certs_dir + "/root-cert.pem";
      break;
    default:
      return fail("mode", "unknown mode " + std::to_string(int(settings.mode())));
  }
  out.subject_alt_names.assign(settings.subject_alt_names().begin(), settings.subject_alt_names().end());
  out.sni = !settings.sni().empty() ? settings.sni() : isIpAddress(host) ? std::string() : host;
  if (out.subject_alt_names.empty()) out.verify_name = settings.sni().empty() ? host : settings.sni();
  return out;
}

net::tls::TlsContextResult makeMcpClientContext(const McpTls& tls) {
  net::tls::TlsSettings settings;
  settings.alpn = {"h2"};
  settings.sni = tls.sni;
  if (!tls.cert_file.empty()) {
    if (auto e = readPem(tls.cert_file, "client certificate", settings.cert_chain_pem)) return {nullptr, *e};
    if (auto e = readPem(tls.key_file, "private key", settings.private_key_pem)) return {nullptr, *e};
  }
  if (!tls.ca_file.empty())
    if (auto e = readPem(tls.ca_file, "CA certificates", settings.trusted_ca_pem)) return {nullptr, *e};
  if (!tls.subject_alt_names.empty()) {
    settings.verify_peer = [sans = tls.subject_alt_names](const net::tls::PeerIdentity& peer) {
      for (const auto& want : sans) {
        for (const auto& uri : peer.uri_sans)
          if (uri == want) return true;
        for (const auto& dns : peer.dns_sans)
          if (dns == want) return true;
      }
      return false;
    };
  }
  auto made = net::tls::makeClientContext(settings);
  if (!made.context) {
    made.error = "TLS settings: " + made.error;
    return made;
  }
  if (!tls.ca_file.empty() && !tls.verify_name.empty()) {
    // Every connection inherits the context's parameters: the chain check then covers the name.
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(made.context->native());
    const std::string& name = tls.verify_name;
    int ok = isIpAddress(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) return {nullptr, "cannot check Galley's certificate for \"" + name + "\""};
  }
  return made;
}

asio::awaitable<std::unique_ptr<net::Transport>> secureMcpConnection(asio::ip::tcp::socket socket,
                                                                    std::shared_ptr<const McpTls> tls,
                                                                    std::string source) {
  auto made = makeMcpClientContext(*tls);
  if (!made.context) {
    observe::logScope("mcp").error("config source {}: cannot secure the connection ({}): {}", source, tls->mode,
                                   made.error);
    co_return nullptr;
  }
  auto done = co_await net::tlsConnect(std::move(socket), std::move(made.context), std::chrono::seconds(10));
  if (!done.transport)
    observe::logScope("mcp").error("config source {}: {} ({}{})", source, done.error, tls->mode,
                                   tls->verify_name.empty() ? std::string() : ", expecting " + tls->verify_name);
  co_return std::move(done.transport);
}

}  // namespace monomesh::config::mcp
