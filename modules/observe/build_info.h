// What this binary is: version, build type, compiler. Served by `monomesh version` and /version.
#pragma once
#include <string>

namespace monomesh::observe {

struct BuildInfo {
  std::string version;
  std::string build_type;
  std::string compiler;
  std::string istio_api;  // the Istio API release whose config this binary accepts
  std::string xds_api;
};

const BuildInfo& buildInfo();
std::string buildInfoJson();

}  // namespace monomesh::observe
