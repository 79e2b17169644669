// The aggregate of every registry: one service per host name, endpoints from every cluster.
#include <algorithm>

#include "pilot/registry/service_registry.h"

namespace monomesh::pilot {

const Service* RegistryContent::service(std::string_view host) const {
  auto it = std::lower_bound(services.begin(), services.end(), host,
                             [](const auto& s, std::string_view h) { return s->hostname < h; });
  return it != services.end() && (*it)->hostname == host ? it->get() : nullptr;
}

RegistryContent aggregateRegistries(const config::StoreSnapshot& snapshot, const RegistryOptions& options) {
  RegistryContent out;
  collectKubernetes(snapshot, options, out);
  collectServiceEntries(snapshot, options, out);
  // One service per host: Kubernetes first (it was collected first), then by namespace and name.
  std::stable_sort(out.services.begin(), out.services.end(),
                   [](const auto& a, const auto& b) { return a->hostname < b->hostname; });
  out.services.erase(std::unique(out.services.begin(), out.services.end(),
                                 [](const auto& a, const auto& b) { return a->hostname == b->hostname; }),
                     out.services.end());
  return out;
}

}  // namespace monomesh::pilot
