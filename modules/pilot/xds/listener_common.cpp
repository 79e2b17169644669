#include "pilot/xds/listener_common.h"

#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace monomesh::pilot::xds {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;

void setSocketAddress(envoy::config::listener::v3::Listener& listener, const std::string& ip, uint32_t port) {
  auto* sa = listener.mutable_address()->mutable_socket_address();
  sa->set_address(ip);
  sa->set_port_value(port);
}

void addHttpConnectionManager(envoy::config::listener::v3::FilterChain& chain, const std::string& stat_prefix,
                              const std::string& rds_name, const envoy::config::route::v3::RouteConfiguration* inline_routes) {
  hcm::HttpConnectionManager manager;
  manager.set_stat_prefix(stat_prefix);
  manager.set_codec_type(hcm::HttpConnectionManager::AUTO);
  if (inline_routes != nullptr) {
    *manager.mutable_route_config() = *inline_routes;
  } else {
    manager.mutable_rds()->set_route_config_name(rds_name);
    manager.mutable_rds()->mutable_config_source()->mutable_ads();
  }
  // Istio 1.1's order (mixer and authn come with the security and telemetry work).
  auto* cors = manager.add_http_filters();
  cors->set_name("envoy.filters.http.cors");
  cors->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::cors::v3::Cors());
  auto* fault = manager.add_http_filters();
  fault->set_name("envoy.filters.http.fault");
  fault->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::fault::v3::HTTPFault());
  auto* router = manager.add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  auto* filter = chain.add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(manager);
}

void addTcpProxy(envoy::config::listener::v3::FilterChain& chain, const std::string& stat_prefix,
                 const std::string& cluster) {
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proxy;
  proxy.set_stat_prefix(stat_prefix);
  proxy.set_cluster(cluster);
  auto* filter = chain.add_filters();
  filter->set_name("envoy.filters.network.tcp_proxy");
  filter->mutable_typed_config()->PackFrom(proxy);
}

void addListenerFilter(envoy::config::listener::v3::Listener& listener, const std::string& name) {
  for (const auto& f : listener.listener_filters())
    if (f.name() == name) return;
  listener.add_listener_filters()->set_name(name);
}

}  // namespace monomesh::pilot::xds
