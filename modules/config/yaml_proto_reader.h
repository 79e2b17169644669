// Reads a YAML (or JSON) node into a protobuf message following protobuf's JSON mapping, the
// way Istio and Envoy read their YAML: lowerCamelCase or snake_case field names, enums by name,
// Go-style durations ("5s", "1m"), Struct/Value/Any/wrappers. Every error names the line,
// column and field path. In strict mode (Istio's API groups) unknown fields and mistyped
// scalars are errors; lenient mode (Kubernetes objects) skips fields the mesh does not model.
#pragma once
#include <google/protobuf/message.h>
#include <string>
#include <string_view>
#include <yaml-cpp/yaml.h>  // callers that still hold yaml-cpp trees (and their tests) get YAML::Load

#include "config/source_position.h"
#include "config/yaml/yaml_node.h"

namespace monomesh::config {

struct ReadOptions {
  bool strict = true;
  size_t max_errors = 20;  // stop collecting after this many
  // Bounds the work per document: YAML aliases can make a small text expand exponentially.
  size_t max_values = 1000000;
  // Lines of the file before the text the node came from (documents are parsed one at a time);
  // added to every line number reported.
  int first_line = 0;
};

class YamlProtoReader {
 public:
  YamlProtoReader(std::string file, ReadOptions options = {}) : file_(std::move(file)), options_(options) {}

  // Merges `node` into `message`; `path` prefixes error paths ("spec"). Returns true when no error.
  bool read(yaml::Node node, google::protobuf::Message& message, const std::string& path);
  // The same for a yaml-cpp tree (the proxy's bootstrap loader holds one): it is copied first,
  // aliases expanded up to max_values nodes.
  bool read(const YAML::Node& node, google::protobuf::Message& message, const std::string& path);

  const ConfigErrors& errors() const { return errors_; }
  ConfigErrors takeErrors() { return std::move(errors_); }

  SourcePosition position(yaml::Node node) const;

 private:
  void readMessage(yaml::Node node, google::protobuf::Message& message, const std::string& path,
                   std::string_view skip_key = {});
  void readField(yaml::Node node, google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
                 const std::string& path);
  void readMap(yaml::Node node, google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
               const std::string& path);
  void readScalarInto(yaml::Node node, google::protobuf::Message& message,
                      const google::protobuf::FieldDescriptor* field, const std::string& path);
  bool readWellKnown(yaml::Node node, google::protobuf::Message& message, const std::string& path);
  void readValue(yaml::Node node, google::protobuf::Message& value, const std::string& path);
  void readAny(yaml::Node node, google::protobuf::Message& any, const std::string& path);
  void fail(yaml::Node node, const std::string& path, std::string message);
  void failAt(int line, int column, const std::string& path, std::string message);
  // Counts one visited value; false (with one error) once the budget is spent.
  bool spend(yaml::Node node, const std::string& path);
  std::string tooManyValues() const;
  void remember(yaml::Node node);

  std::string file_;
  ReadOptions options_;
  ConfigErrors errors_;
  int last_line_ = 1;  // of the last node with a position (1-based): where absent fields are reported
  int last_column_ = 1;
  size_t values_ = 0;
};

// Human description of a node's shape for messages: "a list", "a mapping", "the number 80".
std::string describeNode(yaml::Node node);
std::string describeNode(const YAML::Node& node);

}  // namespace monomesh::config
