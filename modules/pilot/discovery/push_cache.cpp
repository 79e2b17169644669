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

const std::vector<PackedResource>& PushCache::outboundClusters(const xds::ProxyView& view) {
  auto key = xds::outboundKey(view.proxy, view.scope.sidecar);
  auto [it, fresh] = clusters_.try_emplace(std::move(key));
  if (fresh)
    for (const auto& c : xds::buildOutboundClusters(view)) it->second.push_back(pack(c, c.name()));
  return it->second;
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
