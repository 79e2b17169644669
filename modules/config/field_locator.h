// Finds where a field path ("spec.http[0].route[1].weight", 'metadata.labels["app"]') was written
// in an object's YAML, so errors found after reading (semantic validation) point at the
// offending line. Nothing is recorded while reading: the path is resolved against the object's
// parsed YAML only when an error needs a position, so loading valid files costs nothing extra.
#pragma once
#include <string_view>
#include <yaml-cpp/node/node.h>

#include "config/source_position.h"
#include "config/yaml/yaml_node.h"

namespace monomesh::config {

// The position of the deepest part of `path` present under `object`: a field's key, a list
// item, a map entry's key. Field names match as written in either lowerCamelCase or snake_case.
// A path that is not there at all (a required field left out) yields its nearest present parent;
// `fallback` (the object's position) when nothing matches.
// `first_line` is the number of file lines before the text `object` was parsed from.
SourcePosition locateField(yaml::Node object, std::string_view path, const std::string& file,
                           const SourcePosition& fallback, int first_line = 0);
// The same in a yaml-cpp tree (copied first).
SourcePosition locateField(const YAML::Node& object, std::string_view path, const std::string& file,
                           const SourcePosition& fallback, int first_line = 0);

}  // namespace monomesh::config
