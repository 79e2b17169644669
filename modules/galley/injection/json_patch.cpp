#include "galley/injection/json_patch.h"

#include <vector>

#include "galley/injection/json_node.h"

namespace monomesh::galley::injection {

namespace {

YAML::Node operation(const char* op, const std::string& path, const YAML::Node* value) {
  YAML::Node o(YAML::NodeType::Map);
  o["op"] = text(op);
  o["path"] = text(path);
  if (value) o["value"] = YAML::Clone(*value);
  return o;
}

void diff(const YAML::Node& a, const YAML::Node& b, const std::string& path, YAML::Node& ops) {
  JsonKind kind = jsonKind(a);
  if (kind != jsonKind(b)) {
    ops.push_back(operation("replace", path, &b));
    return;
  }
  if (kind == JsonKind::Object) {
    for (const auto& entry : a) {
      const std::string key = entry.first.Scalar();
      if (!b[key].IsDefined()) ops.push_back(operation("remove", path + "/" + escapePointerToken(key), nullptr));
    }
    for (const auto& entry : b) {
      const std::string key = entry.first.Scalar();
      const YAML::Node before = a[key];
      std::string child = path + "/" + escapePointerToken(key);
      if (!before.IsDefined()) {
        ops.push_back(operation("add", child, &entry.second));
      } else {
        diff(before, entry.second, child, ops);
      }
    }
    return;
  }
  if (kind == JsonKind::Array) {
    size_t common = std::min(a.size(), b.size());
    size_t same = 0;
    while (same < common && jsonEqual(a[same], b[same])) ++same;
    if (same == a.size()) {  // b extends a: append the rest
      for (size_t i = a.size(); i < b.size(); ++i) {
        const YAML::Node item = b[i];
        ops.push_back(operation("add", path + "/-", &item));
      }
    } else if (same == b.size()) {  // b is a cut-down a: remove from the end
      for (size_t i = a.size(); i-- > b.size();) ops.push_back(operation("remove", path + "/" + std::to_string(i), nullptr));
    } else if (a.size() == b.size()) {
      for (size_t i = 0; i < a.size(); ++i) diff(a[i], b[i], path + "/" + std::to_string(i), ops);
    } else {
      ops.push_back(operation("replace", path, &b));
    }
    return;
  }
  if (!jsonEqual(a, b)) ops.push_back(operation("replace", path, &b));
}

std::optional<std::vector<std::string>> parsePointer(const std::string& pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') return std::nullopt;
  std::string token;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(token);
      token.clear();
    } else if (pointer[i] == '~') {
      if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) return std::nullopt;
      token += pointer[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      token += pointer[i];
    }
  }
  return tokens;
}

std::optional<size_t> arrayIndex(const std::string& token, size_t limit) {
  if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  size_t n = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + size_t(c - '0');
  }
  if (n > limit) return std::nullopt;
  return n;
}

// Replaces a sequence's items in place (yaml-cpp has no insert): `seq` is a handle into the
// document, so assigning to it changes the document.
void setItems(YAML::Node seq, const std::vector<YAML::Node>& items) {
  YAML::Node fresh(YAML::NodeType::Sequence);
  for (const auto& item : items) fresh.push_back(item);
  seq = fresh;
}

std::optional<std::string> applyOne(YAML::Node& document, const YAML::Node& op) {
  if (!op.IsMap()) return "not an object";
  const std::string name = stringValue(op["op"]);
  const std::string path = stringValue(op["path"]);
  auto tokens = parsePointer(path);
  if (!tokens) return "path \"" + path + "\": not a JSON pointer";
  const YAML::Node value = op["value"];
  bool needs_value = name == "add" || name == "replace" || name == "test";
  if (name != "add" && name != "remove" && name != "replace" && name != "test") return "op \"" + name + "\": not supported";
  if (needs_value && !value.IsDefined()) return "op " + name + " at \"" + path + "\": no value";

  if (tokens->empty()) {
    if (name == "test") return jsonEqual(document, value) ? std::nullopt : std::optional<std::string>("test failed at \"\"");
    if (name == "remove") return "cannot remove the whole document";
    document.reset(YAML::Clone(value));
    return std::nullopt;
  }
  YAML::Node parent = document;
  for (size_t i = 0; i + 1 < tokens->size(); ++i) {
    const auto& t = (*tokens)[i];
    if (parent.IsMap()) {
      if (!static_cast<const YAML::Node&>(parent)[t].IsDefined()) return "path \"" + path + "\": \"" + t + "\" does not exist";
      parent.reset(parent[t]);
    } else if (parent.IsSequence()) {
      auto index = arrayIndex(t, parent.size() ? parent.size() - 1 : 0);
      if (!index || *index >= parent.size()) return "path \"" + path + "\": no item " + t;
      parent.reset(parent[*index]);
    } else {
      return "path \"" + path + "\": \"" + t + "\" is inside a scalar";
    }
  }
  const std::string& last = tokens->back();
  if (parent.IsMap()) {
    const YAML::Node existing = static_cast<const YAML::Node&>(parent)[last];
    if (name == "test") return existing.IsDefined() && jsonEqual(existing, value) ? std::nullopt : std::optional<std::string>("test failed at \"" + path + "\"");
    if (name != "add" && !existing.IsDefined()) return "path \"" + path + "\": nothing to " + name;
    if (name == "remove") {
      parent.remove(last);
    } else {
      parent[last] = YAML::Clone(value);
    }
    return std::nullopt;
  }
  if (!parent.IsSequence()) return "path \"" + path + "\": parent is not an object or a list";
  std::vector<YAML::Node> items(parent.begin(), parent.end());
  std::optional<size_t> index = last == "-" && name == "add" ? std::optional<size_t>(items.size()) : arrayIndex(last, items.size());
  if (!index || (name != "add" && *index >= items.size())) return "path \"" + path + "\": no item " + last;
  if (name == "test") return jsonEqual(items[*index], value) ? std::nullopt : std::optional<std::string>("test failed at \"" + path + "\"");
  if (name == "add") {
    items.insert(items.begin() + long(*index), YAML::Clone(value));
  } else if (name == "remove") {
    items.erase(items.begin() + long(*index));
  } else {
    items[*index] = YAML::Clone(value);
  }
  setItems(parent, items);
  return std::nullopt;
}

}  // namespace

std::string escapePointerToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

YAML::Node createJsonPatch(const YAML::Node& original, const YAML::Node& modified) {
  YAML::Node ops(YAML::NodeType::Sequence);
  diff(original, modified, "", ops);
  return ops;
}

std::optional<std::string> applyJsonPatch(YAML::Node& document, const YAML::Node& patch) {
  if (!patch.IsSequence()) return "a JSON patch is a list of operations";
  for (size_t i = 0; i < patch.size(); ++i) {
    if (auto err = applyOne(document, patch[i])) return "operation " + std::to_string(i) + ": " + *err;
  }
  return std::nullopt;
}

}  // namespace monomesh::galley::injection
