#include "pilot/push_context.h"

#include "config/schema.h"
#include "pilot/model/hostname.h"

namespace monomesh::pilot {

namespace {

const config::Schema* networkingKind(const char* kind) {
  return config::SchemaRegistry::builtin().find("networking.istio.io/v1alpha3", kind);
}

Visibility visibilityOf(const google::protobuf::RepeatedPtrField<std::string>& export_to) {
  return !export_to.empty() && export_to[0] == "." ? Visibility::Private : Visibility::Public;
}

const std::vector<Endpoint> kNoEndpoints;

}  // namespace

std::shared_ptr<const PushContext> PushContext::build(std::shared_ptr<const config::StoreSnapshot> snapshot,
                                                      const Options& options, uint64_t version) {
  auto push = std::make_shared<PushContext>();
  push->options_ = options;
  push->version_ = version;
  push->store_version_ = snapshot->version();
  push->registry_ = aggregateRegistries(*snapshot, options.registry);
  push->indexConfig(*snapshot);
  for (const auto& service : push->registry_.services)
    for (const auto& e : push->endpoints(service->hostname)) push->instances_by_ip_.emplace(e.address, std::make_pair(service.get(), &e));
  push->store_ = std::move(snapshot);
  return push;
}

void PushContext::indexConfig(const config::StoreSnapshot& snapshot) {
  const auto& domain = options_.registry.domain;
  std::map<std::pair<std::string, std::string>, std::string> vs_hosts;  // (gateway, host) -> first rule
  for (const auto& r : snapshot.list(networkingKind("VirtualService"))) {
    VirtualServiceEntry e;
    e.resource = r;
    e.spec = &r->as<networking::VirtualService>();
    for (const auto& h : e.spec->hosts()) e.hosts.push_back(resolveShortName(h, r->meta.namespace_, domain));
    for (const auto& g : e.spec->gateways()) e.gateways.push_back(gatewayReference(g, r->meta.namespace_));
    if (e.gateways.empty()) e.gateways.push_back("mesh");
    e.visibility = visibilityOf(e.spec->export_to());
    for (const auto& g : e.gateways)
      for (const auto& h : e.hosts) {
        auto [it, fresh] = vs_hosts.emplace(std::make_pair(g, h), r->key().str());
        if (!fresh)
          conflicts_.push_back({"duplicate VirtualService host", h + " for gateway " + g + " in " + it->second + " and " +
                                                                     r->key().str() + "; the first is used"});
      }
    virtual_services_.push_back(std::move(e));
  }
  for (const auto& r : snapshot.list(networkingKind("DestinationRule"))) {
    DestinationRuleEntry e;
    e.resource = r;
    e.spec = &r->as<networking::DestinationRule>();
    e.host = resolveShortName(e.spec->host(), r->meta.namespace_, domain);
    e.visibility = visibilityOf(e.spec->export_to());
    destination_rules_.push_back(std::move(e));
  }
  for (const auto& dr : destination_rules_) {
    local_rules_[dr.resource->meta.namespace_].add(dr.host, &dr, *status_);
    if (dr.visibility == Visibility::Public) exported_rules_.add(dr.host, &dr, *status_);
  }
  for (const auto& vs : virtual_services_) {
    for (const auto& http : vs.spec->http())
      for (const auto& m : http.match()) source_labels_used_ = source_labels_used_ || !m.source_labels().empty();
    for (const auto& tcp : vs.spec->tcp())
      for (const auto& m : tcp.match()) source_labels_used_ = source_labels_used_ || !m.source_labels().empty();
    for (const auto& tls : vs.spec->tls())
      for (const auto& m : tls.match()) source_labels_used_ = source_labels_used_ || !m.source_labels().empty();
  }
  for (const auto& r : snapshot.list(networkingKind("Gateway")))
    gateways_.push_back(GatewayEntry{r, &r->as<networking::Gateway>(), r->meta.namespace_ + "/" + r->meta.name});
  sidecars_ = snapshot.list(networkingKind("Sidecar"));
}

const std::vector<Endpoint>& PushContext::endpoints(std::string_view host) const {
  auto it = registry_.endpoints.find(host);
  return it == registry_.endpoints.end() ? kNoEndpoints : it->second;
}

bool PushContext::visibleFrom(const Service& service, std::string_view namespace_) const {
  return service.visibility == Visibility::Public || service.namespace_ == namespace_;
}

const Workload* PushContext::workload(const ProxyNode& proxy) const {
  for (const auto& ip : proxy.ips)
    if (auto it = registry_.workloads.find(ip); it != registry_.workloads.end()) return &it->second;
  return nullptr;
}

Labels PushContext::proxyLabels(const ProxyNode& proxy) const {
  if (const auto* w = workload(proxy)) return w->labels;
  return proxy.metadata_labels;
}

std::vector<std::pair<const Service*, const Endpoint*>> PushContext::serviceInstances(const ProxyNode& proxy) const {
  std::vector<std::pair<const Service*, const Endpoint*>> out;
  for (const auto& ip : proxy.ips) {
    auto [from, to] = instances_by_ip_.equal_range(ip);
    for (auto it = from; it != to; ++it) out.push_back(it->second);
  }
  return out;
}

config::ResourcePtr PushContext::sidecarFor(const ProxyNode& proxy, const Labels& labels) const {
  // A Sidecar selecting this workload, else the namespace's default, else the root namespace's.
  config::ResourcePtr namespace_default, root_default;
  const auto& root = options_.mesh.root_namespace();
  for (const auto& r : sidecars_) {
    const auto& spec = r->as<networking::Sidecar>();
    bool has_selector = spec.has_workload_selector() && !spec.workload_selector().labels().empty();
    if (r->meta.namespace_ == proxy.namespace_) {
      if (has_selector && labelsMatch(Labels(spec.workload_selector().labels().begin(), spec.workload_selector().labels().end()), labels))
        return r;
      if (!has_selector && !namespace_default) namespace_default = r;
    } else if (r->meta.namespace_ == root && !has_selector && !root_default) {
      root_default = r;
    }
  }
  return namespace_default ? namespace_default : root_default;
}

SidecarScope PushContext::sidecarScope(const ProxyNode& proxy, const Labels& labels) const {
  SidecarScope scope;
  scope.sidecar = sidecarFor(proxy, labels);
  for (const auto& service : registry_.services) {
    if (!visibleFrom(*service, proxy.namespace_)) continue;
    if (!scope.sidecar) {
      scope.services.push_back(service.get());
      continue;
    }
    bool admitted = false;
    for (const auto& egress : scope.sidecar->as<networking::Sidecar>().egress()) {
      for (const auto& text : egress.hosts()) {
        auto scoped = parseScopedHost(text);
        std::string ns = scoped.namespace_ == "." ? scope.sidecar->meta.namespace_ : scoped.namespace_;
        if ((ns == "*" || ns == service->namespace_) && hostMatches(scoped.host, service->hostname)) admitted = true;
      }
    }
    if (admitted) scope.services.push_back(service.get());
  }
  return scope;
}

std::vector<const VirtualServiceEntry*> PushContext::virtualServices(std::string_view gateway,
                                                                     std::string_view namespace_) const {
  std::vector<const VirtualServiceEntry*> out;
  for (const auto& vs : virtual_services_) {
    if (vs.visibility == Visibility::Private && vs.resource->meta.namespace_ != namespace_) continue;
    for (const auto& g : vs.gateways)
      if (g == gateway) {
        out.push_back(&vs);
        break;
      }
  }
  return out;
}

const DestinationRuleEntry* PushContext::destinationRule(std::string_view proxy_namespace, std::string_view host) const {
  if (auto it = local_rules_.find(proxy_namespace); it != local_rules_.end())
    if (const auto* rule = it->second.find(host)) return rule;
  return exported_rules_.find(host);
}

void PushContext::RuleIndex::add(const std::string& host, const DestinationRuleEntry* rule, PushStatus& status) {
  size_t same = hosts.size();
  if (!host.empty() && host.front() == '*') {
    for (size_t i : wildcards)
      if (hosts[i] == host) same = i;
  } else if (auto it = exact.find(host); it != exact.end()) {
    same = it->second;
  }
  if (same == hosts.size()) {
    hosts.push_back(host);
    rules.push_back(rule);
    merged_spec.push_back(nullptr);
    if (!host.empty() && host.front() == '*') wildcards.push_back(same);
    else exact.try_emplace(std::string_view(rule->host), same);  // the entry's string outlives the index
    return;
  }
  if (merged_spec[same] == nullptr) {  // the first merge: a copy the later rules go into
    merged_spec[same] = &merged_specs.emplace_back(*rules[same]->spec);
    auto& entry = merged.emplace_back(*rules[same]);
    entry.spec = merged_spec[same];
    rules[same] = &entry;
  }
  auto& into = *merged_spec[same];
  for (const auto& subset : rule->spec->subsets()) {
    bool taken = false;
    for (const auto& have : into.subsets()) taken = taken || have.name() == subset.name();
    if (!taken) *into.add_subsets() = subset;
    else
      status.add(PushMetric::DestruleSubsets, host, "",
                 "Duplicate subset " + subset.name() + " found while merging destination rules for " + host + " (" +
                     rule->resource->key().str() + " is merged into " + rules[same]->resource->key().str() +
                     "; the first definition is used)");
  }
  if (!into.has_traffic_policy() && rule->spec->has_traffic_policy())
    *into.mutable_traffic_policy() = rule->spec->traffic_policy();
}

const DestinationRuleEntry* PushContext::RuleIndex::find(std::string_view host) const {
  if (auto it = exact.find(host); it != exact.end()) return rules[it->second];
  const DestinationRuleEntry* best = nullptr;
  size_t best_size = 0;
  for (size_t i : wildcards)
    if (hostMatches(hosts[i], host) && (best == nullptr || hosts[i].size() > best_size)) {
      best = rules[i];
      best_size = hosts[i].size();
    }
  return best;
}

std::vector<const GatewayEntry*> PushContext::gateways(const Labels& labels) const {
  std::vector<const GatewayEntry*> out;
  for (const auto& g : gateways_)
    if (labelsMatch(Labels(g.spec->selector().begin(), g.spec->selector().end()), labels)) out.push_back(&g);
  return out;
}

}  // namespace monomesh::pilot
