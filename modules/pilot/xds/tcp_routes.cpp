#include "pilot/xds/tcp_routes.h"

#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "pilot/model/hostname.h"
#include "pilot/xds/naming.h"
#include "pilot/xds/virtual_service_routes.h"

namespace monomesh::pilot::xds {

namespace {

// 1.1's l4SingleMatch (port and gateways) plus the source labels sidecars were matched on.
template <class Match>
bool l4Matches(const Match& m, const L4Source& source, std::string_view rule_namespace) {
  if (m.port() != 0 && m.port() != source.port) return false;
  if (!m.gateways().empty()) return sourceMatches(m.gateways(), {}, rule_namespace, source.gateways, source.labels);
  return sourceMatches({}, m.source_labels(), rule_namespace, source.gateways, source.labels);
}

}  // namespace

Destinations routeDestinations(const PushContext& push,
                               const google::protobuf::RepeatedPtrField<networking::RouteDestination>& route,
                               std::string_view rule_namespace, uint32_t listener_port) {
  Destinations out;
  for (const auto& d : route) {
    uint32_t weight = uint32_t(std::max(0, d.weight()));
    if (weight == 0) {
      if (route.size() != 1) continue;
      weight = 100;
    }
    out.push_back({destinationCluster(push, d.destination(), rule_namespace, listener_port), weight});
  }
  return out;
}

std::optional<TcpRouteTarget> tcpRouteTarget(const PushContext& push, const VirtualServiceEntry& vs, const L4Source& source) {
  const auto& ns = vs.resource->meta.namespace_;
  for (const auto& tcp : vs.spec->tcp()) {
    const networking::L4MatchAttributes* matched = nullptr;
    bool any = tcp.match().empty();
    for (const auto& m : tcp.match())
      if (l4Matches(m, source, ns)) {
        matched = &m;
        any = true;
        break;
      }
    if (!any) continue;
    TcpRouteTarget target;
    target.destinations = routeDestinations(push, tcp.route(), ns, source.port);
    if (matched != nullptr) target.destination_subnets.assign(matched->destination_subnets().begin(), matched->destination_subnets().end());
    return target;
  }
  return std::nullopt;
}

std::vector<TlsRouteTarget> tlsRouteTargets(const PushContext& push, const VirtualServiceEntry& vs, const L4Source& source) {
  std::vector<TlsRouteTarget> out;
  const auto& ns = vs.resource->meta.namespace_;
  const auto& domain = push.registryOptions().domain;
  for (const auto& tls : vs.spec->tls()) {
    for (const auto& m : tls.match()) {
      if (!l4Matches(m, source, ns)) continue;
      TlsRouteTarget target;
      for (const auto& h : m.sni_hosts()) target.sni_hosts.push_back(resolveShortName(h, ns, domain));
      target.destination_subnets.assign(m.destination_subnets().begin(), m.destination_subnets().end());
      target.destinations = routeDestinations(push, tls.route(), ns, source.port);
      out.push_back(std::move(target));
    }
  }
  return out;
}

envoy::config::listener::v3::Filter tcpProxyFilter(const Destinations& destinations, const std::string& stat_prefix) {
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proxy;
  if (destinations.size() == 1 || destinations.empty()) {
    std::string cluster = destinations.empty() ? std::string(kBlackHoleCluster) : destinations.front().cluster;
    proxy.set_stat_prefix(cluster);
    proxy.set_cluster(cluster);
  } else {
    proxy.set_stat_prefix(stat_prefix);
    for (const auto& d : destinations) {
      auto* c = proxy.mutable_weighted_clusters()->add_clusters();
      c->set_name(d.cluster);
      c->set_weight(d.weight);
    }
  }
  envoy::config::listener::v3::Filter filter;
  filter.set_name("envoy.filters.network.tcp_proxy");
  filter.mutable_typed_config()->PackFrom(proxy);
  return filter;
}

}  // namespace monomesh::pilot::xds
