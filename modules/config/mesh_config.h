// MeshConfig (the `mesh` key of ConfigMap istio) with Istio 1.1's code defaults, read from YAML
// the way pilot-discovery's --meshConfig reads it: the file's fields override the defaults.
#pragma once
#include <optional>
#include <string>

#include "config/source_position.h"
#include "istio/mesh/v1alpha1/config.pb.h"
#include "istio/mesh/v1alpha1/network.pb.h"

namespace monomesh::config {

istio::mesh::v1alpha1::MeshConfig defaultMeshConfig();
istio::mesh::v1alpha1::ProxyConfig defaultProxyConfig();

// Defaults overlaid with `text`; errors carry file:line:column and the field path.
ConfigErrors readMeshConfig(const std::string& text, const std::string& file,
                            istio::mesh::v1alpha1::MeshConfig& out);
ConfigErrors readMeshConfigFile(const std::string& path, istio::mesh::v1alpha1::MeshConfig& out);

ConfigErrors readMeshNetworks(const std::string& text, const std::string& file,
                              istio::mesh::v1alpha1::MeshNetworks& out);

}  // namespace monomesh::config
