// EnvoyFilter (the 1.1 shape: filters with listenerMatch, insertPosition, filterConfig).
#include "config/resource.h"
#include "config/validation/validators.h"
#include "config/validation/findings.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"

namespace monomesh::config::validation {

namespace net = istio::networking::v1alpha3;

void validateEnvoyFilter(const Resource& resource, Findings& findings) {
  const auto& filter = resource.as<net::EnvoyFilter>();
  const FieldPath filters = FieldPath("spec.filters");
  if (filter.filters().empty()) {
    findings.error(filters, "an envoy filter needs at least one filter");
    return;
  }
  for (int i = 0; i < filter.filters_size(); ++i) {
    const auto& f = filter.filters(i);
    const FieldPath item = filters[size_t(i)];
    auto index = f.insert_position().index();
    if ((index == net::EnvoyFilter::InsertPosition::BEFORE || index == net::EnvoyFilter::InsertPosition::AFTER) &&
        f.insert_position().relative_to().empty())
      findings.error(item / "insertPosition.relativeTo", "insertPosition BEFORE and AFTER need relativeTo (a filter name)");
    if (f.filter_type() == net::EnvoyFilter::Filter::INVALID)
      findings.error(item / "filterType", "filterType is required (HTTP or NETWORK)");
    if (f.filter_name().empty()) findings.error(item / "filterName", "filterName is required");
    if (!f.has_filter_config()) findings.error(item / "filterConfig", "filterConfig is required");
  }
}

}  // namespace monomesh::config::validation
