// The pod annotations Istio 1.1's injector reads, their validation (a bad value fails the
// injection, as 1.1's validateAnnotations did) and the decision whether a pod gets a sidecar.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "galley/injection/injection_config.h"

namespace monomesh::galley::injection {

namespace annotation {
inline constexpr const char* kInject = "sidecar.istio.io/inject";
inline constexpr const char* kStatus = "sidecar.istio.io/status";
inline constexpr const char* kProxyImage = "sidecar.istio.io/proxyImage";
inline constexpr const char* kInterceptionMode = "sidecar.istio.io/interceptionMode";
inline constexpr const char* kDiscoveryAddress = "sidecar.istio.io/discoveryAddress";
inline constexpr const char* kControlPlaneAuthPolicy = "sidecar.istio.io/controlPlaneAuthPolicy";
inline constexpr const char* kProxyCpu = "sidecar.istio.io/proxyCPU";
inline constexpr const char* kProxyMemory = "sidecar.istio.io/proxyMemory";
inline constexpr const char* kStatusPort = "status.sidecar.istio.io/port";
inline constexpr const char* kReadinessInitialDelay = "readiness.status.sidecar.istio.io/initialDelaySeconds";
inline constexpr const char* kReadinessPeriod = "readiness.status.sidecar.istio.io/periodSeconds";
inline constexpr const char* kReadinessFailureThreshold = "readiness.status.sidecar.istio.io/failureThreshold";
inline constexpr const char* kReadinessApplicationPorts = "readiness.status.sidecar.istio.io/applicationPorts";
inline constexpr const char* kIncludeOutboundIPRanges = "traffic.sidecar.istio.io/includeOutboundIPRanges";
inline constexpr const char* kExcludeOutboundIPRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges";
inline constexpr const char* kIncludeInboundPorts = "traffic.sidecar.istio.io/includeInboundPorts";
inline constexpr const char* kExcludeInboundPorts = "traffic.sidecar.istio.io/excludeInboundPorts";
inline constexpr const char* kKubevirtInterfaces = "traffic.sidecar.istio.io/kubevirtInterfaces";
}  // namespace annotation

using StringMap = std::map<std::string, std::string>;

struct AnnotationError {
  std::string annotation;
  std::string message;  // "\"10.0.0.0/33\": not a CIDR"
};

// Every annotation with a bad value (1.1's rules: CIDR lists with "*", port lists with "*",
// ports 0-65535, uint32 readiness settings, interception mode REDIRECT|TPROXY|NONE, control
// plane auth policy NONE|MUTUAL_TLS).
std::vector<AnnotationError> validateAnnotations(const StringMap& annotations);

// 1.1's value checks, for flags and values as well as annotations; nullopt when valid.
std::optional<std::string> checkCidrList(const std::string& value, bool wildcard);
std::optional<std::string> checkPortList(const std::string& value, bool wildcard);

// What the injector needs to know about a pod to decide.
struct PodFacts {
  std::string namespace_name;
  StringMap labels;
  StringMap annotations;
  bool host_network = false;
  bool has_proxy_container = false;  // a container named istio-proxy
};

// nullopt: inject. Otherwise why not (for a log line or kube-inject's warning):
// hostNetwork pods, kube-system/kube-public, pods already injected (status annotation or an
// istio-proxy container), then the inject annotation ("y", "yes", "true", "on" any case opt in;
// any other non-empty value opts out), then never/alwaysInjectSelector, then the policy.
std::optional<std::string> skipReason(const InjectionConfig& config, const PodFacts& pod);

}  // namespace monomesh::galley::injection
