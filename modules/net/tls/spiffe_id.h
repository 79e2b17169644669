// Istio 1.1 workload identities: spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>,
// carried as the URI SAN of every workload certificate.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace monomesh::net::tls {

struct SpiffeId {
  std::string trust_domain;  // "cluster.local"
  std::string ns;
  std::string service_account;

  // Validates strictly: lower-case scheme, trust domain of [a-z0-9.-_], path exactly
  // /ns/<DNS-1123 label>/sa/<DNS-1123 subdomain>, no query, fragment, port or escapes.
  // On failure returns nullopt and sets `error` to the rule that failed.
  static std::optional<SpiffeId> parse(std::string_view uri, std::string& error);

  std::string uri() const;        // "spiffe://cluster.local/ns/default/sa/bookinfo"
  std::string principal() const;  // "cluster.local/ns/default/sa/bookinfo", Istio's source.principal

  bool operator==(const SpiffeId&) const = default;
};

}  // namespace monomesh::net::tls
