// MeshConfig accessLogFile / accessLogFormat / accessLogEncoding, as Istio 1.1's Pilot applied
// them: when the file is set, every HTTP connection manager and tcp_proxy of a proxy's listeners
// (sidecars and gateways) logs to it with envoy.file_access_log.
#pragma once

#include <vector>

#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "istio/mesh/v1alpha1/config.pb.h"

namespace monomesh::pilot::xds {

// The access log the mesh config asks for: TEXT with accessLogFormat or Istio 1.1's default
// format; JSON with accessLogFormat read as a JSON object of operators, or 1.1's default fields.
envoy::config::accesslog::v3::AccessLog meshAccessLog(const istio::mesh::v1alpha1::MeshConfig& mesh);

// Adds meshAccessLog() to the listeners' connection managers and tcp_proxies; nothing when
// accessLogFile is empty (the 1.1 chart's default).
void addMeshAccessLog(const istio::mesh::v1alpha1::MeshConfig& mesh,
                      std::vector<envoy::config::listener::v3::Listener>& listeners);

}  // namespace monomesh::pilot::xds
