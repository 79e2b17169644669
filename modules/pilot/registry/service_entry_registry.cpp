// The ServiceEntry registry: one service per host of each ServiceEntry.
#include "config/schema.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "pilot/model/hostname.h"
#include "pilot/registry/service_registry.h"

namespace monomesh::pilot {

namespace net = istio::networking::v1alpha3;

void collectServiceEntries(const config::StoreSnapshot& snapshot, const RegistryOptions& options, RegistryContent& out) {
  const auto* schema = config::SchemaRegistry::builtin().find("networking.istio.io/v1alpha3", "ServiceEntry");
  for (const auto& r : snapshot.list(schema)) {
    const auto& se = r->as<net::ServiceEntry>();
    for (const auto& host_text : se.hosts()) {
      auto s = std::make_shared<Service>();
      s->hostname = resolveShortName(host_text, r->meta.namespace_, options.domain);
      s->namespace_ = r->meta.namespace_;
      s->registry = "External";
      s->cluster_id = r->cluster_id;
      // A CIDR address range is kept as written; listeners match it as a prefix.
      if (!se.addresses().empty()) s->address = se.addresses(0);
      s->mesh_external = se.location() == net::ServiceEntry::MESH_EXTERNAL;
      switch (se.resolution()) {
        case net::ServiceEntry::NONE: s->resolution = Resolution::Passthrough; break;
        case net::ServiceEntry::STATIC: s->resolution = Resolution::ClientSideLB; break;
        case net::ServiceEntry::DNS: s->resolution = Resolution::DnsLB; break;
        default: break;
      }
      for (const auto& p : se.ports()) s->ports.push_back(ServicePort{p.name(), p.number(), parseProtocol(p.protocol())});
      if (!se.export_to().empty() && se.export_to(0) == ".") s->visibility = Visibility::Private;
      s->service_accounts.assign(se.subject_alt_names().begin(), se.subject_alt_names().end());
      auto& endpoints = out.endpoints[s->hostname];
      for (const auto& ep : se.endpoints()) {
        for (const auto& p : s->ports) {
          Endpoint e;
          e.address = ep.address();
          auto mapped = ep.ports().find(p.name);
          e.port = mapped == ep.ports().end() ? p.port : mapped->second;
          e.service_port = p.port;
          e.labels = Labels(ep.labels().begin(), ep.labels().end());
          e.network = ep.network();
          e.locality = ep.locality();
          e.weight = ep.weight();
          e.cluster_id = r->cluster_id;
          endpoints.push_back(std::move(e));
        }
      }
      // DNS resolution without endpoints resolves the host itself.
      if (s->resolution == Resolution::DnsLB && se.endpoints().empty() && s->hostname.front() != '*') {
        for (const auto& p : s->ports) {
          Endpoint e;
          e.address = s->hostname;
          e.port = p.port;
          e.service_port = p.port;
          e.cluster_id = r->cluster_id;
          endpoints.push_back(std::move(e));
        }
      }
      out.services.push_back(std::move(s));
    }
  }
}

}  // namespace monomesh::pilot
