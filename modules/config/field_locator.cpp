#include "config/field_locator.h"

#include <charconv>
#include <yaml-cpp/yaml.h>

namespace monomesh::config {

namespace {

// True when the YAML key `written` names the JSON field `json` ("per_try_timeout" or
// "perTryTimeout" for "perTryTimeout"), as protobuf's JSON mapping accepts both.
bool sameField(std::string_view written, std::string_view json) {
  size_t j = 0;
  bool upper_next = false;
  for (char c : written) {
    if (c == '_') {
      upper_next = true;
      continue;
    }
    char want = upper_next && c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c;
    upper_next = false;
    if (j >= json.size() || json[j] != want) return false;
    ++j;
  }
  return j == json.size();
}

struct Step {
  enum Kind { Field, Index, Key } kind;
  std::string_view name;
  size_t index = 0;
};

// Splits off the next step of `path`; false at the end or on a malformed path.
bool nextStep(std::string_view& path, Step& step) {
  if (path.empty()) return false;
  if (path[0] == '.') path.remove_prefix(1);
  if (path.starts_with("[\"")) {
    size_t end = path.find("\"]", 2);
    if (end == std::string_view::npos) return false;
    step = Step{Step::Key, path.substr(2, end - 2)};
    path.remove_prefix(end + 2);
    return true;
  }
  if (path.starts_with('[')) {
    size_t end = path.find(']');
    size_t index = 0;
    auto [ptr, ec] = std::from_chars(path.data() + 1, path.data() + (end == std::string_view::npos ? 1 : end), index);
    if (end == std::string_view::npos || ec != std::errc() || ptr != path.data() + end) return false;
    step = Step{Step::Index, {}, index};
    path.remove_prefix(end + 1);
    return true;
  }
  size_t end = path.find_first_of(".[");
  step = Step{Step::Field, path.substr(0, end)};
  path.remove_prefix(end == std::string_view::npos ? path.size() : end);
  return !step.name.empty();
}

bool hasMark(const YAML::Node& node) { return node.IsDefined() && node.Mark().line >= 0; }

struct Where {
  const std::string& file;
  int first_line;
  SourcePosition of(const YAML::Node& node) const {
    YAML::Mark m = node.Mark();
    return SourcePosition{file, m.line + 1 + first_line, m.column + 1};
  }
};

// Recursive rather than a loop over one YAML::Node variable: assigning to a yaml-cpp Node
// rebinds the node it refers to, which would rewrite the document being searched.
void descend(const YAML::Node& node, std::string_view path, const Where& where, SourcePosition& best) {
  Step step{};
  if (!nextStep(path, step)) return;
  if (step.kind == Step::Index) {
    if (!node.IsSequence() || step.index >= node.size()) return;
    const YAML::Node item = node[step.index];
    if (hasMark(item)) best = where.of(item);
    descend(item, path, where, best);
    return;
  }
  if (!node.IsMap()) return;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) continue;
    const std::string& written = entry.first.Scalar();
    if (step.kind == Step::Key ? written == step.name : sameField(written, step.name)) {
      if (hasMark(entry.first)) best = where.of(entry.first);
      descend(entry.second, path, where, best);
      return;
    }
  }
}

}  // namespace

SourcePosition locateField(const YAML::Node& object, std::string_view path, const std::string& file,
                           const SourcePosition& fallback, int first_line) {
  SourcePosition best = fallback;
  descend(object, path, Where{file, first_line}, best);
  return best;
}

}  // namespace monomesh::config
