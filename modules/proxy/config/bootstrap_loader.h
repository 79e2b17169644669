// Reads an Envoy v3 bootstrap (YAML or JSON, like Envoy's --config-path/--config-yaml) exactly:
// unknown fields and mistyped values are errors with file:line:column and the field path. Other
// files the proxy reads (config_source.path DiscoveryResponses) are read the same way.
#pragma once
#include <string>

#include "config/source_position.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace monomesh::proxy {

// One message from YAML or JSON `text` (`name` is the file named in errors; `what` the message
// in "a <what> must be a mapping").
config::ConfigErrors readProtoText(const std::string& text, const std::string& name, const std::string& what,
                                   google::protobuf::Message& out);

// `path` may be empty when only `yaml` is given; `yaml` (if any) is merged over the file.
config::ConfigErrors loadBootstrap(const std::string& path, const std::string& yaml,
                                   envoy::config::bootstrap::v3::Bootstrap& out);

}  // namespace monomesh::proxy
