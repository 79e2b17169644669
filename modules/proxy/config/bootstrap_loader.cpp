#include "proxy/config/bootstrap_loader.h"

#include "config/loader.h"
#include "config/yaml_proto_reader.h"

namespace monomesh::proxy {

config::ConfigErrors readProtoText(const std::string& text, const std::string& name, const std::string& what,
                                   google::protobuf::Message& out) {
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return {config::ConfigError{config::SourcePosition{name, e.mark.line + 1, e.mark.column + 1}, "", "",
                                "invalid YAML: " + e.msg}};
  }
  if (!node.IsMap()) {
    return {config::ConfigError{config::SourcePosition{name, 1, 1}, "", "", "a " + what + " must be a mapping"}};
  }
  config::YamlProtoReader reader(name);
  reader.read(node, out, "");
  return reader.takeErrors();
}

config::ConfigErrors loadBootstrap(const std::string& path, const std::string& yaml,
                                   envoy::config::bootstrap::v3::Bootstrap& out) {
  out.Clear();
  if (!path.empty()) {
    std::string error;
    auto text = config::readConfigFile(path, 32u << 20, error);
    if (!text) return {config::ConfigError{config::SourcePosition{path, 0, 0}, "", "", error}};
    if (auto errors = readProtoText(*text, path, "bootstrap", out); !errors.empty()) return errors;
  }
  if (!yaml.empty()) {
    envoy::config::bootstrap::v3::Bootstrap overlay;
    if (auto errors = readProtoText(yaml, "--config-yaml", "bootstrap", overlay); !errors.empty()) return errors;
    out.MergeFrom(overlay);
  }
  return {};
}

}  // namespace monomesh::proxy
