#include "config/validation/hosts.h"

#include "config/validation/addresses.h"
#include "config/validation/findings.h"

namespace monomesh::config::validation {

namespace {

bool isAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string lengthError(std::string_view host) {
  if (host.empty()) return "host name cannot be empty";
  if (host.size() > 255) return "host name " + quoted(host.substr(0, 40)) + "... is longer than 255 characters";
  return "";
}

// Checks the labels of `rest` (everything after the first label, or the whole name).
std::string labelsError(std::string_view host, std::string_view rest) {
  size_t start = 0;
  std::string_view last;
  while (true) {
    size_t dot = rest.find('.', start);
    std::string_view label = rest.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!isDns1123Label(label)) {
      if (label.find('*') != std::string_view::npos)
        return quoted(host) + " is not a valid host name (a wildcard is only allowed as the first label)";
      return quoted(host) + " is not a valid host name (label " + quoted(label) + " is not a DNS-1123 label)";
    }
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (allDigits(last))
    return quoted(host) + " is not a valid host name (the top-level domain " + quoted(last) + " cannot be all digits)";
  return "";
}

}  // namespace

bool isDns1123Label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (!isAlnum(label.front()) || !isAlnum(label.back())) return false;
  for (char c : label)
    if (!isAlnum(c) && c != '-') return false;
  return true;
}

bool isWildcardDns1123Label(std::string_view label) {
  if (label.size() > 63) return false;
  if (label == "*") return true;
  if (label.starts_with("*-")) return isDns1123Label(label.substr(2));
  if (label.starts_with("*")) return isDns1123Label(label.substr(1));
  return isDns1123Label(label);
}

std::string fqdnError(std::string_view host) {
  if (auto e = lengthError(host); !e.empty()) return e;
  return labelsError(host, host);
}

std::string wildcardDomainError(std::string_view host) {
  if (auto e = lengthError(host); !e.empty()) return e;
  size_t dot = host.find('.');
  std::string_view first = host.substr(0, dot);
  if (!isWildcardDns1123Label(first)) {
    return quoted(host) + " is not a valid host name (label " + quoted(first) +
           " is neither a DNS-1123 label nor a wildcard such as \"*\" or \"*.example.com\")";
  }
  if (dot == std::string_view::npos) return "";
  // The first label may be a wildcard; the top-level domain check still applies to the whole name.
  std::string_view rest = host.substr(dot + 1);
  return labelsError(host, rest);
}

bool hostsOverlap(std::string_view a, std::string_view b) {
  bool aw = !a.empty() && a[0] == '*', bw = !b.empty() && b[0] == '*';
  if (aw && bw) {
    std::string_view as = a.substr(1), bs = b.substr(1);
    return as.size() < bs.size() ? bs.ends_with(as) : as.ends_with(bs);
  }
  if (aw) return b.ends_with(a.substr(1));
  if (bw) return a.ends_with(b.substr(1));
  return a == b;
}

bool hostIsSubsetOf(std::string_view a, std::string_view b) {
  bool aw = !a.empty() && a[0] == '*', bw = !b.empty() && b[0] == '*';
  if (aw) return bw && a.substr(1).ends_with(b.substr(1));
  if (bw) return a.ends_with(b.substr(1));
  return a == b;
}

std::string namespacedHostError(std::string_view host, HostScope scope) {
  size_t slash = host.find('/');
  std::string_view ns, name = host;
  if (slash == std::string_view::npos) {
    if (scope == HostScope::Sidecar)
      return "host " + quoted(host) + " must be of the form namespace/dnsName (e.g. \"*/*\", \"./*\", \"prod/foo.example.com\")";
  } else {
    ns = host.substr(0, slash);
    name = host.substr(slash + 1);
    if (ns.empty() || name.empty()) return "host " + quoted(host) + ": the namespace and the dnsName cannot be empty";
    bool ok_ns = ns == "*" || ns == "." || (scope == HostScope::Sidecar && ns == "~") || isDns1123Label(ns);
    if (!ok_ns)
      return "host " + quoted(host) + ": " + quoted(ns) + " is not a namespace (use a namespace name, \"*\" or \".\"" +
             (scope == HostScope::Sidecar ? std::string(" or \"~\")") : std::string(")"));
  }
  if (name == "*") return "";
  if (scope == HostScope::Gateway && isIP(name)) return "";
  // Istio 1.1.0 and 1.1.1 ran this check on the whole string, so a Gateway's "prod/*" was a
  // "short name"; later 1.1 releases check the dnsName only, which is what users wrote it for.
  if (name.find('.') == std::string_view::npos)
    return "host " + quoted(host) + ": short names are not allowed here; use a fully qualified name or \"*\"";
  return wildcardDomainError(name);
}

}  // namespace monomesh::config::validation
