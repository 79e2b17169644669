// Envoy's Http2ProtocolOptions (HCM http2_protocol_options, a cluster's HTTP/2 settings) as the
// net::h2 session options, with the mesh's bounded defaults where Envoy leaves a field unset.
#pragma once
#include "envoy/config/core/v3/protocol.pb.h"
#include "net/h2/h2_options.h"

namespace monomesh::proxy {

// Throws std::invalid_argument("<field>: <problem>") for values HTTP/2 does not allow.
net::h2::H2Options h2OptionsFrom(const envoy::config::core::v3::Http2ProtocolOptions& options);

}  // namespace monomesh::proxy
