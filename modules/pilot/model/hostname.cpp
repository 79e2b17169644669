#include "pilot/model/hostname.h"

namespace monomesh::pilot {

std::string resolveShortName(std::string_view host, std::string_view namespace_, std::string_view domain) {
  if (host.empty() || host.find('.') != std::string_view::npos || host.front() == '*') return std::string(host);
  std::string out(host);
  out += '.';
  out += namespace_;
  out += ".svc.";
  out += domain;
  return out;
}

bool hostMatches(std::string_view pattern, std::string_view host) {
  if (pattern == "*") return true;
  if (!pattern.empty() && pattern.front() == '*') {
    auto suffix = pattern.substr(1);  // ".example.com"
    if (!host.empty() && host.front() == '*') {
      // A wildcard host is covered when its own suffix ends with ours.
      auto host_suffix = host.substr(1);
      return host_suffix.size() >= suffix.size() && host_suffix.ends_with(suffix);
    }
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return pattern == host;
}

bool hostsOverlap(std::string_view a, std::string_view b) { return hostMatches(a, b) || hostMatches(b, a); }

int mostSpecificMatch(const std::vector<std::string>& patterns, std::string_view host) {
  int best = -1;
  for (size_t i = 0; i < patterns.size(); ++i) {
    const auto& p = patterns[i];
    if (p == host) return int(i);
    if (!hostMatches(p, host)) continue;
    if (best < 0 || p.size() > patterns[size_t(best)].size()) best = int(i);
  }
  return best;
}

ScopedHost parseScopedHost(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return {"*", std::string(text)};
  return {std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
}

std::string gatewayReference(std::string_view ref, std::string_view rule_namespace) {
  if (ref == "mesh" || ref.find('/') != std::string_view::npos) return std::string(ref);
  auto dot = ref.find('.');
  if (dot == std::string_view::npos) return std::string(rule_namespace) + "/" + std::string(ref);
  auto rest = ref.substr(dot + 1);
  return std::string(rest.substr(0, rest.find('.'))) + "/" + std::string(ref.substr(0, dot));
}

}  // namespace monomesh::pilot
