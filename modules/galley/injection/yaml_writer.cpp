#include "galley/injection/yaml_writer.h"

#include <cctype>
#include <string_view>

#include "galley/injection/json_node.h"
#include "observe/json_text.h"

namespace monomesh::galley::injection {

namespace {

// Would YAML 1.1 (go-yaml, which kubectl uses) read this plain text as something else than a
// string? Its booleans include yes/no/on/off, and its numbers sexagesimal and underscored forms.
bool yaml11NonString(std::string_view s) {
  static constexpr std::string_view words[] = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
                                               "on", "On", "ON", "off", "Off", "OFF"};
  for (auto w : words)
    if (s == w) return true;
  bool digit = false;
  for (unsigned char c : s) {
    if (std::isdigit(c)) digit = true;
    if (!std::isxdigit(c) && std::string_view("xXoO_.:+-").find(static_cast<char>(c)) == std::string_view::npos)
      return false;
  }
  return digit;
}

bool plainIsSafe(std::string_view s) {
  if (s.empty() || resolvePlain(s) != JsonKind::String || yaml11NonString(s)) return false;
  std::string lowered(s);
  for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered == ".inf" || lowered == "-.inf" || lowered == "+.inf" || lowered == ".nan") return false;
  char first = s.front();
  if (std::string_view("?:,[]{}#&*!|>'\"%@`").find(first) != std::string_view::npos) return false;
  if (first == '-' && (s.size() == 1 || s[1] == ' ' || s.substr(0, 3) == "---")) return false;
  if (s.substr(0, 3) == "...") return false;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return s.find("\xC2\x85") == std::string_view::npos && s.find("\xE2\x80\xA8") == std::string_view::npos &&
         s.find("\xE2\x80\xA9") == std::string_view::npos && s.find("\xEF\xBB\xBF") == std::string_view::npos;
}

// YAML 1.1 reads NEL, LS and PS as line breaks even inside quotes (and a BOM as a marker): escape them.
std::string escapeBreaks(std::string quoted) {
  static const std::pair<std::string_view, std::string_view> breaks[] = {
      {"\xC2\x85", "\\u0085"}, {"\xE2\x80\xA8", "\\u2028"}, {"\xE2\x80\xA9", "\\u2029"}, {"\xEF\xBB\xBF", "\\ufeff"}};
  for (const auto& [raw, escaped] : breaks) {
    for (size_t at = quoted.find(raw); at != std::string::npos; at = quoted.find(raw, at + escaped.size()))
      quoted.replace(at, raw.size(), escaped);
  }
  return quoted;
}

std::string scalarYaml(const YAML::Node& node) {
  switch (jsonKind(node)) {
    case JsonKind::Null: return "null";
    case JsonKind::Bool:
    case JsonKind::Number: return node.Scalar();
    default: return yamlString(node.Scalar());
  }
}

std::string keyYaml(const YAML::Node& key) { return yamlString(key.IsScalar() ? key.Scalar() : toJson(key)); }

bool isNonEmptyCollection(const YAML::Node& node) { return (node.IsMap() || node.IsSequence()) && node.size() > 0; }

std::string inlineValue(const YAML::Node& node) {
  if (node.IsMap()) return "{}";
  if (node.IsSequence()) return "[]";
  return scalarYaml(node);
}

void writeSequence(std::string& out, const YAML::Node& node, size_t indent);

// `first_inline`: the first key follows a "- " already written on the current line.
void writeMap(std::string& out, const YAML::Node& node, size_t indent, bool first_inline) {
  bool first = true;
  for (const auto& entry : node) {
    if (!(first && first_inline)) out.append(indent, ' ');
    first = false;
    out += keyYaml(entry.first);
    out += ':';
    const YAML::Node& value = entry.second;
    if (!isNonEmptyCollection(value)) {
      out += ' ';
      out += inlineValue(value);
      out += '\n';
    } else if (value.IsMap()) {
      out += '\n';
      writeMap(out, value, indent + 2, false);
    } else {
      out += '\n';
      writeSequence(out, value, indent);
    }
  }
}

void writeSequence(std::string& out, const YAML::Node& node, size_t indent) {
  for (const auto& item : node) {
    out.append(indent, ' ');
    if (!isNonEmptyCollection(item)) {
      out += "- ";
      out += inlineValue(item);
      out += '\n';
    } else if (item.IsMap()) {
      out += "- ";
      writeMap(out, item, indent + 2, true);
    } else {
      out += "-\n";
      writeSequence(out, item, indent + 2);
    }
  }
}

}  // namespace

std::string yamlString(const std::string& value) {
  if (plainIsSafe(value)) return value;
  return escapeBreaks("\"" + observe::jsonEscape(value) + "\"");
}

std::string toYaml(const YAML::Node& node) {
  std::string out;
  if (!isNonEmptyCollection(node)) return inlineValue(node) + "\n";
  if (node.IsMap()) {
    writeMap(out, node, 0, false);
  } else {
    writeSequence(out, node, 0);
  }
  return out;
}

}  // namespace monomesh::galley::injection
