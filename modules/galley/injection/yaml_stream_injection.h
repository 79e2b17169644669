// kube-inject over a YAML stream: the documents of a file (split where a line is `---`, as
// Kubernetes' YAML reader splits them) come out in order with the same separators; workloads
// are injected and written back, everything else is passed through byte for byte.
#pragma once
#include <string>
#include <vector>

#include "config/source_position.h"
#include "galley/injection/injector.h"

namespace monomesh::galley::injection {

struct StreamInjection {
  std::string output;                // empty when there are errors (a file is all or nothing)
  config::ConfigErrors errors;       // file:line:column of every bad document or field
  std::vector<std::string> skipped;  // workloads left alone, and why
  int injected = 0;                  // documents that got a sidecar
};

StreamInjection injectYamlStream(const std::string& text, const std::string& file, const Injector& injector);

}  // namespace monomesh::galley::injection
