#include "config/kube/kube_object.h"

#include "config/yaml_proto_reader.h"

namespace monomesh::config::kube {

namespace {

std::string scalar(yaml::Node map, std::string_view key) { return std::string(map.find(key).scalar()); }

}  // namespace

std::string collectionPath(const Schema& schema) {
  if (schema.group.empty()) return "/api/" + schema.version + "/" + schema.plural;
  return "/apis/" + schema.group + "/" + schema.version + "/" + schema.plural;
}

KubeObject convertObject(yaml::Node object, const Schema& schema, const LoadOptions& options, const std::string& origin) {
  KubeObject out;
  auto error = [&](const std::string& path, const std::string& message) {
    SourcePosition position{origin, object.line(), object.column()};
    std::string subject = schema.kind + (out.name.empty() ? "" : " " + (out.namespace_.empty() ? "" : out.namespace_ + "/") + out.name);
    out.errors.push_back(ConfigError{position, subject, path, message});
  };
  if (!object.isMapping()) {
    error("", "expected an object, got " + describeNode(object));
    return out;
  }
  yaml::Node metadata = object.find("metadata");
  out.name = scalar(metadata, "name");
  out.namespace_ = schema.namespaced() ? scalar(metadata, "namespace") : "";
  out.resource_version = scalar(metadata, "resourceVersion");
  std::string api_version = scalar(object, "apiVersion"), kind = scalar(object, "kind");
  if ((!api_version.empty() && api_version != schema.apiVersion()) || (!kind.empty() && kind != schema.kind)) {
    error("kind", "expected " + schema.apiVersion() + " " + schema.kind + ", got " +
                      (api_version.empty() ? "?" : api_version) + " " + (kind.empty() ? "?" : kind));
    return out;
  }
  LoadResult loaded = loadNode(object, origin, options, &schema);
  if (!loaded.ok()) {
    out.errors = std::move(loaded.errors);
  } else if (loaded.resources.size() != 1) {
    error("", "not an object the mesh reads");
  } else {
    out.resource = std::move(loaded.resources.front());
  }
  return out;
}

}  // namespace monomesh::config::kube
