// Pilot's generated xDS as short, stable text for golden files and failure messages: one line
// per virtual host, domain list, route (match -> action, policies) and filter chain.
#pragma once
#include <string>
#include <vector>

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace monomesh::pilot::testing {

std::string describeRoute(const envoy::config::route::v3::Route& route);
std::string describeRoutes(const envoy::config::route::v3::RouteConfiguration& config);
std::string describeListener(const envoy::config::listener::v3::Listener& listener);
std::string describeListeners(const std::vector<envoy::config::listener::v3::Listener>& listeners);

}  // namespace monomesh::pilot::testing
