// The PushContext: everything one push generates xDS from, built once per (debounced) change and
// never modified after — the registries' services and endpoints, and Istio's config indexed the
// way the builders look it up: VirtualServices by gateway, DestinationRules by host with 1.1's
// lookup order, Gateways by selector, Sidecar scopes, and exportTo visibility.
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/store.h"
#include "istio/mesh/v1alpha1/config.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/gateway.pb.h"
#include "istio/networking/v1alpha3/sidecar.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "pilot/model/proxy_node.h"
#include "pilot/push_status.h"
#include "pilot/registry/service_registry.h"

namespace monomesh::pilot {

namespace networking = istio::networking::v1alpha3;

struct VirtualServiceEntry {
  config::ResourcePtr resource;
  const networking::VirtualService* spec = nullptr;
  std::vector<std::string> hosts;     // fully qualified against the rule's namespace
  std::vector<std::string> gateways;  // "mesh" or "namespace/name"
  Visibility visibility = Visibility::Public;
};

struct DestinationRuleEntry {
  config::ResourcePtr resource;
  const networking::DestinationRule* spec = nullptr;
  std::string host;  // fully qualified
  Visibility visibility = Visibility::Public;
};

struct GatewayEntry {
  config::ResourcePtr resource;
  const networking::Gateway* spec = nullptr;
  std::string name;  // "namespace/name"
};

// What one proxy sees: its Sidecar resource (if any), the services its egress listeners admit,
// and which VirtualServices apply to it.
struct SidecarScope {
  config::ResourcePtr sidecar;  // null: the mesh default (every visible service)
  std::vector<const Service*> services;
};

struct PushConflict {
  std::string kind;  // "duplicate VirtualService host", ...
  std::string detail;
};

class PushContext {
 public:
  struct Options {
    RegistryOptions registry;
    istio::mesh::v1alpha1::MeshConfig mesh;
  };

  static std::shared_ptr<const PushContext> build(std::shared_ptr<const config::StoreSnapshot> snapshot, const Options& options,
                                                  uint64_t version);

  uint64_t version() const { return version_; }
  uint64_t storeVersion() const { return store_version_; }
  const istio::mesh::v1alpha1::MeshConfig& mesh() const { return options_.mesh; }
  const RegistryOptions& registryOptions() const { return options_.registry; }
  const RegistryContent& registry() const { return registry_; }
  const std::vector<PushConflict>& conflicts() const { return conflicts_; }
  // What the builders report while this push is served (conflicts, clusters without endpoints):
  // the one part of a push that fills in after it is built, as proxies are served.
  PushStatus& status() const { return *status_; }
  std::shared_ptr<const PushStatus> sharedStatus() const { return status_; }
  const config::StoreSnapshot& store() const { return *store_; }

  const Service* service(std::string_view host) const { return registry_.service(host); }
  const std::vector<Endpoint>& endpoints(std::string_view host) const;
  bool visibleFrom(const Service& service, std::string_view namespace_) const;

  // The workload a proxy runs as (by its IPs), if the registry knows it.
  const Workload* workload(const ProxyNode& proxy) const;
  // The proxy's labels: its pod's, else what it declared.
  Labels proxyLabels(const ProxyNode& proxy) const;
  // Service ports the proxy's workload serves (its inbound side): the service and endpoint.
  std::vector<std::pair<const Service*, const Endpoint*>> serviceInstances(const ProxyNode& proxy) const;

  SidecarScope sidecarScope(const ProxyNode& proxy, const Labels& labels) const;
  // The Sidecar resource that applies (the first of sidecarScope's steps); null: the mesh default.
  config::ResourcePtr sidecarFor(const ProxyNode& proxy, const Labels& labels) const;
  // Whether any VirtualService match names sourceLabels: only then do a sidecar's routes depend on
  // its own labels.
  bool sourceLabelsUsed() const { return source_labels_used_; }
  // VirtualServices bound to `gateway` ("mesh" or "namespace/name") visible from `namespace_`.
  std::vector<const VirtualServiceEntry*> virtualServices(std::string_view gateway, std::string_view namespace_) const;
  // 1.1's lookup: the proxy's namespace first, then rules exported to every namespace.
  const DestinationRuleEntry* destinationRule(std::string_view proxy_namespace, std::string_view host) const;
  // Gateways whose selector matches the router's labels.
  std::vector<const GatewayEntry*> gateways(const Labels& labels) const;
  const std::vector<GatewayEntry>& allGateways() const { return gateways_; }
  const std::vector<VirtualServiceEntry>& allVirtualServices() const { return virtual_services_; }
  const std::vector<DestinationRuleEntry>& allDestinationRules() const { return destination_rules_; }

 private:
  void indexConfig(const config::StoreSnapshot& snapshot);
  Options options_;
  uint64_t version_ = 0;
  uint64_t store_version_ = 0;
  std::shared_ptr<const config::StoreSnapshot> store_;
  RegistryContent registry_;
  std::vector<VirtualServiceEntry> virtual_services_;
  std::vector<DestinationRuleEntry> destination_rules_;
  std::vector<GatewayEntry> gateways_;
  std::vector<config::ResourcePtr> sidecars_;
  // Endpoints by IP (a proxy's inbound side) and DestinationRules in lookup order.
  std::multimap<std::string, std::pair<const Service*, const Endpoint*>, std::less<>> instances_by_ip_;
  // 1.1's most specific match: an exact host by hash, else the longest wildcard host, scanned
  // (few rules use wildcards); the same answer as mostSpecificMatch. Rules for the same host merge
  // as in 1.1: the first keeps its traffic policy (or takes a later one's when it has none) and
  // gains the later ones' subsets; a subset name it already has is dropped and reported
  // (pilot_destrule_subsets).
  struct RuleIndex {
    std::vector<std::string> hosts;
    std::vector<const DestinationRuleEntry*> rules;
    std::vector<networking::DestinationRule*> merged_spec;  // rules[i]'s own merged copy, else null
    std::unordered_map<std::string_view, size_t> exact;  // host -> index
    std::vector<size_t> wildcards;
    std::deque<DestinationRuleEntry> merged;  // deques: entries point into them
    std::deque<networking::DestinationRule> merged_specs;
    void add(const std::string& host, const DestinationRuleEntry* rule, PushStatus& status);
    const DestinationRuleEntry* find(std::string_view host) const;
  };
  std::map<std::string, RuleIndex, std::less<>> local_rules_;  // by namespace
  RuleIndex exported_rules_;
  std::vector<PushConflict> conflicts_;
  std::shared_ptr<PushStatus> status_ = std::make_shared<PushStatus>();
  bool source_labels_used_ = false;
};

}  // namespace monomesh::pilot
