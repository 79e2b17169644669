// Writes JSON-typed yaml-cpp nodes (json_node.h) back as block YAML that Kubernetes' YAML 1.1
// reader and YAML 1.2 readers both read as the same values. yaml-cpp's own emitter forgets which
// scalars were quoted, so "15001" or "true" in an annotation would come back as a number or a
// boolean, which the API server rejects; here strings that could read as anything else are quoted.
#pragma once
#include <string>

#include <yaml-cpp/yaml.h>

namespace monomesh::galley::injection {

// Block YAML ending in a newline; maps keep their key order, lists sit at their key's indent
// (kubectl's style); empty collections are written `{}` / `[]`.
std::string toYaml(const YAML::Node& node);

// How one string scalar is written: plain when that reads back as the same string, else
// double-quoted with JSON escapes.
std::string yamlString(const std::string& value);

}  // namespace monomesh::galley::injection
