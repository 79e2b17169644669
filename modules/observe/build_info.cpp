#include "observe/build_info.h"

#include <fmt/format.h>

namespace monomesh::observe {

const BuildInfo& buildInfo() {
  static const BuildInfo info{MONOMESH_VERSION, MONOMESH_BUILD_TYPE,
                              fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__),
                              "istio 1.1", "envoy v3"};
  return info;
}

std::string buildInfoJson() {
  const auto& b = buildInfo();
  return fmt::format(
      "{{\"version\":\"{}\",\"build_type\":\"{}\",\"compiler\":\"{}\",\"istio_api\":\"{}\","
      "\"xds_api\":\"{}\"}}\n",
      b.version, b.build_type, b.compiler, b.istio_api, b.xds_api);
}

}  // namespace monomesh::observe
