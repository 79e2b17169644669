// One configuration object as the mesh holds it: its kind, Kubernetes-style metadata, the typed
// body (an immutable protobuf message shared by every snapshot that contains it), and where it
// was read from.
#pragma once
#include <google/protobuf/message.h>
#include <map>
#include <memory>
#include <string>

#include "config/schema.h"
#include "config/source_position.h"

namespace monomesh::config {

struct ObjectMeta {
  std::string name;
  std::string namespace_;  // empty for cluster-scoped kinds
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string resource_version;  // as given by the source (Kubernetes), else empty
  std::string uid;
  int64_t generation = 0;
  std::string creation_timestamp;

  bool operator==(const ObjectMeta&) const = default;
};

// (kind, namespace, name): what makes a resource unique in a store.
struct ResourceKey {
  const Schema* schema = nullptr;
  std::string namespace_;
  std::string name;

  auto operator<=>(const ResourceKey&) const = default;
  // "VirtualService default/reviews" or "MeshPolicy default"
  std::string str() const;
};

struct Resource {
  const Schema* schema = nullptr;
  ObjectMeta meta;
  std::shared_ptr<const google::protobuf::Message> body;
  SourcePosition origin;
  std::string cluster_id;  // the cluster (registry) it came from, for multicluster meshes
  uint64_t revision = 0;   // the store version that last wrote it

  ResourceKey key() const { return ResourceKey{schema, meta.namespace_, meta.name}; }

  template <class T>
  const T& as() const {
    return dynamic_cast<const T&>(*body);
  }

  // Same object content (metadata and body), ignoring origin and revision.
  bool sameContent(const Resource& other) const;
};

}  // namespace monomesh::config
