// One object as the Kubernetes API server returns it (a list item or a watch event's object),
// turned into a config::Resource by the loader that reads files, so the same typed messages come
// out: Istio kinds strictly, Kubernetes objects leniently. Also where each kind lives in the API.
#pragma once
#include <optional>
#include <string>
#include "config/loader.h"
#include "config/resource.h"

namespace monomesh::config::kube {

struct KubeObject {
  std::optional<Resource> resource;  // set when the object is valid
  std::string namespace_;            // as far as the metadata could be read, to report or delete it
  std::string name;
  std::string resource_version;
  ConfigErrors errors;  // why `resource` is empty

  bool hasKey() const { return !name.empty(); }
};

// The kind's cluster-wide collection: "/api/v1/services", "/apis/networking.istio.io/v1alpha3/virtualservices".
std::string collectionPath(const Schema& schema);

// Converts `object` (a JSON object parsed as YAML). List items of built-in kinds come without
// apiVersion and kind; they are taken from `schema`. A different apiVersion or kind is an
// error. `origin` names the source in error positions ("kube:Kubernetes/virtualservices").
KubeObject convertObject(yaml::Node object, const Schema& schema, const LoadOptions& options, const std::string& origin);

}  // namespace monomesh::config::kube
