// Turns YAML or JSON text (one or many `---` documents, or a `kind: List`) into resources.
// Objects of Istio's API groups must be exactly right; Kubernetes objects the mesh does not read
// (Deployment, ServiceAccount...) are skipped with a note. A file is all or nothing: any error
// means none of its resources should be applied.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/resource.h"
#include "config/schema.h"
#include "config/yaml/yaml_node.h"

namespace monomesh::config {

struct SkippedObject {
  SourcePosition position;
  std::string api_version;
  std::string kind;
  std::string name;
};

struct LoadResult {
  std::vector<Resource> resources;
  ConfigErrors errors;
  std::vector<SkippedObject> skipped;
  // Accepted with a remark (a deprecated kind, Mixer config not applied yet); never a rejection.
  ConfigErrors notes;
  bool ok() const { return errors.empty(); }
};

struct LoadOptions {
  std::string default_namespace = "default";
  std::string cluster_id = "Kubernetes";  // stamped on every resource (Pilot's --clusterID default)
  const SchemaRegistry* registry = &SchemaRegistry::builtin();
  size_t max_errors_per_object = 20;
  // Istio 1.1's semantic validation (config/validation) after the schema check; a failing
  // object is an error like a schema error. On for the directory source and `monomesh validate`.
  bool validate = false;
  // Bounds memory per input: a larger file is one error, not read.
  size_t max_file_bytes = 32u << 20;
};

LoadResult loadYaml(std::string_view text, const std::string& file, const LoadOptions& options = {});

// One already-parsed document (the Kubernetes API source reads objects out of JSON responses).
// With `implied`, a document without apiVersion or kind is of that type (list items of
// built-in kinds come without them).
LoadResult loadNode(yaml::Node document, const std::string& file, const LoadOptions& options = {},
                    const Schema* implied = nullptr);

// Reads the file first; an unreadable or oversized file is one error naming it.
LoadResult loadFile(const std::string& path, const LoadOptions& options = {});

// The whole file, or nullopt with `error` set ("cannot read: ...", "... bytes; the limit is ...").
std::optional<std::string> readConfigFile(const std::string& path, size_t max_bytes, std::string& error);

}  // namespace monomesh::config
