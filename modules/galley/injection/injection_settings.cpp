#include "galley/injection/injection_settings.h"

#include "config/mesh_config.h"

namespace monomesh::galley::injection {

config::ConfigErrors readInjectionSettings(const std::string& inject_config_file, const std::string& mesh_config_file,
                                           InjectionSettings& out) {
  out = InjectionSettings{};
  config::ConfigErrors errors;
  if (!inject_config_file.empty()) errors = readInjectionConfigFile(inject_config_file, out.config, out.notes);
  if (!mesh_config_file.empty()) {
    auto mesh_errors = config::readMeshConfigFile(mesh_config_file, out.mesh);
    errors.insert(errors.end(), mesh_errors.begin(), mesh_errors.end());
  }
  return errors;
}

}  // namespace monomesh::galley::injection
