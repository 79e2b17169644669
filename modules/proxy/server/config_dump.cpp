// ProxyServer::configDump (declared in proxy_server.h): the admin's /config_dump as Envoy's
// envoy.admin.v3.ConfigDump: the bootstrap, then clusters (static, dynamic active and warming),
// endpoints (with ?include_eds), listeners (static, dynamic active and warming) and route
// configurations (inline ones as static, RDS ones with their version), each with version_info
// and last_updated.
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "proxy/config/proto_values.h"
#include "proxy/server/proxy_server.h"

namespace monomesh::proxy {

namespace admin = envoy::admin::v3;

namespace {

// The route_config of every HTTP connection manager of `listener` (Envoy lists them as static).
void inlineRouteConfigs(const envoy::config::listener::v3::Listener& listener, admin::RoutesConfigDump& out,
                        const google::protobuf::Timestamp& when) {
  auto visit = [&](const envoy::config::listener::v3::FilterChain& chain) {
    for (const auto& f : chain.filters()) {
      envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
      if (!f.typed_config().UnpackTo(&hcm) || !hcm.has_route_config()) continue;
      auto* s = out.add_static_route_configs();
      s->mutable_route_config()->PackFrom(hcm.route_config());
      *s->mutable_last_updated() = when;
    }
  };
  for (const auto& chain : listener.filter_chains()) visit(chain);
  if (listener.has_default_filter_chain()) visit(listener.default_filter_chain());
}

}  // namespace

admin::ConfigDump ProxyServer::configDump(bool include_eds) const {
  auto started = std::chrono::system_clock::now() -
                 std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::steady_clock::now() - started_);
  auto start_time = toTimestamp(started);
  admin::BootstrapConfigDump bootstrap;
  *bootstrap.mutable_bootstrap() = bootstrap_;
  *bootstrap.mutable_last_updated() = start_time;

  admin::ClustersConfigDump clusters;
  admin::EndpointsConfigDump endpoints;
  admin::ListenersConfigDump listeners;
  admin::RoutesConfigDump routes;
  if (cluster_discovery_) {
    cluster_discovery_->dump(clusters, endpoints);
  } else {
    for (const auto& info : cluster_infos_) {
      auto* s = clusters.add_static_clusters();
      s->mutable_cluster()->PackFrom(info->config);
      *s->mutable_last_updated() = start_time;
    }
  }
  if (listener_discovery_) {
    listener_discovery_->dump(listeners);
  } else if (auto snapshot = listener_slot_ ? listener_slot_->latest() : nullptr) {
    for (const auto& l : snapshot->listeners) {
      auto* s = listeners.add_static_listeners();
      s->mutable_listener()->PackFrom(l->config);
      *s->mutable_last_updated() = start_time;
    }
  }
  for (const auto& s : listeners.static_listeners()) {
    envoy::config::listener::v3::Listener l;
    if (s.listener().UnpackTo(&l)) inlineRouteConfigs(l, routes, s.last_updated());
  }
  for (const auto& d : listeners.dynamic_listeners()) {
    envoy::config::listener::v3::Listener l;
    if (d.active_state().listener().UnpackTo(&l)) inlineRouteConfigs(l, routes, d.active_state().last_updated());
  }
  if (routes_) {
    for (const auto& [name, provider] : routes_->all()) {
      if (!provider->received()) continue;
      auto* d = routes.add_dynamic_route_configs();
      d->set_version_info(provider->version());
      d->mutable_route_config()->PackFrom(provider->config());
      *d->mutable_last_updated() = toTimestamp(provider->lastUpdated());
    }
  }
  admin::ConfigDump dump;
  dump.add_configs()->PackFrom(bootstrap);
  dump.add_configs()->PackFrom(clusters);
  if (include_eds) dump.add_configs()->PackFrom(endpoints);
  dump.add_configs()->PackFrom(listeners);
  dump.add_configs()->PackFrom(routes);
  return dump;
}

}  // namespace monomesh::proxy
