#include "config/source_position.h"

namespace monomesh::config {

std::string SourcePosition::str() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

std::string ConfigError::str() const {
  std::string out;
  std::string where = position.str();
  if (!where.empty()) out += where + ": ";
  if (!subject.empty()) out += subject + ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

}  // namespace monomesh::config
