// RFC 6902 JSON Patch over JSON-typed yaml-cpp nodes (json_node.h): the diff the /inject webhook
// answers with (original Pod -> injected Pod), and an applier (how the API server uses it; the
// tests check that applying the diff to the original gives the injected object).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace monomesh::galley::injection {

// A sequence of {op, path[, value]}: "add" for new object members and for items appended to a
// list ("/-"), "remove" for dropped members or trailing items, "replace" for changed values (a
// list that changed otherwise than at its end is replaced whole). Equal documents give [].
YAML::Node createJsonPatch(const YAML::Node& original, const YAML::Node& modified);

// Applies add, remove, replace and test operations in order to `document` (changed in place).
// Returns why an operation failed (its index, path and the rule); the document is then left
// partly patched, as RFC 6902 allows callers to discard it.
std::optional<std::string> applyJsonPatch(YAML::Node& document, const YAML::Node& patch);

// RFC 6901 reference token: "~" -> "~0", "/" -> "~1".
std::string escapePointerToken(std::string_view token);

}  // namespace monomesh::galley::injection
