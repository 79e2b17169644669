// Where a piece of configuration came from, and what was wrong with it: every config error in
// Monomesh names the file, line and column, the field path and the rule that failed.
#pragma once
#include <string>
#include <vector>

namespace monomesh::config {

struct SourcePosition {
  std::string file;  // "-" for standard input, "" when not from a file
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown

  // "file:line:column" (parts that are unknown are left out).
  std::string str() const;
};

struct ConfigError {
  SourcePosition position;
  std::string subject;  // "VirtualService default/reviews", or "" before the object is known
  std::string path;     // "spec.http[0].route[0].weight"
  std::string message;  // the rule that failed

  // "file:line:col: Subject: path: message"
  std::string str() const;
};

using ConfigErrors = std::vector<ConfigError>;

}  // namespace monomesh::config
