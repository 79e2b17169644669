// Sidecar LDS, as Istio 1.1 generated it: inbound listeners for the workload's service ports,
// outbound listeners per service port (HTTP on 0.0.0.0:<port> with RDS named by the port, TCP on
// <VIP>:<port>, TLS/HTTPS without a VIP by SNI) and the virtual listener on 15001 that hands
// captured connections to them by original destination. A Sidecar resource narrows the services
// (egress hosts) and may declare its own ingress and egress listeners; with capture mode NONE (or
// a proxy whose INTERCEPTION_MODE is NONE) listeners bind their own address instead of being
// reached through 15001.
#include <map>
#include <set>

#include "pilot/xds/listener_common.h"
#include "pilot/model/hostname.h"
#include "pilot/xds/naming.h"
#include "pilot/xds/tcp_routes.h"
#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot::xds {

namespace lv3 = envoy::config::listener::v3;

namespace {

// What an outbound listener already serves, for 1.1's conflict reports: HTTP (one connection
// manager, every HTTP host through RDS) or TCP (filter chains), and which hosts.
struct ListenerUse {
  bool http = false;
  Protocol protocol = Protocol::TCP;
  std::vector<std::string> hosts;
};

struct Outbound {
  const ProxyView& view;
  bool bind;            // bind_to_port
  std::string bind_ip;  // the address of 0.0.0.0 listeners
  std::vector<lv3::Listener>& out;
  std::set<std::string>& names;
  std::map<std::string, ListenerUse>& uses;  // by "ip:port"; listeners of other kinds have none

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

  static std::string address(const std::string& ip, uint32_t port) { return ip + ":" + std::to_string(port); }

  // 1.1 kept the listener as first built and reported the service that did not fit on it.
  void conflict(PushMetric metric, const std::string& at, const ListenerUse& current, const Service& rejected,
                Protocol protocol) const {
    std::string hosts;
    for (const auto& h : current.hosts) hosts += (hosts.empty() ? "" : ",") + h;
    view.push.status().add(metric, at, view.proxy.node_id,
                           "Listener=" + at + " Accepted" + std::string(protocolName(current.protocol)) + "=" + hosts +
                               " Rejected" + std::string(protocolName(protocol)) + "=" + rejected.hostname);
  }

  void http(const Service& service, const ServicePort& port) {
    bool fresh = false;
    auto* l = listener(bind_ip, port.port, fresh);
    auto at = address(bind_ip, port.port);
    if (!fresh) {  // one HTTP listener per port; RDS holds every host on it
      auto use = uses.find(at);
      if (use == uses.end()) return;
      if (use->second.http) use->second.hosts.push_back(service.hostname);
      else conflict(PushMetric::ConflictOutboundHttpOverTcp, at, use->second, service, port.protocol);
      return;
    }
    uses[at] = ListenerUse{true, port.protocol, {service.hostname}};
    addHttpConnectionManager(*l->add_filter_chains(), bind_ip + "_" + std::to_string(port.port), std::to_string(port.port),
                             nullptr);
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

  static bool sameMatch(const lv3::FilterChain& a, const std::vector<std::string>& server_names) {
    return std::vector<std::string>(a.filter_chain_match().server_names().begin(),
                                    a.filter_chain_match().server_names().end()) == server_names;
  }

  // Adds a chain matching `server_names` (none: catch-all) unless the listener has one with the
  // same match: then the first stays and the service is reported.
  bool addChain(lv3::Listener& l, const std::string& at, ListenerUse& use, const Service& service, const ServicePort& port,
                std::vector<std::string> server_names, envoy::config::listener::v3::Filter filter) {
    for (const auto& chain : l.filter_chains())
      if (sameMatch(chain, server_names)) {
        conflict(PushMetric::ConflictOutboundTcpOverTcp, at, use, service, port.protocol);
        return false;
      }
    auto* chain = l.add_filter_chains();
    for (auto& sni : server_names) chain->mutable_filter_chain_match()->add_server_names(std::move(sni));
    *chain->add_filters() = std::move(filter);
    return true;
  }

  void tcp(const Service& service, const ServicePort& port) {
    bool fresh = false;
    lv3::Listener* l = nullptr;
    std::string at;
    if (service.hasVip() && service.address.find('/') == std::string::npos) {
      std::string ip = bind ? bind_ip : service.address;
      l = listener(ip, port.port, fresh);
      at = address(ip, port.port);
    } else {
      if (service.resolution == Resolution::Passthrough && !isTlsPassthrough(port.protocol)) return;
      l = listener(bind_ip, port.port, fresh);
      at = address(bind_ip, port.port);
    }
    if (fresh) uses[at] = ListenerUse{false, port.protocol, {}};
    auto use = uses.find(at);
    if (use == uses.end()) return;
    if (use->second.http) {
      conflict(PushMetric::ConflictOutboundTcpOverHttp, at, use->second, service, port.protocol);
      return;
    }
    bool added = false;
    if (isTlsPassthrough(port.protocol) && !(service.hasVip() && service.address.find('/') == std::string::npos)) {
      // TLS without a VIP is told apart by SNI: the `tls` routes' SNI names, else the host itself.
      L4Source source{port.port, &view.labels, {"mesh"}};
      bool routed = false;
      for (const auto* vs : rulesFor(service))
        for (const auto& target : tlsRouteTargets(view.push, *vs, source)) {
          routed = true;
          auto filter = tcpProxyFilter(target.destinations, vs->resource->meta.name + "." + vs->resource->meta.namespace_);
          added |= addChain(*l, at, use->second, service, port, target.sni_hosts, std::move(filter));
        }
      if (!routed && service.hostname.front() != '*')
        added |= addChain(*l, at, use->second, service, port, {service.hostname}, tcpFilter(service, port));
      addListenerFilter(*l, "envoy.filters.listener.tls_inspector");
    } else {
      added = addChain(*l, at, use->second, service, port, {}, tcpFilter(service, port));
    }
    if (added) use->second.hosts.push_back(service.hostname);
  }

  void service(const Service& s, std::optional<uint32_t> only_port) {
    for (const auto& port : s.ports) {
      if (only_port && port.port != *only_port) continue;
      if (isHttp(port.protocol)) http(s, port);
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
  std::map<std::string, ListenerUse> uses;
  if (sidecar != nullptr && sidecar->egress_size() > 0) {
    for (const auto& egress : sidecar->egress()) {
      bool bind = no_capture || egress.capture_mode() == networking::NONE;
      std::string ip = egress.bind().empty() ? (bind ? "127.0.0.1" : "0.0.0.0") : egress.bind();
      Outbound builder{view, bind, ip, out, names, uses};
      std::optional<uint32_t> port;
      if (egress.has_port() && egress.port().number() > 0) port = egress.port().number();
      for (const Service* s : view.scope.services)
        if (servesHost(egress, view.scope.sidecar->meta.namespace_, *s)) builder.service(*s, port);
    }
  } else {
    Outbound builder{view, no_capture, no_capture ? "127.0.0.1" : "0.0.0.0", out, names, uses};
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
