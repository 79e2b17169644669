// Authentication Policy and MeshPolicy: naming rules, targets, JWT issuers and locations.
#include <set>

#include "config/resource.h"
#include "config/validation/addresses.h"
#include "config/validation/common_checks.h"
#include "config/validation/hosts.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"
#include "istio/authentication/v1alpha1/policy.pb.h"

namespace monomesh::config::validation {

namespace authn = istio::authentication::v1alpha1;

namespace {

constexpr std::string_view kDefaultName = "default";

// http or https, a host, an optional numeric port (what Istio's ParseJwksURI accepted).
std::string jwksUriError(std::string_view uri) {
  size_t scheme_end = uri.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? std::string_view() : uri.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    return "jwksUri " + quoted(uri) + ": the scheme must be http or https";
  std::string_view rest = uri.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {  // an IPv6 literal: [::1]:8080
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return "jwksUri " + quoted(uri) + ": unterminated IPv6 address";
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "jwksUri " + quoted(uri) + ": unexpected text after the IPv6 address";
      port = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  for (char c : port)
    if (c < '0' || c > '9') return "jwksUri " + quoted(uri) + ": the port " + quoted(port) + " is not a number";
  if (host.empty()) return "jwksUri " + quoted(uri) + " has no host";
  return "";
}

void checkTriggerRules(const authn::Jwt& jwt, const FieldPath& at, Findings& findings) {
  for (int i = 0; i < jwt.trigger_rules_size(); ++i) {
    const auto& rule = jwt.trigger_rules(i);
    const FieldPath item = at[size_t(i)];
    for (auto [name, list] : {std::pair{"excludedPaths", &rule.excluded_paths()}, std::pair{"includedPaths", &rule.included_paths()}}) {
      const FieldPath paths = item / name;
      for (int j = 0; j < list->size(); ++j) {
        const FieldPath match = paths[size_t(j)];
        if ((*list)[j].match_type_case() == authn::StringMatch::kRegex)
          findings.check(match / "regex", regexError((*list)[j].regex()));
      }
    }
  }
}

void checkJwt(const authn::Jwt& jwt, std::set<std::string>& issuers, const FieldPath& at, Findings& findings) {
  if (jwt.issuer().empty()) {
    findings.error(at / "issuer", "a JWT needs an issuer");
  } else if (!issuers.insert(jwt.issuer()).second) {
    findings.error(at / "issuer", "issuer " + quoted(jwt.issuer()) + " is defined more than once in this policy");
  }
  const FieldPath audiences = at / "audiences", headers = at / "jwtHeaders", params = at / "jwtParams";
  for (int i = 0; i < jwt.audiences_size(); ++i)
    if (jwt.audiences(i).empty()) findings.error(audiences[size_t(i)], "an audience cannot be empty");
  if (!jwt.jwks_uri().empty()) findings.check(at / "jwksUri", jwksUriError(jwt.jwks_uri()));
  for (int i = 0; i < jwt.jwt_headers_size(); ++i)
    if (jwt.jwt_headers(i).empty()) findings.error(headers[size_t(i)], "a JWT header name cannot be empty");
  for (int i = 0; i < jwt.jwt_params_size(); ++i)
    if (jwt.jwt_params(i).empty()) findings.error(params[size_t(i)], "a JWT query parameter cannot be empty");
  checkTriggerRules(jwt, at / "triggerRules", findings);
}

void checkTarget(const authn::TargetSelector& target, const FieldPath& at, Findings& findings) {
  if (!isDns1123Label(target.name()))
    findings.error(at / "name", "target name " + quoted(target.name()) + " must be a service's short name (a DNS-1123 label)");
  const FieldPath ports = at / "ports";
  for (int i = 0; i < target.ports_size(); ++i) {
    const auto& port = target.ports(i);
    const FieldPath item = ports[size_t(i)];
    if (port.port_case() == authn::PortSelector::kName) {
      findings.check(item / "name", portNameError(port.name()));
    } else {
      findings.check(item / "number", portError(port.number()));
    }
  }
}

void checkNaming(const Resource& resource, const authn::Policy& policy, Findings& findings) {
  const FieldPath name("metadata.name");
  const FieldPath targets("spec.targets");
  const std::string& n = resource.meta.name;
  if (!resource.schema->namespaced()) {
    if (n != kDefaultName) findings.error(name, "a MeshPolicy must be named \"default\", not " + quoted(n));
    if (!policy.targets().empty()) findings.error(targets, "a MeshPolicy cannot have targets");
    return;
  }
  if (policy.targets().empty() && n != kDefaultName)
    findings.error(name, "a policy without targets applies to the whole namespace and must be named "
                                  "\"default\", not " + quoted(n));
  if (!policy.targets().empty() && n == kDefaultName)
    findings.error(targets, "the policy named \"default\" applies to the whole namespace and cannot have targets");
}

}  // namespace

void validateAuthenticationPolicy(const Resource& resource, Findings& findings) {
  const auto& policy = resource.as<authn::Policy>();
  const FieldPath spec("spec");
  checkNaming(resource, policy, findings);
  const FieldPath targets = spec / "targets";
  if (resource.schema->namespaced())
    for (int i = 0; i < policy.targets_size(); ++i) checkTarget(policy.targets(i), targets[size_t(i)], findings);
  std::set<std::string> issuers;
  const FieldPath peers = spec / "peers";
  for (int i = 0; i < policy.peers_size(); ++i) {
    if (!policy.peers(i).has_jwt()) continue;
    const FieldPath peer = peers[size_t(i)];
    checkJwt(policy.peers(i).jwt(), issuers, peer / "jwt", findings);
  }
  const FieldPath origins = spec / "origins";
  for (int i = 0; i < policy.origins_size(); ++i) {
    const FieldPath origin = origins[size_t(i)];
    if (!policy.origins(i).has_jwt()) {
      findings.error(origin / "jwt", "an origin needs a jwt");
      continue;
    }
    checkJwt(policy.origins(i).jwt(), issuers, origin / "jwt", findings);
  }
}

}  // namespace monomesh::config::validation
