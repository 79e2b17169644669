#include "net/tls/spiffe_id.h"

namespace monomesh::net::tls {
namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr size_t kMaxUriBytes = 2048;         // SPIFFE ID specification
constexpr size_t kMaxTrustDomainBytes = 255;  // SPIFFE ID specification

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Kubernetes namespaces are DNS-1123 labels.
bool isDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63 || !isLowerAlnum(s.front()) || !isLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!isLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// Kubernetes service account names are DNS-1123 subdomains: dot-separated labels.
bool isDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!isDns1123Label(s.substr(start, dot == std::string_view::npos ? dot : dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<std::string> checkTrustDomain(std::string_view td) {
  if (td.empty()) return "trust domain is empty";
  if (td.size() > kMaxTrustDomainBytes) return "trust domain is longer than 255 bytes";
  for (char c : td) {
    if (!isLowerAlnum(c) && c != '.' && c != '-' && c != '_') {
      return "trust domain " + quoted(td) + " has the character '" + std::string(1, c) +
             "' (allowed: a-z 0-9 . - _)";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<SpiffeId> SpiffeId::parse(std::string_view uri, std::string& error) {
  auto fail = [&](std::string why) {
    error = quoted(uri) + " is not a SPIFFE identity: " + std::move(why);
    return std::nullopt;
  };
  if (uri.size() > kMaxUriBytes) return fail("longer than 2048 bytes");
  if (!uri.starts_with(kScheme)) return fail("it does not start with spiffe://");
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view td = rest.substr(0, slash);
  if (auto bad = checkTrustDomain(td)) return fail(*bad);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);

  // Exactly four segments: ns, <namespace>, sa, <service account>.
  constexpr std::string_view kShape = "path must be /ns/<namespace>/sa/<service-account>";
  std::string_view segments[4];
  std::string_view p = path;
  for (auto& segment : segments) {
    if (p.empty() || p.front() != '/') return fail(std::string(kShape) + ", got " + quoted(path));
    p.remove_prefix(1);
    size_t end = p.find('/');
    segment = p.substr(0, end);
    p.remove_prefix(segment.size());
  }
  if (!p.empty() || segments[0] != "ns" || segments[2] != "sa") {
    return fail(std::string(kShape) + ", got " + quoted(path));
  }
  if (!isDns1123Label(segments[1])) {
    return fail("namespace " + quoted(segments[1]) + " is not a DNS-1123 label");
  }
  if (!isDns1123Subdomain(segments[3])) {
    return fail("service account " + quoted(segments[3]) + " is not a DNS-1123 subdomain");
  }
  return SpiffeId{std::string(td), std::string(segments[1]), std::string(segments[3])};
}

std::string SpiffeId::principal() const {
  return trust_domain + "/ns/" + ns + "/sa/" + service_account;
}

std::string SpiffeId::uri() const { return std::string(kScheme) + principal(); }

}  // namespace monomesh::net::tls
