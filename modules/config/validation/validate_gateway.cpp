// Gateway: name, servers (hosts, port, bind, TLS placement and settings), unique port names.
#include <set>

#include "config/resource.h"
#include "config/validation/addresses.h"
#include "config/validation/hosts.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"
#include "istio/networking/v1alpha3/gateway.pb.h"

namespace monomesh::config::validation {

namespace net = istio::networking::v1alpha3;

namespace {

// Returns whether the port is usable for the TLS placement checks.
bool checkServerPort(const net::Server& server, const FieldPath& at, Findings& findings) {
  if (!server.has_port()) {
    findings.error(at, "a server needs a port");
    return false;
  }
  const auto& port = server.port();
  size_t before = findings.errorCount();
  findings.check(at / "protocol", protocolError(port.protocol()));
  if (port.number() > 0) findings.check(at / "number", portError(port.number()));
  if (port.name().empty()) findings.error(at / "name", "a server port needs a name");
  return findings.errorCount() == before;
}

void checkBind(const std::string& bind, const FieldPath& at, Findings& findings) {
  if (bind.empty()) return;
  if (bind.starts_with("unix://")) {
    findings.check(at, unixPathError(std::string_view(bind).substr(7)));
  } else if (!isIP(bind)) {
    findings.error(at, "bind " + quoted(bind) + " is neither an IP address nor unix:///path");
  }
}

void checkTlsOptions(const net::Server::TLSOptions& tls, const FieldPath& at, Findings& findings) {
  using Tls = net::Server::TLSOptions;
  if (tls.mode() != Tls::SIMPLE && tls.mode() != Tls::MUTUAL) return;
  // With credentialName the gateway fetches key, certificate and CA from a secret over SDS.
  if (!tls.credential_name().empty()) return;
  const std::string mode = tls.mode() == Tls::SIMPLE ? "SIMPLE" : "MUTUAL";
  if (tls.server_certificate().empty())
    findings.error(at / "serverCertificate", mode + " TLS needs serverCertificate (or credentialName)");
  if (tls.private_key().empty()) findings.error(at / "privateKey", mode + " TLS needs privateKey (or credentialName)");
  if (tls.mode() == Tls::MUTUAL && tls.ca_certificates().empty())
    findings.error(at / "caCertificates", "MUTUAL TLS needs caCertificates (or credentialName)");
}

void checkTlsPlacement(const net::Server& server, const FieldPath& at, Findings& findings) {
  using Tls = net::Server::TLSOptions;
  Protocol protocol = parseProtocol(server.port().protocol());
  if (isTlsProtocol(protocol)) {
    if (!server.has_tls()) findings.error(at / "tls", "an HTTPS or TLS server needs tls settings");
    return;
  }
  if (!server.has_tls()) return;
  const auto& tls = server.tls();
  if (!isHttpProtocol(protocol)) {
    findings.error(at / "tls", "a " + server.port().protocol() + " server cannot have tls settings (only HTTPS and TLS ports can)");
  } else if (tls.mode() != Tls::PASSTHROUGH || !tls.ca_certificates().empty() || !tls.private_key().empty() ||
             !tls.server_certificate().empty()) {
    findings.error(at / "tls", "a plain-text HTTP server may only carry httpsRedirect in tls");
  }
}

void checkServer(const net::Server& server, const FieldPath& at, Findings& findings) {
  const FieldPath hosts = at / "hosts";
  if (server.hosts().empty()) findings.error(hosts, "a server needs at least one host");
  for (int i = 0; i < server.hosts_size(); ++i)
    findings.check(hosts[size_t(i)], namespacedHostError(server.hosts(i), HostScope::Gateway));
  bool port_ok = checkServerPort(server, at / "port", findings);
  checkBind(server.bind(), at / "bind", findings);
  if (server.has_tls()) checkTlsOptions(server.tls(), at / "tls", findings);
  if (port_ok) checkTlsPlacement(server, at, findings);
}

}  // namespace

void validateGateway(const Resource& resource, Findings& findings) {
  const auto& gateway = resource.as<net::Gateway>();
  // VirtualServices refer to gateways as namespace/name, both DNS labels.
  if (!isDns1123Label(resource.meta.name))
    findings.error(FieldPath("metadata.name"),
                   "gateway name " + quoted(resource.meta.name) + " is not a DNS-1123 label (no dots)");
  const FieldPath spec("spec");
  const FieldPath servers = spec / "servers";
  if (gateway.servers().empty()) findings.error(servers, "a gateway needs at least one server");
  std::set<std::string_view> port_names;
  for (int i = 0; i < gateway.servers_size(); ++i) {
    const auto& server = gateway.servers(i);
    const FieldPath item = servers[size_t(i)];
    checkServer(server, item, findings);
    if (server.has_port() && !server.port().name().empty() && !port_names.insert(server.port().name()).second)
      findings.error(item / "port.name",
                     "port name " + quoted(server.port().name()) + " is used by another server; port names must be unique");
  }
}

}  // namespace monomesh::config::validation
