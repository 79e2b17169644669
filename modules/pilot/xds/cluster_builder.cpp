// CDS: what Istio 1.1's Pilot generated for a proxy's clusters.
#include <set>

#include "pilot/xds/naming.h"
#include "pilot/xds/traffic_policy.h"
#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot::xds {

namespace cv3 = envoy::config::cluster::v3;

namespace {

void setConnectTimeout(const PushContext& push, cv3::Cluster& c) {
  if (push.mesh().has_connect_timeout()) *c.mutable_connect_timeout() = push.mesh().connect_timeout();
  else c.mutable_connect_timeout()->set_seconds(10);
}

void addSocketEndpoint(envoy::config::endpoint::v3::LocalityLbEndpoints* locality, const std::string& address,
                       uint32_t port) {
  auto* sa = locality->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
  sa->set_address(address);
  sa->set_port_value(port);
}

cv3::Cluster outboundCluster(const ProxyView& view, const Service& service, const ServicePort& port,
                             const std::string& subset_name, const networking::DestinationRule* rule,
                             const networking::Subset* subset) {
  cv3::Cluster c;
  c.set_name(clusterName(Direction::Outbound, port.port, subset_name, service.hostname));
  setConnectTimeout(view.push, c);
  switch (service.resolution) {
    case Resolution::ClientSideLB:
      c.set_type(cv3::Cluster::EDS);
      c.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
      c.mutable_eds_cluster_config()->set_service_name(c.name());
      // `distribute` reaches the proxy as locality load_balancing_weights, which Envoy (and our
      // proxy) only honour with locality-weighted balancing on.
      if (localityLbEnabled(view.push) && view.push.mesh().locality_lb_setting().distribute_size() > 0)
        c.mutable_common_lb_config()->mutable_locality_weighted_lb_config();
      break;
    case Resolution::DnsLB: {
      c.set_type(cv3::Cluster::STRICT_DNS);
      c.set_dns_lookup_family(cv3::Cluster::V4_ONLY);
      if (view.push.mesh().has_dns_refresh_rate()) *c.mutable_dns_refresh_rate() = view.push.mesh().dns_refresh_rate();
      auto* assignment = c.mutable_load_assignment();
      assignment->set_cluster_name(c.name());
      auto* locality = assignment->add_endpoints();
      Labels selector;
      if (subset != nullptr) selector = Labels(subset->labels().begin(), subset->labels().end());
      for (const auto& e : view.push.endpoints(service.hostname))
        if (e.service_port == port.port && labelsMatch(selector, e.labels)) addSocketEndpoint(locality, e.address, e.port);
      break;
    }
    case Resolution::Passthrough:
      c.set_type(cv3::Cluster::ORIGINAL_DST);
      c.set_lb_policy(cv3::Cluster::CLUSTER_PROVIDED);
      break;
  }
  if (isHttp2(port.protocol)) c.mutable_http2_protocol_options()->mutable_max_concurrent_streams()->set_value(1073741824);
  auto policy = effectivePolicy(rule, subset, port.port);
  // Mesh-wide mutual TLS (MeshConfig authPolicy MUTUAL_TLS) applies where no rule chose TLS.
  // (authPolicy is deprecated in 1.1's API in favour of authn Policy, but 1.1 still honours it.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  bool mesh_mtls = view.push.mesh().auth_policy() == istio::mesh::v1alpha1::MeshConfig::MUTUAL_TLS;
#pragma GCC diagnostic pop
  if (!policy.has_tls() && !service.mesh_external && mesh_mtls)
    policy.mutable_tls()->set_mode(networking::TLSSettings::ISTIO_MUTUAL);
  applyTrafficPolicy(policy, service, sniClusterName(port.port, subset_name, service.hostname), c);
  return c;
}

// Another registry's service for the same host (1.1: service entries with the same hostname) would
// have had clusters of the same names: the registry kept the first, the others are reported here,
// where 1.1 found the duplicate names.
void reportShadowedServices(const ProxyView& view, const Service& service, const std::set<std::string>& names) {
  auto it = view.push.registry().shadowed.find(service.hostname);
  if (it == view.push.registry().shadowed.end()) return;
  for (const auto& other : it->second)
    for (const auto& port : other->ports) {
      // "outbound|9080|": the clusters of that port, every subset.
      auto prefix = "outbound|" + std::to_string(port.port) + "|";
      for (auto name = names.lower_bound(prefix); name != names.end() && name->starts_with(prefix); ++name)
        view.push.status().add(PushMetric::DuplicateClusters, *name, view.proxy.node_id,
                               "Duplicate cluster " + *name + " found while pushing CDS: " + service.hostname +
                                   " is defined by " + service.registry + " in namespace " + service.namespace_ +
                                   " and again by " + other->registry + " in namespace " + other->namespace_ +
                                   "; the first is used");
    }
}

void inboundClusters(const ProxyView& view, std::vector<cv3::Cluster>& out) {
  std::set<std::string> seen;
  for (const auto& in : view.inbound) {
    if (!seen.insert(in.cluster).second) continue;
    cv3::Cluster c;
    c.set_name(in.cluster);
    c.set_type(cv3::Cluster::STATIC);
    setConnectTimeout(view.push, c);
    auto* assignment = c.mutable_load_assignment();
    assignment->set_cluster_name(c.name());
    addSocketEndpoint(assignment->add_endpoints(), in.endpoint_ip, in.endpoint_port);
    if (isHttp2(in.protocol)) c.mutable_http2_protocol_options()->mutable_max_concurrent_streams()->set_value(1073741824);
    out.push_back(std::move(c));
  }
}

}  // namespace

std::vector<cv3::Cluster> buildClusters(const ProxyView& view) {
  auto out = buildOutboundClusters(view);
  auto local = buildLocalClusters(view);
  out.insert(out.end(), std::make_move_iterator(local.begin()), std::make_move_iterator(local.end()));
  return out;
}

std::vector<cv3::Cluster> buildOutboundClusters(const ProxyView& view) {
  std::vector<cv3::Cluster> out;
  for (const Service* service : view.scope.services) {
    auto clusters = buildServiceClusters(view, *service, view.push.destinationRule(view.proxy.namespace_, service->hostname));
    out.insert(out.end(), std::make_move_iterator(clusters.begin()), std::make_move_iterator(clusters.end()));
  }
  return out;
}

std::vector<cv3::Cluster> buildServiceClusters(const ProxyView& view, const Service& service,
                                               const DestinationRuleEntry* entry) {
  std::vector<cv3::Cluster> out;
  const networking::DestinationRule* rule = entry != nullptr ? entry->spec : nullptr;
  std::set<std::string> names;
  for (const auto& port : service.ports) {
    if (port.protocol == Protocol::UDP) continue;
    out.push_back(outboundCluster(view, service, port, "", rule, nullptr));
    names.insert(out.back().name());
    if (rule == nullptr) continue;
    for (const auto& subset : rule->subsets()) {
      // Two subsets of one name (1.1 accepted such a rule) make one cluster name twice: the first stays.
      auto name = clusterName(Direction::Outbound, port.port, subset.name(), service.hostname);
      if (!names.insert(name).second) {
        view.push.status().add(PushMetric::DuplicateClusters, name, view.proxy.node_id,
                               "Duplicate cluster " + name + " found while pushing CDS: subset " + subset.name() +
                                   " is defined twice in " + entry->resource->key().str() + "; the first is used");
        continue;
      }
      out.push_back(outboundCluster(view, service, port, subset.name(), rule, &subset));
    }
  }
  reportShadowedServices(view, service, names);
  return out;
}

std::vector<cv3::Cluster> buildLocalClusters(const ProxyView& view) {
  std::vector<cv3::Cluster> out;
  if (!view.isRouter()) inboundClusters(view, out);
  cv3::Cluster blackhole;
  blackhole.set_name(std::string(kBlackHoleCluster));
  blackhole.set_type(cv3::Cluster::STATIC);
  setConnectTimeout(view.push, blackhole);
  blackhole.mutable_load_assignment()->set_cluster_name(blackhole.name());
  out.push_back(std::move(blackhole));
  cv3::Cluster passthrough;
  passthrough.set_name(std::string(kPassthroughCluster));
  passthrough.set_type(cv3::Cluster::ORIGINAL_DST);
  passthrough.set_lb_policy(cv3::Cluster::CLUSTER_PROVIDED);
  setConnectTimeout(view.push, passthrough);
  out.push_back(std::move(passthrough));
  return out;
}

}  // namespace monomesh::pilot::xds
