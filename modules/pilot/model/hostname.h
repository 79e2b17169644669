// Istio's host names: fully qualifying short names against the config's namespace, and matching
// with a leading wildcard ("*.example.com", "*") the way VirtualServices, DestinationRules,
// Gateways and Sidecar egress hosts do.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace monomesh::pilot {

// "reviews" in namespace "default" -> "reviews.default.svc.cluster.local"; names with a dot and
// wildcards are kept as written.
std::string resolveShortName(std::string_view host, std::string_view namespace_, std::string_view domain);

// `pattern` (maybe a wildcard) matches `host` (maybe a wildcard too, then it must be covered).
bool hostMatches(std::string_view pattern, std::string_view host);
// Either covers the other (used to bind VirtualServices to wildcard services and back).
bool hostsOverlap(std::string_view a, std::string_view b);

// Of `patterns`, the index of the most specific one matching `host`: an exact name, else the
// longest wildcard. -1 if none.
int mostSpecificMatch(const std::vector<std::string>& patterns, std::string_view host);

// A "ns/host" reference (Gateway hosts, Sidecar egress hosts): "*/" or no slash means any namespace.
struct ScopedHost {
  std::string namespace_;  // "*" for any, "." for the config's own (resolved by the caller)
  std::string host;
};
ScopedHost parseScopedHost(std::string_view text);

// A VirtualService's gateway reference as "namespace/name": "mesh" stays, short names are in the
// rule's namespace, "name.namespace.svc.<domain>" is the FQDN form 1.1 also accepted.
std::string gatewayReference(std::string_view ref, std::string_view rule_namespace);

}  // namespace monomesh::pilot
