// Gateway LDS (Istio 1.1's gateway.go): one listener per port of the Gateway servers selecting a
// router. buildGatewayListeners(view) in xds_builder.h logs what this reports in `conflicts`.
#pragma once
#include <vector>

#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot::xds {

// Servers or filter chains left out (conflicting protocols on a port, unusable TLS settings,
// two chains with the same SNI match), with the reason, appended to `conflicts`.
std::vector<envoy::config::listener::v3::Listener> buildGatewayListeners(const ProxyView& view,
                                                                         std::vector<PushConflict>& conflicts);

}  // namespace monomesh::pilot::xds
