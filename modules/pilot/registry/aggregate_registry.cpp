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
  auto kept = out.services.begin();
  for (auto it = out.services.begin(); it != out.services.end(); ++it) {
    if (it != out.services.begin() && (*it)->hostname == (*(kept - 1))->hostname) {
      out.shadowed[(*it)->hostname].push_back(std::move(*it));
      continue;
    }
    if (kept != it) *kept = std::move(*it);
    ++kept;
  }
  out.services.erase(kept, out.services.end());
  if (options.networks && !options.networks->empty())
    for (auto& [host, endpoints] : out.endpoints)
      for (auto& e : endpoints)
        if (e.network.empty()) e.network = options.networks->networkOf(e.cluster_id, e.address);
  return out;
}

}  // namespace monomesh::pilot
