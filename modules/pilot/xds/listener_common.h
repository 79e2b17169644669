// Pieces every listener builder (sidecar and gateway) assembles: addresses, the HTTP connection
// manager with Istio's filter order, and tcp_proxy.
#pragma once
#include <string>

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace monomesh::pilot::xds {

void setSocketAddress(envoy::config::listener::v3::Listener& listener, const std::string& ip, uint32_t port);

// envoy.http_connection_manager with fault, CORS and router filters; routes from RDS (`rds_name`)
// or inline (`inline_routes`, when non-null).
void addHttpConnectionManager(envoy::config::listener::v3::FilterChain& chain, const std::string& stat_prefix,
                              const std::string& rds_name, const envoy::config::route::v3::RouteConfiguration* inline_routes);

void addTcpProxy(envoy::config::listener::v3::FilterChain& chain, const std::string& stat_prefix,
                 const std::string& cluster);

void addListenerFilter(envoy::config::listener::v3::Listener& listener, const std::string& name);

}  // namespace monomesh::pilot::xds
