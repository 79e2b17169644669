#include "config/kube/kube_object.h"

#include <yaml-cpp/yaml.h>

#include "config/yaml_proto_reader.h"

namespace monomesh::config::kube {

namespace {

std::string scalar(const YAML::Node& map, const char* key) {
  if (!map.IsDefined() || !map.IsMap()) return "";  // IsMap throws on a missing node
  YAML::Node v = map[key];
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : "";
}

}  // namespace

std::string collectionPath(const Schema& schema) {
  if (schema.group.empty()) return "/api/" + schema.version + "/" + schema.plural;
  return "/apis/" + schema.group + "/" + schema.version + "/" + schema.plural;
}

KubeObject convertObject(YAML::Node object, const Schema& schema, const LoadOptions& options, const std::string& origin) {
  KubeObject out;
  auto error = [&](const std::string& path, const std::string& message) {
    YAML::Mark mark = object.Mark();
    SourcePosition position{origin, mark.line + 1, mark.column + 1};
    std::string subject = schema.kind + (out.name.empty() ? "" : " " + (out.namespace_.empty() ? "" : out.namespace_ + "/") + out.name);
    out.errors.push_back(ConfigError{position, subject, path, message});
  };
  if (!object.IsMap()) {
    error("", "expected an object, got " + describeNode(object));
    return out;
  }
  YAML::Node metadata = object["metadata"];
  out.name = scalar(metadata, "name");
  out.namespace_ = schema.namespaced() ? scalar(metadata, "namespace") : "";
  out.resource_version = scalar(metadata, "resourceVersion");
  std::string api_version = scalar(object, "apiVersion"), kind = scalar(object, "kind");
  if ((!api_version.empty() && api_version != schema.apiVersion()) || (!kind.empty() && kind != schema.kind)) {
    error("kind", "expected " + schema.apiVersion() + " " + schema.kind + ", got " +
                      (api_version.empty() ? "?" : api_version) + " " + (kind.empty() ? "?" : kind));
    return out;
  }
  if (api_version.empty()) object["apiVersion"] = schema.apiVersion();
  if (kind.empty()) object["kind"] = schema.kind;

  LoadResult loaded;
  try {
    loaded = loadNode(object, origin, options);
  } catch (const YAML::Exception& e) {
    error("", std::string("unreadable object: ") + e.what());
    return out;
  }
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
