#include "config/loader.h"

#include <charconv>
#include <cstring>
#include <fstream>
#include <google/protobuf/message.h>

#include "config/field_locator.h"
#include "config/validation/validation.h"
#include "config/yaml/yaml_parser.h"
#include "config/yaml_proto_reader.h"

namespace monomesh::config {

namespace pb = google::protobuf;

namespace {

bool isDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i > 0 && i + 1 < s.size())) return false;
  }
  return true;
}

bool isDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    for (size_t i = 0; i < label.size(); ++i) {
      char c = label[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (!alnum && !(c == '-' && i > 0 && i + 1 < label.size())) return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// A run of the text holding whole documents, and the file line it starts on.
struct DocumentText {
  std::string_view text;
  int first_line = 0;
};

// The text cut before each line that starts a document ("---"). Parsing one document at a time
// keeps one document's tree in memory rather than the whole file's, and a piece that needs
// yaml-cpp (see yaml_parser.h) costs only that piece. A "---" line always starts a document (YAML forbids it
// inside a scalar); directives ("%YAML") belong to the document after them, so text with any is
// kept whole.
std::vector<DocumentText> splitDocuments(std::string_view text) {
  std::vector<DocumentText> pieces;
  size_t start = 0;
  int start_line = 0, line = 0;
  for (size_t pos = 0; pos < text.size(); ++line) {
    size_t eol = text.find('\n', pos);
    std::string_view l = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (l.starts_with('%')) return {DocumentText{text, 0}};
    bool marker = l.starts_with("---") && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    if (marker && pos > start) {
      pieces.push_back(DocumentText{text.substr(start, pos - start), start_line});
      start = pos;
      start_line = line;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  pieces.push_back(DocumentText{text.substr(start), start_line});
  return pieces;
}

class DocumentLoader {
 public:
  DocumentLoader(const std::string& file, const LoadOptions& options, LoadResult& out, const Schema* implied = nullptr)
      : file_(file), options_(options), out_(out), implied_(implied) {}

  // Documents parsed from a piece of the file that starts `first_line` lines in.
  void startingAt(int first_line) { first_line_ = first_line; }

  void load(yaml::Node doc) {
    if (doc.isNull()) return;  // empty document between `---`
    if (!doc.isMapping()) {
      error(doc, "", "", "a document must be a mapping with apiVersion, kind and metadata, got " + describeNode(doc));
      return;
    }
    if (!uniqueKeys(doc, "")) return;
    std::string api_version = scalar(doc, "apiVersion"), kind = scalar(doc, "kind");
    if (implied_ && api_version.empty()) api_version = implied_->apiVersion();
    if (implied_ && kind.empty()) kind = implied_->kind;
    if (kind == "List" && (api_version == "v1" || api_version.empty())) {
      const yaml::Node items = doc.find("items");
      if (!items.isNull() && !items.isSequence()) {
        error(items, "", "items", "expected a list, got " + describeNode(items));
        return;
      }
      for (yaml::Node item : items.items()) load(item);
      return;
    }
    if (api_version.empty() || kind.empty()) {
      error(doc, "", api_version.empty() ? "apiVersion" : "kind",
            "required (every object names its apiVersion and kind)");
      return;
    }
    std::string group = api_version.find('/') == std::string::npos ? "" : api_version.substr(0, api_version.find('/'));
    const SchemaRegistry& registry = *options_.registry;
    const Schema* schema = registry.find(api_version, kind);
    if (schema == nullptr) {
      if (!SchemaRegistry::isIstioGroup(group)) {
        out_.skipped.push_back({position(doc), api_version, kind, scalar(doc.find("metadata"), "name")});
        return;
      }
      auto versions = registry.versionsOf(group);
      const Schema* same_kind = nullptr;
      for (const auto& s : registry.all())
        if (s.group == group && s.kind == kind) same_kind = &s;
      std::string subject = kind + " " + describeName(doc);
      if (same_kind != nullptr) {
        error(doc.find("apiVersion"), subject, "apiVersion",
              "\"" + api_version + "\" is not an Istio 1.1 API version for " + kind + "; use " + same_kind->apiVersion());
      } else {
        error(doc.find("kind"), subject, "kind", "unknown kind \"" + kind + "\" in " + group);
      }
      return;
    }

    Resource resource;
    resource.schema = schema;
    resource.origin = position(doc);
    resource.cluster_id = options_.cluster_id;
    size_t errors_before = out_.errors.size();
    readMetadata(doc, *schema, resource.meta);
    std::string subject = ResourceKey{schema, resource.meta.namespace_, resource.meta.name}.str();
    for (size_t i = errors_before; i < out_.errors.size(); ++i) out_.errors[i].subject = subject;

    const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(schema->message);
    std::unique_ptr<pb::Message> body(prototype->New());
    ReadOptions read_options{schema->strict, options_.max_errors_per_object};
    read_options.first_line = first_line_;
    YamlProtoReader reader(file_, read_options);
    if (schema->body == Body::Spec) {
      for (auto [key_node, value] : doc.entries()) {
        std::string_view key = key_node.isScalar() ? key_node.scalar() : "";
        if (key != "apiVersion" && key != "kind" && key != "metadata" && key != "spec" && key != "status")
          error(key_node, subject, std::string(key),
                "unknown top-level field (an Istio object has apiVersion, kind, metadata and spec)");
      }
      reader.read(doc.find("spec"), *body, "spec");
    } else {
      reader.read(doc, *body, "");
    }
    for (auto& e : reader.takeErrors()) {
      e.subject = subject;
      out_.errors.push_back(std::move(e));
    }
    if (out_.errors.size() != errors_before) return;
    resource.body = std::shared_ptr<const pb::Message>(body.release());
    if (options_.validate && !validate(doc, resource)) return;
    out_.resources.push_back(std::move(resource));
  }

 private:
  // Semantic validation; each finding is placed at its field in the YAML. False when rejected.
  bool validate(yaml::Node doc, const Resource& resource) {
    auto found = validation::validateResource(resource);
    for (auto* list : {&found.errors, &found.notes})
      for (auto& e : *list) e.position = locateField(doc, e.path, file_, resource.origin, first_line_);
    out_.notes.insert(out_.notes.end(), found.notes.begin(), found.notes.end());
    out_.errors.insert(out_.errors.end(), found.errors.begin(), found.errors.end());
    return found.ok();
  }

  SourcePosition position(yaml::Node node) const {
    return SourcePosition{file_, node.line() + first_line_, node.column()};
  }

  void error(yaml::Node node, const std::string& subject, const std::string& path, std::string message) {
    SourcePosition pos = node.defined() && node.line() > 0 ? position(node) : SourcePosition{file_, 0, 0};
    out_.errors.push_back(ConfigError{pos, subject, path, std::move(message)});
  }

  // A key given twice is an error: the reader of the first would silently ignore the second.
  bool uniqueKeys(yaml::Node map, const std::string& prefix) {
    yaml::RepeatedKeys repeated(map);
    bool ok = true;
    for (size_t i = 0; i < map.size(); ++i) {
      if (int first = repeated.firstLine(i)) {
        yaml::Node key = map.entry(i).key;
        error(key, "", prefix + std::string(key.scalar()),
              "set more than once (first at line " + std::to_string(first + first_line_) + ")");
        ok = false;
      }
    }
    return ok;
  }

  // "ns/name" from the metadata as written (namespace defaulted), for error subjects.
  std::string describeName(yaml::Node doc) const {
    std::string ns = scalar(doc.find("metadata"), "namespace"), name = scalar(doc.find("metadata"), "name");
    return (ns.empty() ? options_.default_namespace : ns) + "/" + name;
  }

  static std::string scalar(yaml::Node map, std::string_view key) { return std::string(map.find(key).scalar()); }

  // An unquoted 1 or true: Kubernetes reads YAML as JSON, where that is not a string.
  static bool plainNonString(yaml::Node v) {
    return v.isPlainScalar() && describeNode(v).rfind("the string", 0) != 0;
  }

  void readStringMap(yaml::Node node, const std::string& path, std::map<std::string, std::string>& out) {
    if (node.isNull()) return;
    if (!node.isMapping()) {
      error(node, "", path, "expected a mapping of strings, got " + describeNode(node));
      return;
    }
    for (auto [key_node, value] : node.entries()) {
      if (!key_node.isScalar() || !value.isScalar()) {
        error(value, "", path, "keys and values must be strings, got " + describeNode(value));
        continue;
      }
      std::string key(key_node.scalar());
      std::string kpath = path + "[\"" + key + "\"]";
      if (plainNonString(value)) {
        error(value, "", kpath, "expected a string, got " + describeNode(value) + " (quote it to make it a string)");
        continue;
      }
      if (!out.emplace(std::move(key), value.scalar()).second) error(key_node, "", kpath, "key set more than once");
    }
  }

  void readMetadata(yaml::Node doc, const Schema& schema, ObjectMeta& meta) {
    const yaml::Node md = doc.find("metadata");
    if (!md.isMapping()) {
      error(md.defined() ? md : doc, "", "metadata",
            md.defined() ? "expected a mapping, got " + describeNode(md) : "required (metadata.name names the object)");
      return;
    }
    if (!uniqueKeys(md, "metadata.")) return;
    for (const char* key : {"name", "namespace"}) {
      const yaml::Node v = md.find(key);
      if (plainNonString(v)) {
        error(v, "", std::string("metadata.") + key,
              "expected a string, got " + describeNode(v) + " (quote it to make it a string)");
        return;
      }
    }
    meta.name = scalar(md, "name");
    meta.namespace_ = scalar(md, "namespace");
    meta.resource_version = scalar(md, "resourceVersion");
    meta.uid = scalar(md, "uid");
    meta.creation_timestamp = scalar(md, "creationTimestamp");
    if (std::string g = scalar(md, "generation"); !g.empty()) {
      auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), meta.generation);
      if (ec != std::errc() || end != g.data() + g.size())
        error(md.find("generation"), "", "metadata.generation", "expected an integer, got " + describeNode(md.find("generation")));
    }
    readStringMap(md.find("labels"), "metadata.labels", meta.labels);
    readStringMap(md.find("annotations"), "metadata.annotations", meta.annotations);
    if (meta.name.empty()) {
      error(md.find("name").defined() ? md.find("name") : md, "", "metadata.name", "required");
    } else if (!isDns1123Subdomain(meta.name)) {
      error(md.find("name"), "", "metadata.name",
            "\"" + meta.name + "\" is not a valid name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)");
    }
    if (!schema.namespaced()) {
      meta.namespace_.clear();  // Kubernetes ignores a namespace on cluster-scoped objects
    } else if (meta.namespace_.empty()) {
      meta.namespace_ = options_.default_namespace;
    } else if (!isDns1123Label(meta.namespace_)) {
      error(md.find("namespace"), "", "metadata.namespace", "\"" + meta.namespace_ + "\" is not a valid namespace name");
    }
  }

  const std::string& file_;
  const LoadOptions& options_;
  LoadResult& out_;
  const Schema* implied_;
  int first_line_ = 0;  // file lines before the document being loaded
};

}  // namespace

LoadResult loadYaml(std::string_view text, const std::string& file, const LoadOptions& options) {
  LoadResult result;
  DocumentLoader loader(file, options, result);
  yaml::DocumentList docs;  // reused piece after piece
  for (const DocumentText& piece : splitDocuments(text)) {
    if (auto e = yaml::parseYaml(piece.text, docs)) {
      result.errors.push_back(ConfigError{
          SourcePosition{file, e->mark.line + 1 + piece.first_line, e->mark.column + 1}, "", "", "invalid YAML: " + e->message});
      // Text that is not YAML yields no objects, as if the file were read whole.
      result.resources.clear();
      result.skipped.clear();
      result.notes.clear();
      return result;
    }
    loader.startingAt(piece.first_line);
    for (size_t i = 0; i < docs.size(); ++i) loader.load(docs[i].root());
  }
  return result;
}

LoadResult loadNode(yaml::Node document, const std::string& file, const LoadOptions& options, const Schema* implied) {
  LoadResult result;
  DocumentLoader(file, options, result, implied).load(document);
  return result;
}

std::optional<std::string> readConfigFile(const std::string& path, size_t max_bytes, std::string& error) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    error = std::string("cannot read: ") + std::strerror(errno);
    return std::nullopt;
  }
  auto size = static_cast<std::streamoff>(in.tellg());
  if (size < 0 || size_t(size) > max_bytes) {
    error = "file is " + std::to_string(size) + " bytes; the limit is " + std::to_string(max_bytes);
    return std::nullopt;
  }
  in.seekg(0);
  std::string content(size_t(size), '\0');
  if (!in.read(content.data(), size)) {
    error = "cannot read: short read";
    return std::nullopt;
  }
  return content;
}

LoadResult loadFile(const std::string& path, const LoadOptions& options) {
  std::string error;
  auto content = readConfigFile(path, options.max_file_bytes, error);
  if (!content) {
    LoadResult result;
    result.errors.push_back(ConfigError{SourcePosition{path, 0, 0}, "", "", error});
    return result;
  }
  return loadYaml(*content, path, options);
}

}  // namespace monomesh::config
