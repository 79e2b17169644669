// Envoy's TLS transport socket configuration (Downstream/UpstreamTlsContext) compiled into
// net::tls contexts, once per config load, for listeners' filter chains and clusters.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "net/tls/tls_context.h"

namespace monomesh::proxy {

// SDS secrets by name, as they last arrived (Secret.tls_certificate / validation_context).
using SecretStore = std::map<std::string, envoy::extensions::transport_sockets::tls::v3::Secret>;

struct DownstreamTls {
  std::shared_ptr<const net::tls::TlsContext> context;  // a server context
  bool require_sni = false;  // close connections whose ClientHello names no server
  // Without it, clients that send no certificate are admitted (as in Envoy); SAN matchers then
  // apply only to clients that do send one.
  bool require_client_certificate = false;
  std::vector<std::string> alpn;  // server preference order; empty: ALPN is not negotiated
};

struct UpstreamTls {
  std::shared_ptr<const net::tls::TlsContext> context;  // a client context
  std::string sni;  // empty: no SNI is sent
};

// True for the TLS transport socket: typed_config holding a tls.v3 Downstream/UpstreamTlsContext,
// or the name "envoy.transport_sockets.tls" (v2's "tls") unless typed_config is raw_buffer's.
// Istio 1.1's configs reach us translated to v3, so the v2 names need no v2 protos.
bool isTlsTransportSocket(const envoy::config::core::v3::TransportSocket& socket);

// True for plaintext: raw_buffer's typed_config or, without typed_config, the name
// "envoy.transport_sockets.raw_buffer" (v2's "raw_buffer"). A socket that is neither is unknown;
// the compile functions reject it, so a caller compiles every socket that is not plaintext and
// lets them name the problem.
bool isPlaintextTransportSocket(const envoy::config::core::v3::TransportSocket& socket);

// `field` is the config path of the transport socket, used in error messages, e.g.
// "filter_chains[1].transport_socket". Both throw std::invalid_argument("<field>.<subfield>:
// <problem>") on anything invalid or unsupported (files are read here; their paths are named).
// Relative file names are relative to the working directory, as in Envoy.
// `secrets`: the SDS secrets known now; a context naming one that has not arrived is an error.
DownstreamTls compileDownstreamTls(const envoy::config::core::v3::TransportSocket& socket, const std::string& field,
                                   const SecretStore* secrets = nullptr);
UpstreamTls compileUpstreamTls(const envoy::config::core::v3::TransportSocket& socket, const std::string& field,
                               const SecretStore* secrets = nullptr);

// The SDS secrets a TLS transport socket names, with where to fetch them.
struct SdsReference {
  std::string name;
  envoy::config::core::v3::ConfigSource source;
};
std::vector<SdsReference> sdsReferencesOf(const envoy::config::core::v3::TransportSocket& socket);

// The files a TLS transport socket reads (certificate chains, keys, trusted CAs), for reloading
// when they change; empty for plaintext or inline material.
std::vector<std::string> tlsFilesOf(const envoy::config::core::v3::TransportSocket& socket);

}  // namespace monomesh::proxy
