// YAML text to Documents. parseYaml() is what the config model calls: our own parser, which
// builds the compact tree directly and reports syntax errors as yaml-cpp words and places them,
// and — for what it leaves aside (directives, byte-order marks, UTF-16/32) — yaml-cpp, whose
// events fill the same tree. So every text yaml-cpp read is read, into the same tree.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "config/yaml/yaml_node.h"

namespace monomesh::config::yaml {

struct ParseError {
  Mark mark;  // 0-based; -1 when unknown
  std::string message;
  bool unsupported = false;  // not an error in the text: our parser leaves it to yaml-cpp
};

// Documents nest at most this deep (yaml-cpp's own limit): deeper text is an error, not a
// stack overflow.
constexpr int kMaxNestingDepth = 500;

// An alias inside the node it names would make the tree endless: an error in every parser.
constexpr const char* kAliasCycle = "alias refers to a node that contains it (the tree would be endless)";

// Every document of `text`, with our parser alone. Scalars may point into `text`.
std::optional<ParseError> parseFast(std::string_view text, DocumentList& out);

// Every document of `text`: our parser, else yaml-cpp (see above). Scalars may point into `text`.
std::optional<ParseError> parseYaml(std::string_view text, DocumentList& out);

// How many texts parseYaml() handed to yaml-cpp, for tests and benches.
size_t yamlCppFallbacks();

}  // namespace monomesh::config::yaml
