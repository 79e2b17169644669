#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot::xds {

ProxyView::ProxyView(const PushContext& push_context, const ProxyNode& node)
    : push(push_context), proxy(node), labels(push_context.proxyLabels(node)) {
  if (!isRouter()) {
    scope = push.sidecarScope(proxy, labels);
    instances = push.serviceInstances(proxy);
  } else {
    // A gateway sees every service visible from its namespace (1.1 has no Sidecar for routers).
    for (const auto& s : push.registry().services)
      if (push.visibleFrom(*s, proxy.namespace_)) scope.services.push_back(s.get());
  }
}

ProxyView::ProxyView(const PushContext& push_context, const ProxyNode& node, Labels proxy_labels,
                     SidecarScope proxy_scope)
    : push(push_context), proxy(node), labels(std::move(proxy_labels)), scope(std::move(proxy_scope)) {
  if (!isRouter()) instances = push.serviceInstances(proxy);
}

std::string outboundKey(const ProxyNode& proxy, const config::ResourcePtr& sidecar) {
  std::string key = proxy.type == NodeType::Router ? "router|" : "sidecar|";
  key += proxy.namespace_;
  if (sidecar && proxy.type != NodeType::Router) {
    key += '|';
    key += sidecar->key().str();
  }
  return key;
}

std::vector<envoy::config::listener::v3::Listener> buildListeners(const ProxyView& view) {
  return view.isRouter() ? buildGatewayListeners(view) : buildSidecarListeners(view);
}

}  // namespace monomesh::pilot::xds
