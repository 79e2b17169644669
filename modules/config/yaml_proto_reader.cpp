#include "config/yaml_proto_reader.h"

#include <boost/container/small_vector.hpp>
#include <charconv>
#include <cmath>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <limits>
#include <unordered_map>
#include <yaml-cpp/yaml.h>

#include "config/yaml/yaml_from_yamlcpp.h"
#include "runtime/duration.h"

namespace monomesh::config {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

namespace {

// Written without quotes or tag, so YAML (and Kubernetes' JSON reading) takes 80 as a number.
bool isPlain(yaml::Node node) { return node.tag() == "?"; }

bool looksLikeNumber(std::string_view s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') digits = true;
    else if (c == '.' && !dot) dot = true;
    else if ((c == 'e' || c == 'E') && digits) return i + 1 < s.size();
    else return false;
  }
  return digits;
}

std::optional<bool> parseBool(std::string_view s) {
  // YAML 1.1 booleans as Kubernetes' YAML reader resolves them (the one-letter y/n are left as
  // strings: YAML 1.2 dropped them and names like "y" are common).
  static const char* kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const char* kFalse[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  for (auto* t : kTrue)
    if (s == t) return true;
  for (auto* f : kFalse)
    if (s == f) return false;
  return std::nullopt;
}

template <class T>
std::optional<T> parseInteger(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::optional<double> parseDouble(std::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == "Infinity" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf" || s == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (!looksLikeNumber(s)) return std::nullopt;
  std::string_view v = s;
  if (v[0] == '+') v.remove_prefix(1);
  double d = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  return d;
}

std::optional<std::string> decodeBase64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < in.size(); ++i) {
    char c = in[i];
    if (c == '=') break;
    if (c == '\n' || c == '\r' || c == ' ') continue;
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  for (; i < in.size(); ++i)
    if (in[i] != '=' && in[i] != '\n') return std::nullopt;
  return out;
}

// Hashes std::string and string_view alike, so maps keyed by std::string take views to find().
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using FieldNames = std::unordered_map<std::string, const FD*, StringHash, std::equal_to<>>;

// Field lookup by JSON name or proto name, cached per descriptor and thread (no locks).
const FD* findField(const pb::Descriptor* d, std::string_view key) {
  thread_local std::unordered_map<const pb::Descriptor*, FieldNames> cache;
  auto it = cache.find(d);
  if (it == cache.end()) {
    FieldNames names;
    for (int i = 0; i < d->field_count(); ++i) {
      const FD* f = d->field(i);
      names.emplace(f->json_name(), f);
      names.emplace(f->name(), f);
    }
    it = cache.emplace(d, std::move(names)).first;
  }
  auto f = it->second.find(key);
  return f == it->second.end() ? nullptr : f->second;
}

std::string childPath(const std::string& path, std::string_view name) {
  std::string out;
  out.reserve(path.size() + 1 + name.size());
  if (!path.empty()) (out += path) += '.';
  return out += name;
}

std::string indexPath(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string keyPath(const std::string& path, std::string_view key) {
  std::string out = path;
  ((out += "[\"") += key) += "\"]";
  return out;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  return (out += s) += "\"";
}

// "the number 80", "the boolean true" or "the string \"x\"": what a scalar reads as.
std::string describeScalar(std::string_view s, bool plain) {
  if (plain && looksLikeNumber(s)) return "the number " + std::string(s);
  if (plain && parseBool(s)) return "the boolean " + std::string(s);
  return "the string " + quoted(s);
}


std::string typeName(const FD* f) {
  switch (f->cpp_type()) {
    case FD::CPPTYPE_INT32:
    case FD::CPPTYPE_INT64: return "an integer";
    case FD::CPPTYPE_UINT32:
    case FD::CPPTYPE_UINT64: return "a non-negative integer";
    case FD::CPPTYPE_DOUBLE:
    case FD::CPPTYPE_FLOAT: return "a number";
    case FD::CPPTYPE_BOOL: return "true or false";
    case FD::CPPTYPE_ENUM: return "one of the " + f->enum_type()->name() + " values";
    case FD::CPPTYPE_STRING: return f->type() == FD::TYPE_BYTES ? "base64 data" : "a string";
    case FD::CPPTYPE_MESSAGE: return "a mapping (" + f->message_type()->name() + ")";
  }
  return "a value";
}

std::string enumNames(const pb::EnumDescriptor* e) {
  std::string out;
  for (int i = 0; i < e->value_count(); ++i) {
    if (i) out += ", ";
    out += e->value(i)->name();
  }
  return out;
}

}  // namespace

std::string describeNode(yaml::Node node) {
  if (node.isNull()) return "nothing (null)";
  if (node.isSequence()) return "a list";
  if (node.isMapping()) return "a mapping";
  return describeScalar(node.scalar(), isPlain(node));
}

std::string describeNode(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing (null)";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return describeScalar(node.Scalar(), node.Tag() == "?");
}

SourcePosition YamlProtoReader::position(yaml::Node node) const {
  bool known = node.defined() && node.line() > 0;
  return SourcePosition{file_, (known ? node.line() : last_line_) + options_.first_line,
                        known ? node.column() : last_column_};
}

void YamlProtoReader::remember(yaml::Node node) {
  if (node.defined() && node.line() > 0) {
    last_line_ = node.line();
    last_column_ = node.column();
  }
}

void YamlProtoReader::fail(yaml::Node node, const std::string& path, std::string message) {
  if (errors_.size() >= options_.max_errors) return;
  errors_.push_back(ConfigError{position(node), "", path, std::move(message)});
}

void YamlProtoReader::failAt(int line, int column, const std::string& path, std::string message) {
  if (errors_.size() >= options_.max_errors) return;
  errors_.push_back(ConfigError{SourcePosition{file_, line + options_.first_line, column}, "", path, std::move(message)});
}

std::string YamlProtoReader::tooManyValues() const {
  return "too many values (more than " + std::to_string(options_.max_values) +
         " after expanding aliases); the rest of the object was not read";
}

bool YamlProtoReader::spend(yaml::Node node, const std::string& path) {
  if (++values_ <= options_.max_values) return true;
  if (values_ == options_.max_values + 1) fail(node, path, tooManyValues());
  return false;
}

bool YamlProtoReader::read(yaml::Node node, pb::Message& message, const std::string& path) {
  size_t before = errors_.size();
  values_ = 0;
  remember(node);
  readMessage(node, message, path);
  return errors_.size() == before;
}

bool YamlProtoReader::read(const YAML::Node& node, pb::Message& message, const std::string& path) {
  yaml::Document doc;
  // A value is about two nodes (its key and itself), so copying stops near the reader's own limit.
  if (!yaml::documentFromYamlCpp(node, doc, 2 * options_.max_values + 1)) {
    YAML::Mark m = node.Mark();
    size_t before = errors_.size();
    failAt(m.line >= 0 ? m.line + 1 : 1, m.line >= 0 ? m.column + 1 : 1, path, tooManyValues());
    return errors_.size() == before;
  }
  return read(doc.root(), message, path);
}

void YamlProtoReader::readMessage(yaml::Node node, pb::Message& message, const std::string& path,
                                  std::string_view skip_key) {
  if (node.isNull() || !spend(node, path)) return;
  remember(node);
  if (readWellKnown(node, message, path)) return;
  if (!node.isMapping()) {
    fail(node, path, "expected a mapping (" + message.GetDescriptor()->name() + "), got " + describeNode(node));
    return;
  }
  const pb::Descriptor* d = message.GetDescriptor();
  // Fields set so far (with the line of each) and the oneof member chosen: few per message.
  boost::container::small_vector<std::pair<const FD*, int>, 16> seen;
  boost::container::small_vector<std::pair<const pb::OneofDescriptor*, const FD*>, 4> oneofs;
  for (auto [key, value] : node.entries()) {
    if (!key.isScalar()) {
      fail(key, path, "field names must be strings, got " + describeNode(key));
      continue;
    }
    std::string_view name = key.scalar();
    if (!skip_key.empty() && name == skip_key) continue;
    const FD* field = findField(d, name);
    if (field == nullptr) {
      if (options_.strict)
        fail(key, childPath(path, name), "unknown field " + quoted(name) + " in " + d->full_name());
      continue;
    }
    std::string fpath = childPath(path, name);
    auto prev = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == field; });
    if (prev != seen.end()) {
      fail(key, fpath, "set more than once (first at line " + std::to_string(prev->second + options_.first_line) + ")");
      continue;
    }
    seen.emplace_back(field, key.line());
    if (const pb::OneofDescriptor* oneof = field->real_containing_oneof()) {
      if (!value.isNull()) {
        auto other = std::find_if(oneofs.begin(), oneofs.end(), [&](const auto& o) { return o.first == oneof; });
        if (other != oneofs.end()) {
          fail(key, fpath,
               "\"" + other->second->json_name() + "\" and \"" + field->json_name() +
                   "\" cannot both be set (they are alternatives)");
          continue;
        }
        oneofs.emplace_back(oneof, field);
      }
    }
    readField(value, message, field, fpath);
  }
}

void YamlProtoReader::readField(yaml::Node node, pb::Message& message, const FD* field, const std::string& path) {
  if (!spend(node, path)) return;
  if (node.isNull() && field->cpp_type() == FD::CPPTYPE_MESSAGE &&
      field->message_type()->full_name() == "google.protobuf.Value" && !field->is_repeated()) {
    readValue(node, *message.GetReflection()->MutableMessage(&message, field), path);
    return;
  }
  if (node.isNull()) return;  // null means "not set", as in protobuf's JSON mapping
  const pb::Reflection* r = message.GetReflection();
  // A list or map in the text replaces what the message held (reading onto defaults).
  if (field->is_repeated()) r->ClearField(&message, field);
  if (field->is_map()) {
    readMap(node, message, field, path);
    return;
  }
  if (field->is_repeated()) {
    if (!node.isSequence()) {
      fail(node, path, "expected a list of " + typeName(field).substr(typeName(field).find(' ') + 1) +
                           " values, got " + describeNode(node));
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      yaml::Node item = node[i];
      std::string ipath = indexPath(path, i);
      if (field->cpp_type() == FD::CPPTYPE_MESSAGE) {
        pb::Message* child = r->AddMessage(&message, field);
        if (item.isNull() && field->message_type()->full_name() == "google.protobuf.Value") {
          readValue(item, *child, ipath);
        } else if (item.isNull()) {
          fail(item, ipath, "list items cannot be null");
        } else {
          readMessage(item, *child, ipath);
        }
      } else {
        readScalarInto(item, message, field, ipath);
      }
    }
    return;
  }
  if (field->cpp_type() == FD::CPPTYPE_MESSAGE) {
    readMessage(node, *r->MutableMessage(&message, field), path);
  } else {
    readScalarInto(node, message, field, path);
  }
}

void YamlProtoReader::readMap(yaml::Node node, pb::Message& message, const FD* field, const std::string& path) {
  if (!node.isMapping()) {
    fail(node, path, "expected a mapping, got " + describeNode(node));
    return;
  }
  const pb::Reflection* r = message.GetReflection();
  const pb::Descriptor* entry_type = field->message_type();
  const FD* key_field = entry_type->map_key();
  const FD* value_field = entry_type->map_value();
  yaml::RepeatedKeys repeated_keys(node);
  for (size_t i = 0; i < node.size(); ++i) {
    auto [key, value] = node.entry(i);
    if (!key.isScalar()) {
      fail(key, path, "map keys must be scalars, got " + describeNode(key));
      continue;
    }
    std::string_view k = key.scalar();
    std::string kpath = keyPath(path, k);
    if (int first = repeated_keys.firstLine(i)) {
      fail(key, kpath, "key set more than once (first at line " + std::to_string(first + options_.first_line) + ")");
      continue;
    }
    pb::Message* entry = r->AddMessage(&message, field);
    const pb::Reflection* er = entry->GetReflection();
    switch (key_field->cpp_type()) {
      case FD::CPPTYPE_STRING: er->SetString(entry, key_field, std::string(k)); break;
      case FD::CPPTYPE_BOOL: {
        auto b = parseBool(k);
        if (!b) fail(key, kpath, "map key must be true or false");
        else er->SetBool(entry, key_field, *b);
        break;
      }
      default: readScalarInto(key, *entry, key_field, kpath); break;
    }
    if (value_field->cpp_type() == FD::CPPTYPE_MESSAGE) {
      if (value.isNull() && value_field->message_type()->full_name() != "google.protobuf.Value") {
        er->MutableMessage(entry, value_field);
      } else {
        readField(value, *entry, value_field, kpath);
      }
    } else if (value.isNull()) {
      fail(value, kpath, "map values cannot be null");
    } else {
      readScalarInto(value, *entry, value_field, kpath);
    }
  }
}

void YamlProtoReader::readScalarInto(yaml::Node node, pb::Message& message, const FD* field, const std::string& path) {
  if (!node.isScalar()) {
    fail(node, path, "expected " + typeName(field) + ", got " + describeNode(node));
    return;
  }
  const pb::Reflection* r = message.GetReflection();
  const std::string_view s = node.scalar();
  const bool repeated = field->is_repeated();
  auto bad = [&](const std::string& why = {}) {
    fail(node, path, "expected " + typeName(field) + ", got " + describeNode(node) + why);
  };
  // Why a number did not fit an integer field: a fraction, or the range.
  auto integerWhy = [&](const char* range) -> std::string {
    if (!looksLikeNumber(s)) return "";
    if (s.find_first_of(".eE") != std::string_view::npos) return " (must be a whole number)";
    return range;
  };
  // A quoted number is accepted for numeric fields, as protobuf's JSON mapping allows.
  switch (field->cpp_type()) {
    case FD::CPPTYPE_INT32: {
      auto v = parseInteger<int32_t>(s);
      if (!v) return bad(integerWhy(" (out of range for a 32-bit integer)"));
      repeated ? r->AddInt32(&message, field, *v) : r->SetInt32(&message, field, *v);
      return;
    }
    case FD::CPPTYPE_INT64: {
      auto v = parseInteger<int64_t>(s);
      if (!v) return bad(integerWhy(" (out of range for a 64-bit integer)"));
      repeated ? r->AddInt64(&message, field, *v) : r->SetInt64(&message, field, *v);
      return;
    }
    case FD::CPPTYPE_UINT32: {
      auto v = s.starts_with('-') ? std::nullopt : parseInteger<uint32_t>(s);
      if (!v) return bad(integerWhy(" (must be 0 to 4294967295)"));
      repeated ? r->AddUInt32(&message, field, *v) : r->SetUInt32(&message, field, *v);
      return;
    }
    case FD::CPPTYPE_UINT64: {
      auto v = s.starts_with('-') ? std::nullopt : parseInteger<uint64_t>(s);
      if (!v) return bad(integerWhy(" (must not be negative)"));
      repeated ? r->AddUInt64(&message, field, *v) : r->SetUInt64(&message, field, *v);
      return;
    }
    case FD::CPPTYPE_DOUBLE:
    case FD::CPPTYPE_FLOAT: {
      auto v = parseDouble(s);
      if (!v) return bad();
      if (field->cpp_type() == FD::CPPTYPE_DOUBLE) {
        repeated ? r->AddDouble(&message, field, *v) : r->SetDouble(&message, field, *v);
      } else {
        repeated ? r->AddFloat(&message, field, float(*v)) : r->SetFloat(&message, field, float(*v));
      }
      return;
    }
    case FD::CPPTYPE_BOOL: {
      auto v = isPlain(node) ? parseBool(s) : std::nullopt;
      if (!v) return bad();
      repeated ? r->AddBool(&message, field, *v) : r->SetBool(&message, field, *v);
      return;
    }
    case FD::CPPTYPE_ENUM: {
      const pb::EnumDescriptor* e = field->enum_type();
      const pb::EnumValueDescriptor* ev = e->FindValueByName(std::string(s));
      if (ev == nullptr) {
        if (auto n = parseInteger<int32_t>(s)) ev = e->FindValueByNumber(*n);
      }
      if (ev == nullptr) {
        fail(node, path, quoted(s) + " is not a " + e->name() + " value; expected one of " + enumNames(e));
        return;
      }
      repeated ? r->AddEnum(&message, field, ev) : r->SetEnum(&message, field, ev);
      return;
    }
    case FD::CPPTYPE_STRING: {
      if (field->type() == FD::TYPE_BYTES) {
        auto v = decodeBase64(s);
        if (!v) return bad(" (not valid base64)");
        repeated ? r->AddString(&message, field, std::move(*v)) : r->SetString(&message, field, std::move(*v));
        return;
      }
      // Kubernetes and Istio read YAML as JSON: an unquoted 80 or true is a number or a
      // boolean there, not a string. Strict mode says so instead of guessing.
      if (options_.strict && isPlain(node) && (looksLikeNumber(s) || parseBool(s)))
        return bad(" (quote it to make it a string)");
      repeated ? r->AddString(&message, field, std::string(s)) : r->SetString(&message, field, std::string(s));
      return;
    }
    case FD::CPPTYPE_MESSAGE: break;
  }
  bad();
}

bool YamlProtoReader::readWellKnown(yaml::Node node, pb::Message& message, const std::string& path) {
  const pb::Descriptor* d = message.GetDescriptor();
  const std::string& type = d->full_name();
  if (type.rfind("google.protobuf.", 0) != 0) return false;
  const pb::Reflection* r = message.GetReflection();
  if (type == "google.protobuf.Duration") {
    if (!node.isScalar()) {
      fail(node, path, "expected a duration such as \"5s\" or \"100ms\", got " + describeNode(node));
      return true;
    }
    auto v = runtime::parseDuration(node.scalar());
    if (!v) {
      fail(node, path, quoted(node.scalar()) + " is not a duration (use a number with a unit: 5s, 100ms, 1m, 1h)");
      return true;
    }
    int64_t nanos = v->count();
    r->SetInt64(&message, d->FindFieldByName("seconds"), nanos / 1000000000);
    r->SetInt32(&message, d->FindFieldByName("nanos"), int32_t(nanos % 1000000000));
    return true;
  }
  if (type == "google.protobuf.Timestamp") {
    if (!node.isScalar()) {
      fail(node, path, "expected an RFC 3339 timestamp, got " + describeNode(node));
      return true;
    }
    std::tm tm{};
    const std::string s(node.scalar());
    const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    double frac = 0;
    if (rest != nullptr && *rest == '.') {
      char* end = nullptr;
      frac = std::strtod(rest, &end);
      rest = end;
    }
    if (rest == nullptr || (std::string_view(rest) != "Z" && std::string_view(rest) != "z")) {
      fail(node, path, "\"" + s + "\" is not an RFC 3339 UTC timestamp (2019-03-19T16:04:28Z)");
      return true;
    }
    r->SetInt64(&message, d->FindFieldByName("seconds"), int64_t(timegm(&tm)));
    r->SetInt32(&message, d->FindFieldByName("nanos"), int32_t(std::lround(frac * 1e9)));
    return true;
  }
  if (type == "google.protobuf.Struct") {
    if (!node.isMapping()) {
      fail(node, path, "expected a mapping, got " + describeNode(node));
      return true;
    }
    readMap(node, message, d->FindFieldByName("fields"), path);
    return true;
  }
  if (type == "google.protobuf.Value") {
    readValue(node, message, path);
    return true;
  }
  if (type == "google.protobuf.ListValue") {
    if (!node.isSequence()) {
      fail(node, path, "expected a list, got " + describeNode(node));
      return true;
    }
    const FD* values = d->FindFieldByName("values");
    for (size_t i = 0; i < node.size(); ++i) readValue(node[i], *r->AddMessage(&message, values), indexPath(path, i));
    return true;
  }
  if (type == "google.protobuf.Any") {
    readAny(node, message, path);
    return true;
  }
  // Wrappers (BoolValue, UInt32Value, ...) are written as their bare value.
  if (type.size() > 5 && type.compare(type.size() - 5, 5, "Value") == 0 && d->field_count() == 1 &&
      d->field(0)->name() == "value") {
    readScalarInto(node, message, d->field(0), path);
    return true;
  }
  return false;
}

void YamlProtoReader::readValue(yaml::Node node, pb::Message& value, const std::string& path) {
  if (!spend(node, path)) return;
  const pb::Descriptor* d = value.GetDescriptor();
  const pb::Reflection* r = value.GetReflection();
  if (node.isNull()) {
    r->SetEnumValue(&value, d->FindFieldByName("null_value"), 0);
  } else if (node.isMapping()) {
    readWellKnown(node, *r->MutableMessage(&value, d->FindFieldByName("struct_value")), path);
  } else if (node.isSequence()) {
    readWellKnown(node, *r->MutableMessage(&value, d->FindFieldByName("list_value")), path);
  } else {
    std::string_view s = node.scalar();
    if (isPlain(node)) {
      if (auto b = parseBool(s); b && (s == "true" || s == "false" || s == "True" || s == "False")) {
        r->SetBool(&value, d->FindFieldByName("bool_value"), *b);
        return;
      }
      if (looksLikeNumber(s)) {
        if (auto v = parseDouble(s)) {
          r->SetDouble(&value, d->FindFieldByName("number_value"), *v);
          return;
        }
      }
    }
    r->SetString(&value, d->FindFieldByName("string_value"), std::string(s));
  }
}

void YamlProtoReader::readAny(yaml::Node node, pb::Message& any, const std::string& path) {
  if (!node.isMapping()) {
    fail(node, path, "expected a mapping with \"@type\", got " + describeNode(node));
    return;
  }
  const yaml::Node type_node = node.find("@type");
  if (!type_node.isScalar()) {
    fail(node, path, "an Any needs \"@type\" (type.googleapis.com/<message>)");
    return;
  }
  const std::string url(type_node.scalar());
  std::string name = url.substr(url.rfind('/') + 1);
  const pb::Descriptor* target = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(name);
  if (target == nullptr) {
    fail(type_node, childPath(path, "@type"), "unknown type \"" + url + "\"");
    return;
  }
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(target);
  std::unique_ptr<pb::Message> inner(prototype->New());
  bool wkt = name.rfind("google.protobuf.", 0) == 0 && name != "google.protobuf.Empty";
  if (wkt) {
    readMessage(node.find("value"), *inner, childPath(path, "value"));
  } else {
    size_t before = errors_.size();
    readMessage(node, *inner, path, "@type");
    if (errors_.size() != before) return;
  }
  const pb::Descriptor* d = any.GetDescriptor();
  const pb::Reflection* r = any.GetReflection();
  r->SetString(&any, d->FindFieldByName("type_url"), url);
  r->SetString(&any, d->FindFieldByName("value"), inner->SerializeAsString());
}

}  // namespace monomesh::config
