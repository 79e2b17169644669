#include "galley/access_list.h"

#include <yaml-cpp/yaml.h>

#include "config/loader.h"
#include "net/tls/spiffe_id.h"

namespace monomesh::galley {

bool AccessList::admits(const net::tls::PeerIdentity& peer) const {
  for (const auto& uri : peer.uri_sans)
    if (allowed.count(uri)) return true;
  return false;
}

config::ConfigErrors readAccessList(const std::string& text, const std::string& file, AccessList& out) {
  auto error = [&](const YAML::Mark& mark, const std::string& path, const std::string& message) {
    config::SourcePosition at{file, mark.is_null() ? 0 : mark.line + 1, mark.is_null() ? 0 : mark.column + 1};
    return config::ConfigError{at, "access list", path, message};
  };
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return {error(e.mark, "", "invalid YAML: " + e.msg)};
  }
  config::ConfigErrors errors;
  if (!root.IsMap()) return {error(root.Mark(), "", "expected a map with the key `allowed`")};
  for (const auto& entry : root) {
    std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    if (key != "allowed") errors.push_back(error(entry.first.Mark(), key, "unknown key (only `allowed`)"));
  }
  const YAML::Node allowed = root["allowed"];
  if (!allowed.IsDefined() || !allowed.IsSequence()) {
    errors.push_back(error(allowed.IsDefined() ? allowed.Mark() : root.Mark(), "allowed", "expected a list of SPIFFE ids"));
    return errors;
  }
  AccessList list;
  for (size_t i = 0; i < allowed.size(); ++i) {
    std::string why;
    std::string path = "allowed[" + std::to_string(i) + "]";
    if (!allowed[i].IsScalar()) {
      errors.push_back(error(allowed[i].Mark(), path, "expected a SPIFFE id"));
    } else if (!net::tls::SpiffeId::parse(allowed[i].Scalar(), why)) {
      errors.push_back(error(allowed[i].Mark(), path, "\"" + allowed[i].Scalar() + "\" is not a SPIFFE id: " + why));
    } else {
      list.allowed.insert(allowed[i].Scalar());
    }
  }
  if (errors.empty()) out = std::move(list);
  return errors;
}

config::ConfigErrors readAccessListFile(const std::string& path, AccessList& out) {
  std::string error;
  auto text = config::readConfigFile(path, 1u << 20, error);
  if (!text) return {config::ConfigError{config::SourcePosition{path, 0, 0}, "access list", "", error}};
  return readAccessList(*text, path, out);
}

}  // namespace monomesh::galley
