// Sidecar LDS, as Istio 1.1 generated it: inbound listeners for the workload's service ports,
// outbound listeners per service port (HTTP on 0.0.0.0:<port> with RDS named by the port, TCP on
// <VIP>:<port>, TLS/HTTPS without a VIP by SNI) and the virtual listener on 15001 that hands
// captured connections to them by original destination. A Sidecar resource narrows the services
// (egress hosts) and may declare its own ingress and egress listeners; with capture mode NONE (or
// a proxy whose INTERCEPTION_MODE is NONE) listeners bind their own address instead of being
// reached through 15001.
#include <set>

#include "pilot/xds/listener_common.h"
#include "pilot/model/hostname.h"
#include "pilot/xds/naming.h"
#include "pilot/xds/tcp_routes.h"
#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot::xds {

namespace lv3 = envoy::config::listener::v3;

namespace {

struct Outbound {
  const ProxyView& view;
  bool bind;            // bind_to_port
  std::string bind_ip;  // the address of 0.0.0.0 listeners
  std::vector<lv3::Listener>& out;
  std::set<std::string>& names;

  lv3::Listener* listener(const std::string& ip, uint32_t port, bool& fresh) {
    std::string name = ip + "_" + std::to_string(port);
    fresh = names.insert(name).second;
    if (!fresh) {
      for (auto& l : out)
        if (l.name() == name) return &l;
    }
    auto& l = out.emplace_back();
    l.set_name(name);
    setSocketAddress(l, ip, port);
    l.mutable_bind_to_port()->set_value(bind);
    l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
    return &l;
  }

  void http(uint32_t port) {
    bool fresh = false;
    auto* l = listener(bind_ip, port, fresh);
    if (!fresh) return;  // one HTTP listener per port; RDS holds every host on it
    addHttpConnectionManager(*l->add_filter_chains(), bind_ip + "_" + std::to_string(port), std::to_string(port), nullptr);
  }

  // The VirtualServices bound to the mesh for this host, in the proxy's view.
  std::vector<const VirtualServiceEntry*> rulesFor(const Service& service) const {
    std::vector<const VirtualServiceEntry*> out;
    for (const auto* vs : view.push.virtualServices("mesh", view.proxy.namespace_))
      for (const auto& h : vs->hosts)
        if (hostsOverlap(h, service.hostname)) {
          out.push_back(vs);
          break;
        }
    return out;
  }

  // Where a TCP connection to this service port goes: the first matching `tcp` route, else the
  // service's own cluster.
  envoy::config::listener::v3::Filter tcpFilter(const Service& service, const ServicePort& port) const {
    L4Source source{port.port, &view.labels, {"mesh"}};
    for (const auto* vs : rulesFor(service))
      if (auto target = tcpRouteTarget(view.push, *vs, source))
        return tcpProxyFilter(target->destinations, vs->resource->meta.name + "." + vs->resource->meta.namespace_);
    return tcpProxyFilter({{clusterName(Direction::Outbound, port.port, "", service.hostname), 100}}, "");
  }

  void tcp(const Service& service, const ServicePort& port) {
    bool fresh = false;
    if (service.hasVip() && service.address.find('/') == std::string::npos) {
      auto* l = listener(bind ? bind_ip : service.address, port.port, fresh);
      if (fresh) *l->add_filter_chains()->add_filters() = tcpFilter(service, port);
      return;
    }
    if (service.resolution == Resolution::Passthrough && !isTlsPassthrough(port.protocol)) return;
    auto* l = listener(bind_ip, port.port, fresh);
    if (!fresh && l->filter_chains_size() > 0 && l->filter_chains(0).filter_chain_match().server_names_size() == 0 &&
        !isTlsPassthrough(port.protocol))
      return;  // the port already serves HTTP or another TCP service: first wins, as in 1.1
    if (isTlsPassthrough(port.protocol)) {
      // TLS without a VIP is told apart by SNI: the `tls` routes' SNI names, else the host itself.
      L4Source source{port.port, &view.labels, {"mesh"}};
      bool routed = false;
      for (const auto* vs : rulesFor(service))
        for (const auto& target : tlsRouteTargets(view.push, *vs, source)) {
          auto* chain = l->add_filter_chains();
          for (const auto& sni : target.sni_hosts) chain->mutable_filter_chain_match()->add_server_names(sni);
          *chain->add_filters() = tcpProxyFilter(target.destinations, vs->resource->meta.name + "." + vs->resource->meta.namespace_);
          routed = true;
        }
      if (!routed && service.hostname.front() != '*') {
        auto* chain = l->add_filter_chains();
        chain->mutable_filter_chain_match()->add_server_names(service.hostname);
        *chain->add_filters() = tcpFilter(service, port);
      }
      addListenerFilter(*l, "envoy.filters.listener.tls_inspector");
    } else if (fresh) {
      *l->add_filter_chains()->add_filters() = tcpFilter(service, port);
    }
  }

  void service(const Service& s, std::optional<uint32_t> only_port) {
    for (const auto& port : s.ports) {
      if (only_port && port.port != *only_port) continue;
      if (isHttp(port.protocol)) http(port.port);
      else if (port.protocol != Protocol::UDP) tcp(s, port);
    }
  }
};

bool servesHost(const networking::IstioEgressListener& egress, const std::string& sidecar_namespace, const Service& s) {
  for (const auto& text : egress.hosts()) {
    auto slash = text.find('/');
    std::string ns = slash == std::string::npos ? "*" : text.substr(0, slash);
    std::string host = slash == std::string::npos ? text : text.substr(slash + 1);
    if (ns == ".") ns = sidecar_namespace;
    if ((ns == "*" || ns == s.namespace_) && (host == "*" || host == s.hostname ||
                                             (host.front() == '*' && s.hostname.ends_with(host.substr(1)))))
      return true;
  }
  return false;
}

envoy::config::route::v3::RouteConfiguration inboundRoutes(const std::string& cluster) {
  envoy::config::route::v3::RouteConfiguration rc;
  rc.set_name(cluster);
  auto* vh = rc.add_virtual_hosts();
  vh->set_name(cluster);
  vh->add_domains("*");
  auto* r = vh->add_routes();
  r->set_name("default");
  r->mutable_match()->set_prefix("/");
  r->mutable_route()->set_cluster(cluster);
  r->mutable_route()->mutable_timeout()->set_seconds(0);  // inbound: no route timeout, as 1.1
  return rc;
}

void inboundListener(std::vector<lv3::Listener>& out, std::set<std::string>& names, const std::string& ip, uint32_t port,
                     bool bind, const std::string& cluster, Protocol protocol) {
  std::string name = ip + "_" + std::to_string(port);
  if (!names.insert(name).second) return;
  auto& l = out.emplace_back();
  l.set_name(name);
  setSocketAddress(l, ip, port);
  l.mutable_bind_to_port()->set_value(bind);
  l.set_traffic_direction(envoy::config::core::v3::INBOUND);
  auto* chain = l.add_filter_chains();
  if (isHttp(protocol)) {
    auto routes = inboundRoutes(cluster);
    addHttpConnectionManager(*chain, name, "", &routes);
  } else {
    addTcpProxy(*chain, cluster, cluster);
  }
}

}  // namespace

std::vector<lv3::Listener> buildSidecarListeners(const ProxyView& view) {
  std::vector<lv3::Listener> out;
  std::set<std::string> names;
  bool no_capture = view.proxy.interception == InterceptionMode::None;
  const networking::Sidecar* sidecar = view.scope.sidecar ? &view.scope.sidecar->as<networking::Sidecar>() : nullptr;

  // Inbound.
  for (const auto& in : view.inbound)
    inboundListener(out, names, in.listen_ip, in.listen_port, in.bind, in.cluster, in.protocol);

  // Outbound.
  if (sidecar != nullptr && sidecar->egress_size() > 0) {
    for (const auto& egress : sidecar->egress()) {
      bool bind = no_capture || egress.capture_mode() == networking::NONE;
      std::string ip = egress.bind().empty() ? (bind ? "127.0.0.1" : "0.0.0.0") : egress.bind();
      Outbound builder{view, bind, ip, out, names};
      std::optional<uint32_t> port;
      if (egress.has_port() && egress.port().number() > 0) port = egress.port().number();
      for (const Service* s : view.scope.services)
        if (servesHost(egress, view.scope.sidecar->meta.namespace_, *s)) builder.service(*s, port);
    }
  } else {
    Outbound builder{view, no_capture, no_capture ? "127.0.0.1" : "0.0.0.0", out, names};
    for (const Service* s : view.scope.services) builder.service(*s, std::nullopt);
  }

  // The virtual listener: captured connections go to the listener of their original destination,
  // or out as they are (ALLOW_ANY) / nowhere (REGISTRY_ONLY).
  if (!no_capture) {
    auto& l = out.emplace_back();
    l.set_name(std::string(kVirtualListenerName));
    setSocketAddress(l, "0.0.0.0", kVirtualListenerPort);
    l.mutable_use_original_dst()->set_value(true);
    bool registry_only = view.push.mesh().outbound_traffic_policy().mode() ==
                         istio::mesh::v1alpha1::MeshConfig::OutboundTrafficPolicy::REGISTRY_ONLY;
    std::string cluster(registry_only ? kBlackHoleCluster : kPassthroughCluster);
    addTcpProxy(*l.add_filter_chains(), cluster, cluster);
  }
  return out;
}

}  // namespace monomesh::pilot::xds
