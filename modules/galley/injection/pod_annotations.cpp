#include "galley/injection/pod_annotations.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace monomesh::galley::injection {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n\r");
  return s.substr(b, e - b + 1);
}

bool parseUnsigned(const std::string& s, unsigned long long max, unsigned long long& out) {
  if (s.empty() || s.size() > 20) return false;
  unsigned long long v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    if (v > (max - unsigned(c - '0')) / 10) return false;
    v = v * 10 + unsigned(c - '0');
  }
  out = v;
  return true;
}

bool isCidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  std::string ip = s.substr(0, slash);
  unsigned long long prefix = 0;
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return parseUnsigned(s.substr(slash + 1), 32, prefix);
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) return parseUnsigned(s.substr(slash + 1), 128, prefix);
  return false;
}

std::optional<std::string> checkPort(const std::string& value) {
  unsigned long long port = 0;
  if (!parseUnsigned(trim(value), 65535, port)) return "\"" + value + "\" is not a port (0-65535)";
  return std::nullopt;
}

std::optional<std::string> checkUint32(const std::string& value) {
  unsigned long long v = 0;
  if (!parseUnsigned(value, 4294967295ULL, v)) return "\"" + value + "\" is not an unsigned 32-bit integer";
  return std::nullopt;
}

std::optional<std::string> oneOf(const std::string& value, std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return std::nullopt;
    list += list.empty() ? a : std::string(", ") + a;
  }
  return "\"" + value + "\" is not one of " + list;
}

}  // namespace

std::optional<std::string> checkCidrList(const std::string& value, bool wildcard) {
  if (wildcard && value == "*") return std::nullopt;
  if (value.empty()) return std::nullopt;
  for (const auto& cidr : split(value, ',')) {
    if (!isCidr(cidr)) return "\"" + cidr + "\" is not a CIDR (address/prefix)" + (wildcard ? " or *" : "");
  }
  return std::nullopt;
}

std::optional<std::string> checkPortList(const std::string& value, bool wildcard) {
  if (wildcard && value == "*") return std::nullopt;
  if (trim(value).empty()) return std::nullopt;
  for (const auto& port : split(trim(value), ',')) {
    if (auto err = checkPort(port)) return err;
  }
  return std::nullopt;
}

std::vector<AnnotationError> validateAnnotations(const StringMap& annotations) {
  using Check = std::optional<std::string> (*)(const std::string&);
  static const std::vector<std::pair<const char*, Check>> rules = {
      {annotation::kInterceptionMode, [](const std::string& v) { return oneOf(v, {"REDIRECT", "TPROXY", "NONE"}); }},
      {annotation::kControlPlaneAuthPolicy, [](const std::string& v) { return oneOf(v, {"NONE", "MUTUAL_TLS"}); }},
      {annotation::kStatusPort, checkPort},
      {annotation::kReadinessInitialDelay, checkUint32},
      {annotation::kReadinessPeriod, checkUint32},
      {annotation::kReadinessFailureThreshold, checkUint32},
      {annotation::kReadinessApplicationPorts, [](const std::string& v) { return checkPortList(v, true); }},
      {annotation::kIncludeOutboundIPRanges, [](const std::string& v) { return checkCidrList(v, true); }},
      {annotation::kExcludeOutboundIPRanges, [](const std::string& v) { return checkCidrList(v, false); }},
      {annotation::kIncludeInboundPorts, [](const std::string& v) { return checkPortList(v, true); }},
      {annotation::kExcludeInboundPorts, [](const std::string& v) { return checkPortList(v, false); }},
  };
  std::vector<AnnotationError> errors;
  for (const auto& [name, check] : rules) {
    auto it = annotations.find(name);
    if (it == annotations.end()) continue;
    if (auto err = check(it->second)) errors.push_back(AnnotationError{name, *err});
  }
  return errors;
}

std::optional<std::string> skipReason(const InjectionConfig& config, const PodFacts& pod) {
  // iptables in a hostNetwork pod would rewrite the node's routing, not the pod's.
  if (pod.host_network) return "the pod has host networking enabled";
  if (pod.namespace_name == "kube-system" || pod.namespace_name == "kube-public")
    return "namespace " + pod.namespace_name + " is never injected";
  if (pod.annotations.count(annotation::kStatus)) return "the pod is already injected (" + std::string(annotation::kStatus) + ")";
  if (pod.has_proxy_container) return "the pod already has an istio-proxy container";

  bool use_default = false, inject = false;
  auto it = pod.annotations.find(annotation::kInject);
  std::string value = it == pod.annotations.end() ? "" : it->second;
  std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (value == "y" || value == "yes" || value == "true" || value == "on") {
    inject = true;
  } else if (value.empty()) {
    use_default = true;
  }
  std::string why = inject ? "" : "annotation " + std::string(annotation::kInject) + ": \"" + (it == pod.annotations.end() ? "" : it->second) + "\"";
  if (use_default) {
    for (const auto& s : config.never_inject_selector) {
      if (!s.empty() && s.matches(pod.labels)) return "the pod's labels match neverInjectSelector";
    }
    for (const auto& s : config.always_inject_selector) {
      if (!s.empty() && s.matches(pod.labels)) return std::nullopt;
    }
    if (config.policy == InjectionPolicy::Enabled) return std::nullopt;
    return "the injection policy is disabled and the pod does not ask for a sidecar (" + std::string(annotation::kInject) + ")";
  }
  if (inject) return std::nullopt;
  return why;
}

}  // namespace monomesh::galley::injection
