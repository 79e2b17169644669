// The Kubernetes registry: Services, Endpoints, Pods and Nodes from the store.
#include "config/schema.h"
#include "k8s/api/core/v1/core.pb.h"
#include "pilot/registry/service_registry.h"

namespace monomesh::pilot {

namespace k8s = k8s::io::api::core::v1;

namespace {

const config::Schema* kind(const char* name) {
  return config::SchemaRegistry::builtin().find("v1", name);
}

std::string annotation(const config::Resource& r, const char* key) {
  auto it = r.meta.annotations.find(key);
  return it == r.meta.annotations.end() ? std::string() : it->second;
}

std::string label(const Labels& labels, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = labels.find(k);
    if (it != labels.end()) return it->second;
  }
  return {};
}

// region/zone from the node's well-known labels (the 1.1 beta names, and today's topology names).
std::string nodeLocality(const config::Resource& node) {
  auto region = label(node.meta.labels, {"failure-domain.beta.kubernetes.io/region", "topology.kubernetes.io/region"});
  auto zone = label(node.meta.labels, {"failure-domain.beta.kubernetes.io/zone", "topology.kubernetes.io/zone"});
  if (region.empty() && zone.empty()) return {};
  return zone.empty() ? region : region + "/" + zone;
}

void splitList(const std::string& text, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= text.size()) {
    auto at = text.find(',', start);
    auto item = text.substr(start, at == std::string::npos ? std::string::npos : at - start);
    if (!item.empty()) out.push_back(item);
    if (at == std::string::npos) break;
    start = at + 1;
  }
}

}  // namespace

std::string spiffeIdentity(const std::string& trust_domain, const std::string& namespace_, const std::string& service_account) {
  return "spiffe://" + trust_domain + "/ns/" + namespace_ + "/sa/" + service_account;
}

void collectKubernetes(const config::StoreSnapshot& snapshot, const RegistryOptions& options, RegistryContent& out) {
  std::map<std::string, std::string> node_locality;
  for (const auto& node : snapshot.list(kind("Node"))) node_locality[node->meta.name] = nodeLocality(*node);

  for (const auto& r : snapshot.list(kind("Pod"))) {
    const auto& pod = r->as<k8s::Pod>();
    if (pod.status().podip().empty()) continue;
    Workload w;
    w.name = r->meta.name;
    w.namespace_ = r->meta.namespace_;
    w.ip = pod.status().podip();
    w.labels = r->meta.labels;
    auto sa = pod.spec().serviceaccountname().empty() ? pod.spec().serviceaccount() : pod.spec().serviceaccountname();
    w.service_account = spiffeIdentity(options.trust_domain, w.namespace_, sa.empty() ? "default" : sa);
    if (auto it = node_locality.find(pod.spec().nodename()); it != node_locality.end()) w.locality = it->second;
    w.cluster_id = r->cluster_id;
    out.workloads[w.ip] = std::move(w);
  }

  std::map<std::pair<std::string, std::string>, std::shared_ptr<Service>> by_name;  // (ns, name)
  for (const auto& r : snapshot.list(kind("Service"))) {
    const auto& spec = r->as<k8s::Service>().spec();
    auto s = std::make_shared<Service>();
    s->hostname = r->meta.name + "." + r->meta.namespace_ + ".svc." + options.domain;
    s->namespace_ = r->meta.namespace_;
    s->registry = "Kubernetes";
    s->cluster_id = r->cluster_id;
    if (!spec.clusterip().empty() && spec.clusterip() != "None") s->address = spec.clusterip();
    if (spec.type() == "ExternalName") {
      s->resolution = Resolution::DnsLB;
      s->mesh_external = true;
    }
    for (const auto& ingress : r->as<k8s::Service>().status().loadbalancer().ingress())
      if (!ingress.ip().empty()) s->external_addresses.push_back(ingress.ip());
    if (s->external_addresses.empty()) s->external_addresses.assign(spec.externalips().begin(), spec.externalips().end());
    for (const auto& p : spec.ports()) {
      if (p.protocol() == "UDP") continue;  // Istio 1.1 does not proxy UDP
      s->ports.push_back(ServicePort{p.name(), uint32_t(p.port()), protocolFromPortName(p.name())});
    }
    if (annotation(*r, "networking.istio.io/exportTo") == ".") s->visibility = Visibility::Private;
    splitList(annotation(*r, "alpha.istio.io/kubernetes-serviceaccounts"), s->service_accounts);
    for (auto& sa : s->service_accounts) sa = spiffeIdentity(options.trust_domain, s->namespace_, sa);
    splitList(annotation(*r, "alpha.istio.io/canonical-serviceaccounts"), s->service_accounts);
    if (spec.type() == "ExternalName" && !spec.externalname().empty()) {
      for (const auto& p : s->ports) {
        Endpoint e;
        e.address = spec.externalname();
        e.port = p.port;
        e.service_port = p.port;
        e.cluster_id = r->cluster_id;
        out.endpoints[s->hostname].push_back(std::move(e));
      }
    }
    by_name[{r->meta.namespace_, r->meta.name}] = s;
  }

  for (const auto& r : snapshot.list(kind("Endpoints"))) {
    auto it = by_name.find({r->meta.namespace_, r->meta.name});
    if (it == by_name.end()) continue;
    const Service& service = *it->second;
    auto& endpoints = out.endpoints[service.hostname];
    for (const auto& subset : r->as<k8s::Endpoints>().subsets()) {
      for (const auto& port : subset.ports()) {
        // Endpoints ports carry the Service port's name; an unnamed single port matches the only one.
        const ServicePort* sp = service.portByName(port.name());
        if (sp == nullptr && service.ports.size() == 1 && port.name().empty()) sp = &service.ports.front();
        if (sp == nullptr) continue;
        for (const auto& address : subset.addresses()) {
          Endpoint e;
          e.address = address.ip();
          e.port = uint32_t(port.port());
          e.service_port = sp->port;
          e.cluster_id = r->cluster_id;
          if (auto w = out.workloads.find(address.ip()); w != out.workloads.end()) {
            e.labels = w->second.labels;
            e.service_account = w->second.service_account;
            e.locality = w->second.locality;
          } else if (auto loc = node_locality.find(address.nodename()); loc != node_locality.end()) {
            e.locality = loc->second;
          }
          endpoints.push_back(std::move(e));
        }
      }
    }
  }
  for (auto& [key, s] : by_name) out.services.push_back(std::move(s));
}

}  // namespace monomesh::pilot
