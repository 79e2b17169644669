// The schema registry: every kind of object the mesh reads (Istio 1.1's API groups and the
// Kubernetes core objects), each mapped to its protobuf message, plural, scope and MCP collection.
#pragma once
#include <google/protobuf/descriptor.h>
#include <string>
#include <string_view>
#include <vector>

namespace monomesh::config {

struct Resource;
namespace validation {
class Findings;
}
// A kind's semantic validation (config/validation/validators.h), as Istio's schemas carried theirs.
using ValidateFn = void (*)(const Resource& resource, validation::Findings& findings);

enum class Scope { Namespaced, Cluster };

// Where the message sits in the object: Istio kinds keep it under `spec`; Kubernetes objects
// (Service, Endpoints, ConfigMap...) are read whole, minus apiVersion, kind and metadata.
enum class Body { Spec, WholeObject };

struct Schema {
  std::string group;    // "networking.istio.io"; "" for Kubernetes core
  std::string version;  // "v1alpha3"
  std::string kind;     // "VirtualService"
  std::string plural;   // "virtualservices"
  Scope scope = Scope::Namespaced;
  Body body = Body::Spec;
  const google::protobuf::Descriptor* message = nullptr;
  bool strict = true;   // unknown fields are errors (Istio groups); skipped for Kubernetes objects
  bool typed = true;    // false: the spec is kept as a google.protobuf.Struct, not checked field by field
  std::string collection;  // MCP collection, "istio/networking/v1alpha3/virtualservices"
  ValidateFn validate = nullptr;  // Istio 1.1's rules for the kind; none for Kubernetes objects

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string typeUrl() const { return "type.googleapis.com/" + message->full_name(); }
  bool namespaced() const { return scope == Scope::Namespaced; }
};

class SchemaRegistry {
 public:
  explicit SchemaRegistry(std::vector<Schema> schemas);

  // Everything Monomesh reads: Istio 1.1's 53 kinds and the Kubernetes objects of the mesh.
  static const SchemaRegistry& builtin();

  const Schema* find(std::string_view api_version, std::string_view kind) const;
  const Schema* findByKind(std::string_view kind) const;  // first match, Istio groups first
  const Schema* findByCollection(std::string_view collection) const;
  const std::vector<Schema>& all() const { return schemas_; }

  // networking.istio.io, authentication.istio.io, rbac.istio.io, config.istio.io
  static bool isIstioGroup(std::string_view group);
  // The versions this registry knows for a group ("v1alpha3"), for error messages.
  std::vector<std::string> versionsOf(std::string_view group) const;

 private:
  std::vector<Schema> schemas_;
};

}  // namespace monomesh::config
