#include "galley/injection/json_node.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>

#include <openssl/evp.h>

#include "observe/json_text.h"

namespace monomesh::galley::injection {

namespace {

bool allOf(std::string_view s, int (*pred)(int)) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!pred(c)) return false;
  return true;
}

int isOctal(int c) { return c >= '0' && c <= '7'; }

bool isJsonNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (std::isdigit(static_cast<unsigned char>(s[i]))) {
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

// A number's text as JSON writes it ("0x1f" -> "31", "+5" -> "5", ".5" -> "0.5"); nullopt for
// infinities and NaN, which JSON cannot hold.
std::optional<std::string> jsonNumberText(std::string_view s) {
  if (isJsonNumber(s)) return std::string(s);
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  int base = 10;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o')) {
    base = body[1] == 'x' ? 16 : 8;
    body.remove_prefix(2);
  }
  unsigned long long value = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value, base);
  if (ec == std::errc() && end == body.data() + body.size()) {
    return (negative && value != 0 ? "-" : "") + std::to_string(value);
  }
  std::string copy(s);
  char* stop = nullptr;
  double d = std::strtod(copy.c_str(), &stop);
  if (stop != copy.c_str() + copy.size() || d != d || d - d != 0) return std::nullopt;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string out(buf, res.ptr);
  if (!isJsonNumber(out)) out += ".0";
  return isJsonNumber(out) ? std::optional<std::string>(out) : std::nullopt;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

JsonKind resolvePlain(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return JsonKind::Null;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") return JsonKind::Bool;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') body.remove_prefix(1);
  if (allOf(body, isdigit)) return JsonKind::Number;
  if (body.size() > 2 && body[0] == '0' && body[1] == 'o' && allOf(body.substr(2), isOctal) && body.data() == s.data())
    return JsonKind::Number;
  if (body.size() > 2 && body[0] == '0' && body[1] == 'x' && allOf(body.substr(2), isxdigit) && body.data() == s.data())
    return JsonKind::Number;
  if (body == ".inf" || body == ".Inf" || body == ".INF") return JsonKind::Number;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return JsonKind::Number;
  // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  size_t i = 0, digits = 0;
  while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i, ++digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i, ++digits;
  }
  if (digits == 0) return JsonKind::String;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    size_t start = i;
    while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i;
    if (i == start) return JsonKind::String;
  }
  return i == body.size() ? JsonKind::Number : JsonKind::String;
}

JsonKind jsonKind(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return JsonKind::Null;
  if (node.IsSequence()) return JsonKind::Array;
  if (node.IsMap()) return JsonKind::Object;
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return JsonKind::String;
  if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float") return JsonKind::Number;
  if (tag == "tag:yaml.org,2002:bool") return JsonKind::Bool;
  if (tag == "tag:yaml.org,2002:null") return JsonKind::Null;
  return resolvePlain(node.Scalar());
}

YAML::Node text(std::string_view value) {
  YAML::Node node{std::string(value)};
  node.SetTag("!");
  return node;
}

YAML::Node number(long long value) { return YAML::Node(std::to_string(value)); }
YAML::Node boolean(bool value) { return YAML::Node(std::string(value ? "true" : "false")); }
YAML::Node emptyObject() { return YAML::Node(YAML::NodeType::Map); }
YAML::Node emptyArray() { return YAML::Node(YAML::NodeType::Sequence); }

YAML::Node member(const YAML::Node& object, const std::string& key) {
  if (object.IsDefined() && object.IsMap()) {
    const YAML::Node value = object[key];
    if (value.IsDefined()) return value;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string stringValue(const YAML::Node& node) {
  if (!node.IsDefined() || !node.IsScalar()) return "";
  auto kind = jsonKind(node);
  return kind == JsonKind::Null ? "" : node.Scalar();
}

bool jsonEqual(const YAML::Node& a, const YAML::Node& b) {
  JsonKind kind = jsonKind(a);
  if (kind != jsonKind(b)) return false;
  switch (kind) {
    case JsonKind::Null: return true;
    case JsonKind::Bool: return lower(a.Scalar()) == lower(b.Scalar());
    case JsonKind::Number: return jsonNumberText(a.Scalar()).value_or(a.Scalar()) == jsonNumberText(b.Scalar()).value_or(b.Scalar());
    case JsonKind::String: return a.Scalar() == b.Scalar();
    case JsonKind::Array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!jsonEqual(a[i], b[i])) return false;
      return true;
    case JsonKind::Object:
      if (a.size() != b.size()) return false;
      for (const auto& entry : a) {
        const YAML::Node other = b[entry.first.Scalar()];
        if (!other.IsDefined() || !jsonEqual(entry.second, other)) return false;
      }
      return true;
  }
  return false;
}

void appendJson(std::string& out, const YAML::Node& node) {
  switch (jsonKind(node)) {
    case JsonKind::Null: out += "null"; return;
    case JsonKind::Bool: out += lower(node.Scalar()); return;
    case JsonKind::Number:
      if (auto n = jsonNumberText(node.Scalar())) {
        out += *n;
      } else {  // .inf / .nan: JSON has no such numbers; keep the text
        out += '"';
        observe::appendJsonEscaped(out, node.Scalar());
        out += '"';
      }
      return;
    case JsonKind::String:
      out += '"';
      observe::appendJsonEscaped(out, node.Scalar());
      out += '"';
      return;
    case JsonKind::Array: {
      out += '[';
      bool first = true;
      for (const auto& item : node) {
        if (!first) out += ',';
        first = false;
        appendJson(out, item);
      }
      out += ']';
      return;
    }
    case JsonKind::Object: {
      out += '{';
      bool first = true;
      for (const auto& entry : node) {
        if (!first) out += ',';
        first = false;
        out += '"';
        observe::appendJsonEscaped(out, entry.first.IsScalar() ? entry.first.Scalar() : toJson(entry.first));
        out += "\":";
        appendJson(out, entry.second);
      }
      out += '}';
      return;
    }
  }
}

std::string base64Bytes(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(data.data()),
                          int(data.size()));
  out.resize(size_t(n));
  return out;
}

std::string toJson(const YAML::Node& node) {
  std::string out;
  appendJson(out, node);
  return out;
}

}  // namespace monomesh::galley::injection
