#include "config/field_locator.h"

#include <charconv>

#include "config/yaml/yaml_from_yamlcpp.h"

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

struct Where {
  const std::string& file;
  int first_line;
  SourcePosition of(yaml::Node node) const { return SourcePosition{file, node.line() + first_line, node.column()}; }
};

void descend(yaml::Node node, std::string_view path, const Where& where, SourcePosition& best) {
  Step step{};
  while (nextStep(path, step)) {
    if (step.kind == Step::Index) {
      if (!node.isSequence() || step.index >= node.size()) return;
      node = node[step.index];
      best = where.of(node);
      continue;
    }
    yaml::Node next;
    for (auto [key, value] : node.entries()) {
      if (!key.isScalar()) continue;
      std::string_view written = key.scalar();
      if (step.kind == Step::Key ? written == step.name : sameField(written, step.name)) {
        best = where.of(key);
        next = value;
        break;
      }
    }
    if (!next.defined()) return;
    node = next;
  }
}

}  // namespace

SourcePosition locateField(yaml::Node object, std::string_view path, const std::string& file,
                           const SourcePosition& fallback, int first_line) {
  SourcePosition best = fallback;
  descend(object, path, Where{file, first_line}, best);
  return best;
}

SourcePosition locateField(const YAML::Node& object, std::string_view path, const std::string& file,
                           const SourcePosition& fallback, int first_line) {
  yaml::Document doc;
  if (!yaml::documentFromYamlCpp(object, doc, size_t(1) << 22)) return fallback;
  return locateField(doc.root(), path, file, fallback, first_line);
}

}  // namespace monomesh::config
