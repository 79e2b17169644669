// TLS from Pilot to Galley: mesh config configSources[].tlsSettings (Istio 1.1 ConfigSource
// .tls_settings, a networking.v1alpha3.TLSSettings), as 1.1's Pilot read it for its MCP client:
//   DISABLE       plaintext
//   SIMPLE        TLS; Galley's certificate is verified against caCertificates when given
//                 (1.1 skipped verification in this mode; without caCertificates Monomesh does too)
//   MUTUAL        clientCertificate, privateKey and caCertificates (all three required)
//   ISTIO_MUTUAL  the workload certificates in Istio's /etc/certs layout (cert-chain.pem, key.pem,
//                 root-cert.pem); the three file fields must then be empty
// Galley's identity: with subjectAltNames, one of them must be a URI or DNS SAN of its
// certificate; otherwise, as gRPC's TLS credentials do, its certificate must be valid for `sni`,
// or else for the host of the address (a DNS name or an IP address). `sni` (else a host name) is
// sent in the ClientHello.
//
// The files are read again for every connection, so a rotated certificate is used at the next
// connect without a watcher; a connection that cannot be secured is logged with the reason and
// retried with the channel's backoff.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "net/tls/tls_context.h"
#include "net/transport.h"

namespace monomesh::config::mcp {

struct McpTls {
  std::string mode;  // SIMPLE, MUTUAL, ISTIO_MUTUAL
  std::string cert_file, key_file, ca_file;  // "" when not used
  std::string sni;                           // sent in the ClientHello; "" for none
  std::string verify_name;                   // host name or IP the certificate must be valid for
  std::vector<std::string> subject_alt_names;
};

// nullopt for DISABLE; `error` set ("tlsSettings.clientCertificate: required with MUTUAL") when
// the settings cannot work. `host` is the address's host; `certs_dir` is where ISTIO_MUTUAL reads.
std::optional<McpTls> mcpTlsFrom(const istio::networking::v1alpha3::TLSSettings& settings, const std::string& host,
                                 const std::string& certs_dir, std::string& error);

// Reads the files and builds the client context; the error names the file or the rule.
net::tls::TlsContextResult makeMcpClientContext(const McpTls& tls);

// The channel's `secure` step for one connection to `source` (named, as GCC 12 wants coroutines
// spawned from lambdas to be).
boost::asio::awaitable<std::unique_ptr<net::Transport>> secureMcpConnection(boost::asio::ip::tcp::socket socket,
                                                                           std::shared_ptr<const McpTls> tls,
                                                                           std::string source);

}  // namespace monomesh::config::mcp
