// ServiceEntry: hosts, addresses, ports, endpoints by resolution, multiple hosts, exportTo.
#include <set>

#include "config/resource.h"
#include "config/validation/addresses.h"
#include "config/validation/common_checks.h"
#include "config/validation/hosts.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"

namespace monomesh::config::validation {

namespace net = istio::networking::v1alpha3;

namespace {

constexpr std::string_view kUnixPrefix = "unix://";

void checkEndpointPorts(const net::ServiceEntry::Endpoint& endpoint, const std::set<std::string_view>& declared,
                        const FieldPath& at, Findings& findings) {
  for (const auto& [name, number] : endpoint.ports()) {
    if (!declared.count(name))
      findings.error(at.key(name), "endpoint port " + quoted(name) + " is not one of the service entry's ports");
    findings.check(at.key(name), portNameError(name));
    findings.check(at.key(name), portError(number));
  }
}

void checkStaticEndpoints(const net::ServiceEntry& entry, const std::set<std::string_view>& declared,
                          const FieldPath& at, Findings& findings) {
  if (entry.endpoints().empty()) findings.error(at, "resolution STATIC needs at least one endpoint");
  bool unix_endpoint = false;
  for (int i = 0; i < entry.endpoints_size(); ++i) {
    const auto& endpoint = entry.endpoints(i);
    const FieldPath item = at[size_t(i)];
    std::string_view address = endpoint.address();
    if (address.starts_with(kUnixPrefix)) {
      unix_endpoint = true;
      findings.check(item / "address", unixPathError(address.substr(kUnixPrefix.size())));
      if (!endpoint.ports().empty())
        findings.error(item / "ports", "a unix socket endpoint cannot have ports");
    } else {
      if (auto e = ipv4AddressError(address); !e.empty())
        findings.error(item / "address", e + " (resolution STATIC needs IP addresses or unix:///path)");
      checkEndpointPorts(endpoint, declared, item / "ports", findings);
    }
    checkLabels(endpoint.labels(), item / "labels", findings);
  }
  if (unix_endpoint && entry.ports_size() != 1)
    findings.error(FieldPath("spec.ports"), "a service entry with unix socket endpoints needs exactly one port");
}

void checkDnsEndpoints(const net::ServiceEntry& entry, const std::set<std::string_view>& declared,
                       const FieldPath& spec, Findings& findings) {
  const FieldPath hosts = spec / "hosts";
  if (entry.endpoints().empty()) {
    for (int i = 0; i < entry.hosts_size(); ++i)
      if (!fqdnError(entry.hosts(i)).empty())
        findings.error(hosts[size_t(i)],
                       "host " + quoted(entry.hosts(i)) +
                           " must be a fully qualified name when resolution is DNS and there are no endpoints");
  }
  const FieldPath endpoints = spec / "endpoints";
  for (int i = 0; i < entry.endpoints_size(); ++i) {
    const auto& endpoint = entry.endpoints(i);
    const FieldPath item = endpoints[size_t(i)];
    if (!isIP(endpoint.address())) findings.check(item / "address", fqdnError(endpoint.address()));
    checkLabels(endpoint.labels(), item / "labels", findings);
    checkEndpointPorts(endpoint, declared, item / "ports", findings);
  }
}

void checkHostsAndAddresses(const net::ServiceEntry& entry, const FieldPath& spec, Findings& findings) {
  const FieldPath hosts = spec / "hosts";
  if (entry.hosts().empty()) findings.error(hosts, "a service entry needs at least one host");
  for (int i = 0; i < entry.hosts_size(); ++i) {
    if (entry.hosts(i) == "*") {
      findings.error(hosts[size_t(i)], "the host \"*\" is not allowed in a service entry");
    } else {
      findings.check(hosts[size_t(i)], wildcardDomainError(entry.hosts(i)));
    }
  }
  const FieldPath addresses = spec / "addresses";
  bool cidr = false;
  for (int i = 0; i < entry.addresses_size(); ++i) {
    cidr = cidr || entry.addresses(i).find('/') != std::string::npos;
    findings.check(addresses[size_t(i)], ipv4SubnetError(entry.addresses(i)));
  }
  if (cidr && entry.resolution() == net::ServiceEntry::DNS)
    findings.error(addresses, "CIDR blocks are allowed only with resolution NONE or STATIC");
}

}  // namespace

void validateServiceEntry(const Resource& resource, Findings& findings) {
  const auto& entry = resource.as<net::ServiceEntry>();
  const FieldPath spec("spec");
  checkHostsAndAddresses(entry, spec, findings);

  const FieldPath ports = spec / "ports";
  std::set<std::string_view> names;
  std::set<uint32_t> numbers;
  for (int i = 0; i < entry.ports_size(); ++i) {
    const auto& port = entry.ports(i);
    const FieldPath item = ports[size_t(i)];
    findings.check(item / "name", portNameError(port.name()));
    findings.check(item / "protocol", protocolError(port.protocol()));
    findings.check(item / "number", portError(port.number()));
    if (!port.name().empty() && !names.insert(port.name()).second)
      findings.error(item / "name", "port name " + quoted(port.name()) + " is defined twice");
    if (!numbers.insert(port.number()).second)
      findings.error(item / "number", "port " + std::to_string(port.number()) + " is defined twice");
  }

  switch (entry.resolution()) {
    case net::ServiceEntry::NONE:
      if (!entry.endpoints().empty())
        findings.error(spec / "endpoints", "resolution NONE takes no endpoints (traffic goes to the original destination)");
      break;
    case net::ServiceEntry::STATIC: checkStaticEndpoints(entry, names, spec / "endpoints", findings); break;
    case net::ServiceEntry::DNS: checkDnsEndpoints(entry, names, spec, findings); break;
    default: findings.error(spec / "resolution", "unsupported resolution"); break;
  }

  // Several hosts share the entry's ports; only HTTP (Host header) and TLS (SNI) tell them apart.
  if (entry.resolution() != net::ServiceEntry::NONE && entry.hosts_size() > 1) {
    for (const auto& port : entry.ports()) {
      Protocol p = parseProtocol(port.protocol());
      if (!isHttpProtocol(p) && !isTlsProtocol(p)) {
        findings.error(spec / "hosts", "several hosts need HTTP or TLS ports to be told apart; port " +
                                           std::to_string(port.number()) + " is " + port.protocol());
        break;
      }
    }
  }
  checkExportTo(entry.export_to(), spec / "exportTo", findings);
}

}  // namespace monomesh::config::validation
