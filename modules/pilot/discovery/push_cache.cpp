#include "pilot/discovery/push_cache.h"

namespace monomesh::pilot {

std::unique_ptr<xds::ProxyView> PushCache::view(const ProxyNode& proxy) {
  auto labels = push_->proxyLabels(proxy);
  auto key = xds::outboundKey(proxy, proxy.type == NodeType::Router ? nullptr : push_->sidecarFor(proxy, labels));
  if (auto it = scopes_.find(key); it != scopes_.end())
    return std::make_unique<xds::ProxyView>(*push_, proxy, std::move(labels), it->second);
  auto view = std::make_unique<xds::ProxyView>(*push_, proxy);
  scopes_.emplace(std::move(key), view->scope);
  return view;
}

std::vector<const PackedResource*> PushCache::outboundClusters(const xds::ProxyView& view) {
  std::vector<const PackedResource*> out;
  for (const Service* service : view.scope.services) {
    const auto* rule = push_->destinationRule(view.proxy.namespace_, service->hostname);
    auto [it, fresh] = clusters_.try_emplace({service, rule});
    if (fresh)
      for (const auto& c : xds::buildServiceClusters(view, *service, rule)) it->second.push_back(pack(c, c.name()));
    for (const auto& p : it->second) out.push_back(&p);
  }
  return out;
}

const PackedResource* PushCache::loadAssignment(const xds::ProxyView& view, std::string_view cluster_name) {
  auto [it, fresh] = assignments_.try_emplace(xds::loadAssignmentKey(view, cluster_name));
  if (fresh)
    if (auto cla = xds::buildLoadAssignment(view, cluster_name)) it->second = pack(*cla, std::string(cluster_name));
  return it->second ? &*it->second : nullptr;
}

const PackedResource* PushCache::routeConfiguration(const xds::ProxyView& view, std::string_view name) {
  auto key = xds::routeConfigurationKey(view, name);
  if (key.empty()) {
    uncached_.reset();
    if (auto rc = xds::buildRouteConfiguration(view, name)) uncached_ = pack(*rc, std::string(name));
    return uncached_ ? &*uncached_ : nullptr;
  }
  auto [it, fresh] = routes_.try_emplace(std::move(key));
  if (fresh)
    if (auto rc = xds::buildRouteConfiguration(view, name)) it->second = pack(*rc, std::string(name));
  return it->second ? &*it->second : nullptr;
}

}  // namespace monomesh::pilot
