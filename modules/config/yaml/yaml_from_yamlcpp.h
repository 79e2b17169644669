// yaml-cpp into our Document: its parser's events for text our parser leaves to it, and its node
// trees for callers that still hold one (the proxy's bootstrap loader, tests).
#pragma once
#include <optional>
#include <string_view>
#include <yaml-cpp/node/node.h>

#include "config/yaml/yaml_node.h"
#include "config/yaml/yaml_parser.h"

namespace monomesh::config::yaml {

// Every document of `text` parsed by yaml-cpp. Its errors keep yaml-cpp's message and mark
// ("nested too deeply (more than 500 levels)" for its depth limit); an alias inside the node it
// names is an error too, as it would make the tree cyclic.
std::optional<ParseError> parseWithYamlCpp(std::string_view text, DocumentList& out);

// A copy of yaml-cpp's tree under `root` (aliases expanded, as the tree does not tell them
// apart). False, with `out` partly filled, once more than `max_nodes` nodes would be copied or
// the tree nests deeper than kMaxNestingDepth twice over — a cyclic tree does both.
bool documentFromYamlCpp(const YAML::Node& root, Document& out, size_t max_nodes);

}  // namespace monomesh::config::yaml
