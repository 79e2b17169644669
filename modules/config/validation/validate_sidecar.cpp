// Sidecar: workload selector, ingress listeners (port, bind, capture mode, default endpoint),
// egress listeners (catch-all placement, unique ports and sockets, namespace/host entries).
#include <charconv>
#include <set>

#include "config/resource.h"
#include "config/validation/addresses.h"
#include "config/validation/hosts.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"
#include "istio/networking/v1alpha3/sidecar.pb.h"

namespace monomesh::config::validation {

namespace net = istio::networking::v1alpha3;

namespace {

constexpr std::string_view kUnixPrefix = "unix://";

// Listeners on a port must differ by port; unix socket listeners (port 0) by path.
struct ListenerKeys {
  std::set<uint32_t> ports;
  std::set<std::string_view> sockets;

  void claim(const net::Port& port, std::string_view bind, const FieldPath& at, Findings& findings) {
    if (port.number() == 0) {
      if (!sockets.insert(bind).second)
        findings.error(at / "bind", "unix socket " + quoted(bind) + " is used by another listener");
    } else if (!ports.insert(port.number()).second) {
      findings.error(at / "port.number", "port " + std::to_string(port.number()) + " is used by another listener");
    }
  }
};

void checkPortBindCapture(const net::Port& port, std::string_view bind, net::CaptureMode capture, const FieldPath& at,
                          Findings& findings) {
  const FieldPath p = at / "port";
  if (!port.name().empty()) findings.check(p / "name", portNameError(port.name()));
  findings.check(p / "protocol", protocolError(port.protocol()));
  if (port.number() == 0) {
    // Port 0 means a unix domain socket listener.
    if (!bind.starts_with(kUnixPrefix)) {
      findings.error(at / "bind", "a listener with port 0 needs a unix:///path bind address");
    } else {
      findings.check(at / "bind", unixPathError(bind.substr(kUnixPrefix.size())));
    }
    if (capture != net::DEFAULT && capture != net::NONE)
      findings.error(at / "captureMode", "a unix socket listener's captureMode must be DEFAULT or NONE");
    return;
  }
  findings.check(p / "number", portError(port.number()));
  if (!bind.empty()) findings.check(at / "bind", ipv4AddressError(bind));
}

void checkDefaultEndpoint(std::string_view endpoint, const FieldPath& at, Findings& findings) {
  if (endpoint.empty()) {
    findings.error(at, "an ingress listener needs a defaultEndpoint (127.0.0.1:PORT or unix:///path)");
    return;
  }
  if (endpoint.starts_with(kUnixPrefix)) {
    findings.check(at, unixPathError(endpoint.substr(kUnixPrefix.size())));
    return;
  }
  size_t colon = endpoint.find(':');
  std::string_view host = endpoint.substr(0, colon == std::string_view::npos ? 0 : colon);
  if (colon == std::string_view::npos || (!host.empty() && host != "127.0.0.1")) {
    findings.error(at, "defaultEndpoint " + quoted(endpoint) + " must be 127.0.0.1:PORT, :PORT or unix:///path");
    return;
  }
  std::string_view text = endpoint.substr(colon + 1);
  int64_t port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    findings.error(at, "defaultEndpoint " + quoted(endpoint) + ": the port " + quoted(text) + " is not a number");
  } else {
    findings.check(at, portError(port));
  }
}

void checkIngress(const net::Sidecar& sidecar, const FieldPath& at, Findings& findings) {
  ListenerKeys keys;
  for (int i = 0; i < sidecar.ingress_size(); ++i) {
    const auto& listener = sidecar.ingress(i);
    const FieldPath item = at[size_t(i)];
    if (!listener.has_port()) {
      findings.error(item / "port", "an ingress listener needs a port");
      continue;
    }
    checkPortBindCapture(listener.port(), listener.bind(), listener.capture_mode(), item, findings);
    keys.claim(listener.port(), listener.bind(), item, findings);
    checkDefaultEndpoint(listener.default_endpoint(), item / "defaultEndpoint", findings);
  }
}

void checkEgress(const net::Sidecar& sidecar, const FieldPath& at, Findings& findings) {
  ListenerKeys keys;
  for (int i = 0; i < sidecar.egress_size(); ++i) {
    const auto& listener = sidecar.egress(i);
    const FieldPath item = at[size_t(i)];
    if (!listener.has_port()) {
      // The listener without a port catches everything else, so it must come last (which also
      // means there is at most one).
      if (i + 1 != sidecar.egress_size()) findings.error(item, "the egress listener without a port must be the last one");
    } else {
      checkPortBindCapture(listener.port(), listener.bind(), listener.capture_mode(), item, findings);
      keys.claim(listener.port(), listener.bind(), item, findings);
    }
    const FieldPath hosts = item / "hosts";
    if (listener.hosts().empty()) findings.error(hosts, "an egress listener needs at least one host (namespace/dnsName)");
    for (int j = 0; j < listener.hosts_size(); ++j)
      findings.check(hosts[size_t(j)], namespacedHostError(listener.hosts(j), HostScope::Sidecar));
  }
}

}  // namespace

void validateSidecar(const Resource& resource, Findings& findings) {
  const auto& sidecar = resource.as<net::Sidecar>();
  const FieldPath spec("spec");
  if (sidecar.has_workload_selector() && sidecar.workload_selector().labels().empty())
    findings.error(spec / "workloadSelector.labels", "a workloadSelector needs labels");
  if (sidecar.egress().empty()) {
    findings.error(spec / "egress", "a sidecar needs at least one egress listener");
    return;
  }
  checkIngress(sidecar, spec / "ingress", findings);
  checkEgress(sidecar, spec / "egress", findings);
}

}  // namespace monomesh::config::validation
