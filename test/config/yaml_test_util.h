// Helpers for the YAML parser's tests: a one-line rendering of a tree, and a comparison of two
// trees that says where they first differ.
#pragma once
#include <set>
#include <string>
#include <utility>

#include "config/yaml/yaml_node.h"

namespace monomesh::config::yaml::testing {

// ~ for null; a plain scalar as written; "x" for a quoted or block scalar; <tag>"x" for another
// tag; [a, b] and {k: v}. Shared nodes are rendered each time they appear.
inline std::string render(Node n) {
  switch (n.kind()) {
    case NodeKind::Null: return "~";
    case NodeKind::Scalar: {
      std::string quoted = "\"" + std::string(n.scalar()) + "\"";
      if (n.tag() == "?") return std::string(n.scalar());
      if (n.tag() == "!") return quoted;
      return "<" + std::string(n.tag()) + ">" + quoted;
    }
    case NodeKind::Sequence: {
      std::string out = "[";
      for (size_t i = 0; i < n.size(); ++i) out += (i ? ", " : "") + render(n[i]);
      return out + "]";
    }
    case NodeKind::Mapping: {
      std::string out = "{";
      for (size_t i = 0; i < n.size(); ++i) out += (i ? ", " : "") + render(n.entry(i).key) + ": " + render(n.entry(i).value);
      return out + "}";
    }
  }
  return "?";
}

inline std::string describe(Node n) {
  return std::to_string(n.line()) + ":" + std::to_string(n.column()) + " " + render(n).substr(0, 80) + " tag '" +
         std::string(n.tag()) + "'";
}

// "" when `a` and `b` have the same kinds, tags, scalars, sizes, lines and columns throughout;
// else where they first differ. Each pair of nodes is compared once (aliases share nodes).
inline std::string firstDifference(Node a, Node b, const std::string& path,
                                   std::set<std::pair<uint32_t, uint32_t>>& compared) {
  if (!compared.emplace(a.index(), b.index()).second) return "";
  if (a.kind() != b.kind() || a.tag() != b.tag() || a.scalar() != b.scalar() || a.size() != b.size() ||
      a.line() != b.line() || a.column() != b.column())
    return path + ": " + describe(a) + " vs " + describe(b);
  for (size_t i = 0; i < a.size(); ++i) {
    std::string d;
    if (a.isSequence()) {
      d = firstDifference(a[i], b[i], path + "[" + std::to_string(i) + "]", compared);
    } else {
      std::string at = path + "." + std::string(a.entry(i).key.scalar());
      d = firstDifference(a.entry(i).key, b.entry(i).key, at + "(key)", compared);
      if (d.empty()) d = firstDifference(a.entry(i).value, b.entry(i).value, at, compared);
    }
    if (!d.empty()) return d;
  }
  return "";
}

inline std::string firstDifference(const DocumentList& a, const DocumentList& b) {
  if (a.size() != b.size()) return std::to_string(a.size()) + " documents vs " + std::to_string(b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    std::set<std::pair<uint32_t, uint32_t>> compared;
    std::string d = firstDifference(a[i].root(), b[i].root(), "document " + std::to_string(i), compared);
    if (!d.empty()) return d;
  }
  return "";
}

}  // namespace monomesh::config::yaml::testing
