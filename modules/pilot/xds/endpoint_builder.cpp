// EDS: a cluster's endpoints, grouped by locality. With locality load balancing on (MeshConfig
// localityLbSetting, or PILOT_ENABLE_LOCALITY_LOAD_BALANCING), localities get priorities by how
// close they are to the proxy (same zone and sub-zone 0, same zone 1, same region 2, else 3), so
// Envoy fails over outward; `distribute` rules set locality weights instead. With mesh networks
// (--networksConfig) EDS is split-horizon, as 1.1's: a proxy gets the endpoints of its own network
// (node metadata NETWORK) and, for each other network, that network's gateways weighted by the
// number of endpoints they stand for; a network without gateways cannot be reached from outside.
#include <cstdint>
#include <cstdlib>
#include <map>

#include "pilot/xds/naming.h"
#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot::xds {

namespace ev3 = envoy::config::endpoint::v3;

namespace {

struct LocalityParts {
  std::string region, zone, sub_zone;
};

LocalityParts splitLocality(const std::string& text) {
  LocalityParts p;
  auto first = text.find('/');
  p.region = text.substr(0, first);
  if (first == std::string::npos) return p;
  auto second = text.find('/', first + 1);
  p.zone = text.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
  if (second != std::string::npos) p.sub_zone = text.substr(second + 1);
  return p;
}

uint32_t proximityPriority(const LocalityParts& proxy, const LocalityParts& endpoint) {
  if (proxy.region != endpoint.region) return 3;
  if (proxy.zone != endpoint.zone) return 2;
  if (proxy.sub_zone != endpoint.sub_zone) return 1;
  return 0;
}

// The mesh networks when EDS is split by network (some are configured), else null.
const MeshNetworks* splitHorizon(const PushContext& push) {
  const auto& networks = push.registryOptions().networks;
  return networks && !networks->empty() ? networks.get() : nullptr;
}

// Where one locality's endpoints are reached from the proxy's network: its own endpoints as they
// are, the others' through their networks' gateways.
struct Target {
  const std::string* address;
  uint32_t port;
  uint32_t weight;  // 0: unweighted
};

void addNetworkGateways(const PushContext& push, const MeshNetworks& networks, const std::string& network, uint32_t count,
                        std::vector<Target>& out) {
  const auto* gateways = networks.gateways(network);
  if (gateways == nullptr) return;  // endpoints of a network the file does not name: unreachable
  for (const auto& gateway : *gateways) {
    if (!gateway.address.empty()) {
      out.push_back(Target{&gateway.address, gateway.port, count});
      continue;
    }
    if (const Service* service = push.service(gateway.registry_service_name))
      for (const auto& address : service->external_addresses) out.push_back(Target{&address, gateway.port, count});
  }
}

std::vector<Target> targets(const ProxyView& view, const std::vector<const Endpoint*>& endpoints) {
  std::vector<Target> out;
  const MeshNetworks* networks = splitHorizon(view.push);
  std::map<std::string, uint32_t> remote;  // network -> endpoints there
  for (const Endpoint* e : endpoints) {
    if (networks == nullptr || e->network == view.proxy.network) out.push_back(Target{&e->address, e->port, e->weight});
    else remote[e->network]++;
  }
  for (const auto& [network, count] : remote) addNetworkGateways(view.push, *networks, network, count, out);
  return out;
}

// "region/zone/*" style patterns of localityLbSetting.
bool localityMatches(const std::string& pattern, const std::string& locality) {
  if (pattern == "*" || pattern == locality) return true;
  if (pattern.ends_with("/*")) return locality.starts_with(pattern.substr(0, pattern.size() - 1));
  return false;
}

}  // namespace

bool localityLbEnabled(const PushContext& push) {
  const char* env = std::getenv("PILOT_ENABLE_LOCALITY_LOAD_BALANCING");
  return push.mesh().has_locality_lb_setting() || (env != nullptr && std::string_view(env) != "0" && std::string_view(env) != "false");
}

// Keep in step with buildLoadAssignment: the proxy-dependent inputs are whether the service is
// visible from its namespace, the DestinationRule a subset comes from (the index's entry: merged
// rules are entries of their own), with locality load balancing the proxy's locality, and with
// mesh networks the proxy's network.
std::string loadAssignmentKey(const ProxyView& view, std::string_view cluster_name) {
  std::string key(cluster_name);
  auto parsed = parseClusterName(cluster_name);
  if (!parsed || parsed->direction != Direction::Outbound) return key;
  const Service* service = view.push.service(parsed->host);
  bool visible = service != nullptr && view.push.visibleFrom(*service, view.proxy.namespace_);
  key += visible ? "|v" : "|h";
  if (visible && !parsed->subset.empty()) {
    const auto* rule = view.push.destinationRule(view.proxy.namespace_, service->hostname);
    key += '|';
    if (rule != nullptr) key += std::to_string(reinterpret_cast<uintptr_t>(rule));
  }
  if (splitHorizon(view.push) != nullptr) {
    key += "|n=";
    key += view.proxy.network;
  }
  if (localityLbEnabled(view.push)) {
    key += "|@";
    if (!view.proxy.locality.empty()) key += view.proxy.locality;
    else if (const auto* w = view.push.workload(view.proxy)) key += w->locality;
  }
  return key;
}

std::optional<ev3::ClusterLoadAssignment> buildLoadAssignment(const ProxyView& view, std::string_view cluster_name) {
  auto key = parseClusterName(cluster_name);
  if (!key || key->direction != Direction::Outbound) return std::nullopt;
  const Service* service = view.push.service(key->host);
  ev3::ClusterLoadAssignment cla;
  cla.set_cluster_name(std::string(cluster_name));
  // An unknown service or one not visible here (EDS isolation) has no endpoints for this proxy.
  if (service == nullptr || !view.push.visibleFrom(*service, view.proxy.namespace_)) return cla;
  Labels selector;
  if (!key->subset.empty()) {
    const auto* rule = view.push.destinationRule(view.proxy.namespace_, service->hostname);
    if (rule == nullptr) return cla;  // a subset nobody defines selects nothing
    bool found = false;
    for (const auto& s : rule->spec->subsets())
      if (s.name() == key->subset) {
        selector = Labels(s.labels().begin(), s.labels().end());
        found = true;
      }
    if (!found) return cla;
  }
  std::map<std::string, std::vector<const Endpoint*>> by_locality;
  for (const auto& e : view.push.endpoints(service->hostname))
    if (e.service_port == key->port && e.healthy && labelsMatch(selector, e.labels)) by_locality[e.locality].push_back(&e);
  if (by_locality.empty())
    view.push.status().add(PushMetric::EdsNoInstances, std::string(cluster_name), "",
                           "no endpoints of " + service->hostname + " port " + std::to_string(key->port) +
                               (key->subset.empty() ? "" : " subset " + key->subset));

  bool locality_lb = localityLbEnabled(view.push);
  std::string proxy_locality_text = view.proxy.locality;
  if (proxy_locality_text.empty())
    if (const auto* w = view.push.workload(view.proxy)) proxy_locality_text = w->locality;
  auto proxy_locality = splitLocality(proxy_locality_text);
  const auto& setting = view.push.mesh().locality_lb_setting();
  const istio::mesh::v1alpha1::LocalityLoadBalancerSetting::Distribute* distribute = nullptr;
  for (const auto& d : setting.distribute())
    if (localityMatches(d.from(), proxy_locality_text)) {
      distribute = &d;
      break;
    }
  for (const auto& [locality_text, endpoints] : by_locality) {
    auto reached = targets(view, endpoints);
    if (reached.empty()) continue;  // only endpoints of networks this proxy cannot reach
    auto* group = cla.add_endpoints();
    auto parts = splitLocality(locality_text);
    if (!locality_text.empty()) {
      group->mutable_locality()->set_region(parts.region);
      group->mutable_locality()->set_zone(parts.zone);
      group->mutable_locality()->set_sub_zone(parts.sub_zone);
    }
    uint32_t total = 0;
    for (const Target& t : reached) {
      auto* lb = group->add_lb_endpoints();
      auto* sa = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
      sa->set_address(*t.address);
      sa->set_port_value(t.port);
      uint32_t weight = t.weight > 0 ? t.weight : 1;
      if (t.weight > 0) lb->mutable_load_balancing_weight()->set_value(weight);
      total += weight;
    }
    group->mutable_load_balancing_weight()->set_value(total);
    if (!locality_lb) continue;
    if (distribute != nullptr) {
      uint32_t weight = 0;
      for (const auto& [pattern, percent] : distribute->to())
        if (localityMatches(pattern, locality_text)) weight = percent;
      group->mutable_load_balancing_weight()->set_value(weight);
    } else {
      group->set_priority(proximityPriority(proxy_locality, parts));
    }
  }
  if (locality_lb && distribute != nullptr)  // localities given no share get none
    for (int i = cla.endpoints_size() - 1; i >= 0; --i)
      if (cla.endpoints(i).load_balancing_weight().value() == 0) cla.mutable_endpoints()->DeleteSubrange(i, 1);
  return cla;
}

}  // namespace monomesh::pilot::xds
