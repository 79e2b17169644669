#include <charconv>
#include <map>

#include "pilot/xds/access_log.h"
#include "pilot/xds/naming.h"
#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot::xds {

namespace {

// A Sidecar ingress listener's defaultEndpoint ("127.0.0.1:8080"); false for unix:// and the like.
bool splitEndpoint(const std::string& text, std::string& ip, uint32_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || text.starts_with("unix://")) return false;
  ip = text.substr(0, colon);
  auto digits = std::string_view(text).substr(colon + 1);
  return std::from_chars(digits.data(), digits.data() + digits.size(), port).ec == std::errc() && port > 0;
}

// Istio 1.1: the Sidecar's ingress listeners when it declares some, else one per service port the
// workload serves (reached through the 15001 capture, so only when traffic is captured).
std::vector<InboundPort> inboundPorts(const ProxyView& view) {
  std::vector<InboundPort> out;
  std::map<std::string, std::string> seen;  // listen ip:port -> the cluster that has it
  // Two inbound ports on one address: the first keeps it, the other is reported (1.1 did so when
  // two services selected the same port of a pod).
  auto claim = [&](InboundPort& in) {
    auto address = in.listen_ip + ":" + std::to_string(in.listen_port);
    auto [it, fresh] = seen.try_emplace(address, in.cluster);
    if (fresh) out.push_back(std::move(in));
    else if (it->second != in.cluster)
      view.push.status().add(PushMetric::ConflictInboundListener, view.proxy.node_id, view.proxy.node_id,
                             "Rejected " + in.cluster + ", used " + it->second + " for " + address);
  };
  bool no_capture = view.proxy.interception == InterceptionMode::None;
  const networking::Sidecar* sidecar = view.scope.sidecar ? &view.scope.sidecar->as<networking::Sidecar>() : nullptr;
  if (sidecar != nullptr && sidecar->ingress_size() > 0) {
    for (const auto& ingress : sidecar->ingress()) {
      InboundPort in;
      in.listen_port = ingress.port().number();
      std::string host = view.scope.sidecar->meta.name + "." + view.scope.sidecar->meta.namespace_;
      std::string port_name = ingress.port().name();
      in.endpoint_port = in.listen_port;
      for (const auto& [service, endpoint] : view.instances)
        if (endpoint->service_port == in.listen_port || endpoint->port == in.listen_port) {
          host = service->hostname;
          if (const auto* sp = service->portByNumber(endpoint->service_port)) port_name = sp->name;
          in.endpoint_port = endpoint->port;
          break;
        }
      in.cluster = clusterName(Direction::Inbound, in.listen_port, port_name, host);
      in.bind = no_capture || ingress.capture_mode() == networking::NONE;
      in.listen_ip = ingress.bind().empty() ? (in.bind ? view.proxy.ip : "0.0.0.0") : ingress.bind();
      in.protocol = parseProtocol(ingress.port().protocol());
      if (!ingress.default_endpoint().empty()) splitEndpoint(ingress.default_endpoint(), in.endpoint_ip, in.endpoint_port);
      claim(in);
    }
    return out;
  }
  for (const auto& [service, endpoint] : view.instances) {
    const ServicePort* sp = service->portByNumber(endpoint->service_port);
    if (sp == nullptr) continue;
    InboundPort in;
    in.cluster = clusterName(Direction::Inbound, sp->port, sp->name, service->hostname);
    in.listen_ip = endpoint->address;
    in.listen_port = endpoint->port;
    in.endpoint_port = endpoint->port;
    in.protocol = sp->protocol;
    // Without capture nothing reaches a listener on the pod's own port: the application has it.
    if (no_capture) continue;
    claim(in);
  }
  return out;
}

}  // namespace

// A sidecar's own side: its service instances and inbound ports, and pilot_no_ip when its IPs
// are no service's endpoint.
void ProxyView::findInstances() {
  instances = push.serviceInstances(proxy);
  inbound = inboundPorts(*this);
  if (instances.empty())
    push.status().add(PushMetric::NoIp, proxy.node_id, proxy.node_id,
                      "no service endpoint has the proxy's IP " + proxy.ip + " (its inbound side is empty)");
}

ProxyView::ProxyView(const PushContext& push_context, const ProxyNode& node)
    : push(push_context), proxy(node), labels(push_context.proxyLabels(node)) {
  if (!isRouter()) {
    scope = push.sidecarScope(proxy, labels);
    findInstances();
  } else {
    // A gateway sees every service visible from its namespace (1.1 has no Sidecar for routers).
    for (const auto& s : push.registry().services)
      if (push.visibleFrom(*s, proxy.namespace_)) scope.services.push_back(s.get());
  }
}

ProxyView::ProxyView(const PushContext& push_context, const ProxyNode& node, Labels proxy_labels,
                     SidecarScope proxy_scope)
    : push(push_context), proxy(node), labels(std::move(proxy_labels)), scope(std::move(proxy_scope)) {
  if (!isRouter()) findInstances();
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
  auto listeners = view.isRouter() ? buildGatewayListeners(view) : buildSidecarListeners(view);
  addMeshAccessLog(view.push.mesh(), listeners);
  return listeners;
}

}  // namespace monomesh::pilot::xds
