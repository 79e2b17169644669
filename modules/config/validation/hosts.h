// Host names as Istio 1.1 checks them: DNS-1123 labels, FQDNs, wildcard domains ("*.example.com",
// "*"), the `namespace/host` forms of Gateway servers and Sidecar egress listeners, and the
// wildcard matching used to find duplicate or uncovered hosts. Checks return "" when the input is
// valid, else what is wrong with it.
#pragma once
#include <string>
#include <string_view>

namespace monomesh::config::validation {

// [a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?, at most 63 characters.
bool isDns1123Label(std::string_view label);
// "*", or a label with a "*" or "*-" prefix ("*foo", "*-foo"), or a plain label.
bool isWildcardDns1123Label(std::string_view label);

// Not empty, at most 255 characters, every label a DNS-1123 label, the last not all digits.
std::string fqdnError(std::string_view host);
// As fqdnError, but the first label may be a wildcard label ("*.example.com", "*").
std::string wildcardDomainError(std::string_view host);

// Istio's Hostname.Matches: either side may be a wildcard that covers the other
// ("*.foo.com" and "a.foo.com" match; "*.com" and "*.foo.com" match).
bool hostsOverlap(std::string_view a, std::string_view b);
// Istio's Hostname.SubsetOf: every name `a` covers is covered by `b`.
bool hostIsSubsetOf(std::string_view a, std::string_view b);

// Where a `namespace/host` form appears: the namespaces each accepts differ.
enum class HostScope { Gateway, Sidecar };
// "ns/host": ns is "*", "." (Sidecar also "~") or a DNS label; host is "*", or a wildcard domain
// with at least one dot (or, for a Gateway, an IP address). A Gateway also accepts the host
// without namespace (the 1.0 form).
std::string namespacedHostError(std::string_view host, HostScope scope);

}  // namespace monomesh::config::validation
