// What Galley holds back: files of the config folder and objects of the Kubernetes API whose
// current content failed validation and is not distributed (their last good version is), for
// the /debug/invalid listing and the galley_source_invalid gauge.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "config/source_position.h"

namespace monomesh::galley {

struct InvalidConfig {
  std::string source;  // "file" or "kubernetes"
  std::string name;    // the file's path, or "VirtualService default/reviews"
  config::ConfigErrors errors;
};

// Entries of one source from what DirectorySource::fileErrors() or KubeSource::invalidObjects() list.
void appendInvalid(std::vector<InvalidConfig>& out, const std::string& source,
                   const std::map<std::string, config::ConfigErrors>& errors);

// {"invalid": [{"source": ..., "name": ..., "errors": [{"position", "subject", "path", "message"}]}]}
std::string invalidConfigJson(const std::vector<InvalidConfig>& entries);

}  // namespace monomesh::galley
