// Reads an Envoy v3 bootstrap (YAML or JSON, like Envoy's --config-path/--config-yaml) exactly:
// unknown fields and mistyped values are errors with file:line:column and the field path.
#pragma once
#include <string>

#include "config/source_position.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace monomesh::proxy {

// `path` may be empty when only `yaml` is given; `yaml` (if any) is merged over the file.
config::ConfigErrors loadBootstrap(const std::string& path, const std::string& yaml,
                                   envoy::config::bootstrap::v3::Bootstrap& out);

}  // namespace monomesh::proxy
