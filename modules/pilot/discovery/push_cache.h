// Resources that many proxies share, built and packed once per push instead of once per proxy:
// Sidecar scopes by outboundKey (namespace, Sidecar), a service's outbound clusters by the
// DestinationRule that applies, route configurations by routeConfigurationKey, cluster load
// assignments by loadAssignmentKey. The keys name every input that differs between proxies, so a
// cached answer is the one the proxy's own build gives. A new push starts an empty cache; the
// discovery server uses it on its one control context and drops it when idle.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pilot/push_context.h"
#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot {

// One packed resource, its name, and the hash of its bytes (for the version stamp).
struct PackedResource {
  google::protobuf::Any any;
  std::string name;
  size_t hash = 0;
};

class PushCache {
 public:
  explicit PushCache(std::shared_ptr<const PushContext> push) : push_(std::move(push)) {}
  const std::shared_ptr<const PushContext>& push() const { return push_; }

  // The view of `proxy`, its Sidecar scope shared with every proxy of the same outbound key.
  std::unique_ptr<xds::ProxyView> view(const ProxyNode& proxy);
  // The outbound clusters of `view`, in buildOutboundClusters' order.
  std::vector<const PackedResource*> outboundClusters(const xds::ProxyView& view);
  // Null when the builder has nothing of that name.
  const PackedResource* loadAssignment(const xds::ProxyView& view, std::string_view cluster_name);
  const PackedResource* routeConfiguration(const xds::ProxyView& view, std::string_view name);

  template <class Message>
  static PackedResource pack(const Message& m, std::string name) {
    PackedResource p;
    p.any.PackFrom(m);
    p.name = std::move(name);
    p.hash = std::hash<std::string>{}(p.any.value());
    return p;
  }

 private:
  std::shared_ptr<const PushContext> push_;
  std::unordered_map<std::string, SidecarScope> scopes_;
  std::map<std::pair<const Service*, const DestinationRuleEntry*>, std::vector<PackedResource>> clusters_;
  std::unordered_map<std::string, std::optional<PackedResource>> assignments_;
  std::unordered_map<std::string, std::optional<PackedResource>> routes_;
  std::optional<PackedResource> uncached_;  // a route configuration that is not shared
};

}  // namespace monomesh::pilot
