// VirtualService: hosts, gateways, TLS and TCP routes, destinations and exportTo
// (HTTP routes are in validate_http_route.cpp).
#include "config/resource.h"
#include "config/validation/addresses.h"
#include "config/validation/hosts.h"
#include "config/validation/route_checks.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"

namespace monomesh::config::validation {

namespace net = istio::networking::v1alpha3;

namespace {

// Conditions TLS and TCP matches share.
template <class Match>
void checkL4Match(const Match& match, const FieldPath& at, Findings& findings) {
  const FieldPath subnets = at / "destinationSubnets";
  for (int i = 0; i < match.destination_subnets_size(); ++i)
    findings.check(subnets[size_t(i)], ipv4SubnetError(match.destination_subnets(i)));
  if (!match.source_subnet().empty()) findings.check(at / "sourceSubnet", ipv4SubnetError(match.source_subnet()));
  if (match.port() != 0) findings.check(at / "port", portError(match.port()));
  checkLabels(match.source_labels(), at / "sourceLabels", findings);
  checkGatewayNames(match.gateways(), at / "gateways", findings);
}

std::string hostList(const net::VirtualService& vs) {
  std::string out;
  for (const auto& h : vs.hosts()) out += (out.empty() ? "" : ", ") + h;
  return out;
}

void checkSniHost(const std::string& sni, const net::VirtualService& vs, const FieldPath& at, Findings& findings) {
  if (auto e = wildcardDomainError(sni); !e.empty() && !isIP(sni)) {
    findings.error(at, e);
    return;
  }
  for (const auto& host : vs.hosts())
    if (hostIsSubsetOf(sni, host)) return;
  findings.error(at, "SNI host " + quoted(sni) + " is not covered by any of the virtual service's hosts (" + hostList(vs) + ")");
}

void checkTlsRoute(const net::TLSRoute& route, const net::VirtualService& vs, const FieldPath& at, Findings& findings) {
  const FieldPath matches = at / "match";
  if (route.match().empty()) findings.error(matches, "a TLS route needs at least one match");
  for (int i = 0; i < route.match_size(); ++i) {
    const auto& match = route.match(i);
    const FieldPath m = matches[size_t(i)];
    if (match.sni_hosts().empty()) findings.error(m / "sniHosts", "a TLS match needs at least one SNI host");
    const FieldPath sni_hosts = m / "sniHosts";
    for (int j = 0; j < match.sni_hosts_size(); ++j) checkSniHost(match.sni_hosts(j), vs, sni_hosts[size_t(j)], findings);
    checkL4Match(match, m, findings);
  }
  // Istio 1.1 let a TLS or TCP route without destinations through (Pilot then built a route to
  // nowhere); later releases reject it, and so does this.
  if (route.route().empty()) findings.error(at / "route", "a TLS route needs at least one destination");
  checkRouteDestinations(route.route(), at / "route", findings);
}

void checkTcpRoute(const net::TCPRoute& route, const FieldPath& at, Findings& findings) {
  const FieldPath matches = at / "match";
  for (int i = 0; i < route.match_size(); ++i) checkL4Match(route.match(i), matches[size_t(i)], findings);
  if (route.route().empty()) findings.error(at / "route", "a TCP route needs at least one destination");
  checkRouteDestinations(route.route(), at / "route", findings);
}

void checkHosts(const net::VirtualService& vs, const FieldPath& at, Findings& findings) {
  bool applies_to_mesh = vs.gateways().empty();
  for (const auto& g : vs.gateways()) applies_to_mesh = applies_to_mesh || g == "mesh";
  if (vs.hosts().empty()) findings.error(at, "a virtual service needs at least one host");
  bool all_valid = true;
  for (int i = 0; i < vs.hosts_size(); ++i) {
    const std::string& host = vs.hosts(i);
    if (auto e = wildcardDomainError(host); !e.empty()) {
      if (!isIP(host)) {
        findings.error(at[size_t(i)], e);
        all_valid = false;
      }
    } else if (applies_to_mesh && host == "*") {
      findings.error(at[size_t(i)], "the host \"*\" is not allowed in a virtual service that applies to the mesh "
                                    "(no gateways, or \"mesh\" among them)");
      all_valid = false;
    }
  }
  if (!all_valid) return;
  for (int i = 0; i < vs.hosts_size(); ++i)
    for (int j = i + 1; j < vs.hosts_size(); ++j)
      if (hostsOverlap(vs.hosts(i), vs.hosts(j)))
        findings.error(at[size_t(j)], "hosts " + quoted(vs.hosts(i)) + " and " + quoted(vs.hosts(j)) +
                                          " overlap (a host may appear only once in a virtual service)");
}

}  // namespace

void checkDestination(const net::Destination& destination, const FieldPath& at, Findings& findings) {
  const std::string& host = destination.host();
  if (host == "*") {
    findings.error(at / "host", "the destination host cannot be \"*\"");
  } else {
    findings.check(at / "host", wildcardDomainError(host));
  }
  if (!destination.subset().empty() && !isDns1123Label(destination.subset()))
    findings.error(at / "subset", "subset name " + quoted(destination.subset()) + " is not a DNS-1123 label");
  if (destination.has_port()) checkPortSelector(destination.port(), at / "port", findings);
}

void checkPortSelector(const net::PortSelector& port, const FieldPath& at, Findings& findings) {
  switch (port.port_case()) {
    case net::PortSelector::kNumber: findings.check(at / "number", portError(port.number())); break;
    case net::PortSelector::kName: findings.check(at / "name", portNameError(port.name())); break;
    case net::PortSelector::PORT_NOT_SET: findings.error(at, "a port selector needs a number or a name"); break;
  }
}

void checkGatewayNames(const google::protobuf::RepeatedPtrField<std::string>& gateways, const FieldPath& at,
                       Findings& findings) {
  for (int i = 0; i < gateways.size(); ++i) {
    std::string_view name = gateways[i];
    size_t slash = name.find('/');
    if (slash == std::string_view::npos) {
      if (auto e = fqdnError(name); !e.empty()) findings.error(at[size_t(i)], "gateway " + quoted(name) + ": " + e);
      continue;
    }
    std::string_view ns = name.substr(0, slash), gw = name.substr(slash + 1);
    if (ns.empty() || gw.empty()) {
      findings.error(at[size_t(i)], "gateway " + quoted(name) + ": the namespace and the name cannot be empty");
      continue;
    }
    if (!isDns1123Label(ns))
      findings.error(at[size_t(i)], "gateway " + quoted(name) + ": namespace " + quoted(ns) + " is not a DNS-1123 label");
    if (!isDns1123Label(gw))
      findings.error(at[size_t(i)], "gateway " + quoted(name) + ": name " + quoted(gw) + " is not a DNS-1123 label");
  }
}

void validateVirtualService(const Resource& resource, Findings& findings) {
  const auto& vs = resource.as<net::VirtualService>();
  const FieldPath spec("spec");
  checkGatewayNames(vs.gateways(), spec / "gateways", findings);
  checkHosts(vs, spec / "hosts", findings);
  if (vs.http().empty() && vs.tcp().empty() && vs.tls().empty())
    findings.error(spec, "a virtual service needs http, tcp or tls routes");
  const FieldPath http = spec / "http", tls = spec / "tls", tcp = spec / "tcp";
  for (int i = 0; i < vs.http_size(); ++i) checkHttpRoute(vs.http(i), http[size_t(i)], findings);
  for (int i = 0; i < vs.tls_size(); ++i) checkTlsRoute(vs.tls(i), vs, tls[size_t(i)], findings);
  for (int i = 0; i < vs.tcp_size(); ++i) checkTcpRoute(vs.tcp(i), tcp[size_t(i)], findings);
  checkExportTo(vs.export_to(), spec / "exportTo", findings);
}

}  // namespace monomesh::config::validation
