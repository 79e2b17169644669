// Everything the injector is built from, read as `monomesh kube-inject` and Galley's /inject
// webhook both read it: the injector config file (policy, selectors, values; 1.1's
// --injectConfigFile / sidecar-injector --injectConfig) and the mesh config file (--meshConfigFile
// / --meshConfig). An empty path means the built-in defaults: defaultInjectionConfig() and the
// 1.1 chart's MeshConfig, so both paths inject the same sidecar for the same pod.
#pragma once
#include <string>
#include <vector>

#include "config/source_position.h"
#include "galley/injection/injection_config.h"
#include "istio/mesh/v1alpha1/config.pb.h"

namespace monomesh::galley::injection {

struct InjectionSettings {
  InjectionConfig config = defaultInjectionConfig();
  istio::mesh::v1alpha1::MeshConfig mesh = chartMeshConfig();
  std::vector<std::string> notes;  // what was read but not used (Istio's Go `template`)
};

// Errors carry file:line:column; `out` is complete only when there are none.
config::ConfigErrors readInjectionSettings(const std::string& inject_config_file, const std::string& mesh_config_file,
                                           InjectionSettings& out);

}  // namespace monomesh::galley::injection
