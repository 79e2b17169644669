// Small helpers shared by the config module's tests.
#pragma once
#include <string>
#include <string_view>

#include "config/loader.h"
#include "config/schema.h"
#include "config/source_position.h"

namespace monomesh::config::testing {

// Every error on its own line, for failure messages.
inline std::string joinErrors(const ConfigErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += "\n  " + e.str();
  return out.empty() ? "(no errors)" : out;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

inline const Schema* schemaOf(std::string_view api_version, std::string_view kind) {
  return SchemaRegistry::builtin().find(api_version, kind);
}

}  // namespace monomesh::config::testing
