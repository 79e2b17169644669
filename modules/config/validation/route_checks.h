// Checks shared by a VirtualService's HTTP, TLS and TCP routes: destinations and their weights,
// port selectors, gateway references, and the HTTP route itself (validate_http_route.cpp).
#pragma once
#include <google/protobuf/repeated_ptr_field.h>
#include <string>

#include "config/validation/common_checks.h"
#include "config/validation/findings.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace monomesh::config::validation {

// host (a wildcard domain, not "*"), subset (a DNS label), port.
void checkDestination(const istio::networking::v1alpha3::Destination& destination, const FieldPath& at,
                      Findings& findings);
// A number 1..65535 or a DNS-label name.
void checkPortSelector(const istio::networking::v1alpha3::PortSelector& port, const FieldPath& at, Findings& findings);
// "ns/name" with both DNS labels, or the legacy form, an FQDN ("mesh" included).
void checkGatewayNames(const google::protobuf::RepeatedPtrField<std::string>& gateways, const FieldPath& at,
                       Findings& findings);
void checkHttpRoute(const istio::networking::v1alpha3::HTTPRoute& route, const FieldPath& at, Findings& findings);

// Each destination is present and valid, each weight 0..100, and with several destinations the
// weights sum to 100. Works for HTTPRouteDestination and RouteDestination alike.
template <class Destinations>
void checkRouteDestinations(const Destinations& routes, const FieldPath& at, Findings& findings) {
  int64_t total = 0;
  for (int i = 0; i < routes.size(); ++i) {
    const auto& route = routes[i];
    FieldPath item = at[size_t(i)];
    if (!route.has_destination()) {
      findings.error(item / "destination", "destination is required");
    } else {
      checkDestination(route.destination(), item / "destination", findings);
    }
    findings.check(item / "weight", percentError(route.weight()));
    total += route.weight();
  }
  if (routes.size() > 1 && total != 100)
    findings.error(at, "weights sum to " + std::to_string(total) + ", must be 100");
}

}  // namespace monomesh::config::validation
