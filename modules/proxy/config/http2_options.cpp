#include "proxy/config/http2_options.h"

#include <stdexcept>
#include <string>

#include "proxy/config/proto_values.h"

namespace monomesh::proxy {

net::h2::H2Options h2OptionsFrom(const envoy::config::core::v3::Http2ProtocolOptions& o) {
  net::h2::H2Options out;
  out.max_concurrent_streams = 1024;  // Envoy's default since 1.24; bounded per connection
  if (o.has_max_concurrent_streams()) {
    if (o.max_concurrent_streams().value() == 0) throw std::invalid_argument("max_concurrent_streams: must be at least 1");
    out.max_concurrent_streams = o.max_concurrent_streams().value();
  }
  // RFC 9113 §6.9.2: windows are 65535 .. 2^31-1.
  auto window = [](const google::protobuf::UInt32Value& v, const char* field) {
    if (v.value() < 65535 || v.value() > 0x7fffffffu)
      throw std::invalid_argument(std::string(field) + ": " + std::to_string(v.value()) + " is outside 65535..2147483647");
    return v.value();
  };
  if (o.has_initial_stream_window_size()) out.initial_stream_window_size = window(o.initial_stream_window_size(), "initial_stream_window_size");
  if (o.has_initial_connection_window_size())
    out.initial_connection_window_size = window(o.initial_connection_window_size(), "initial_connection_window_size");
  if (o.has_max_outbound_control_frames()) out.max_outbound_control_frames = o.max_outbound_control_frames().value();
  if (o.has_max_consecutive_inbound_frames_with_empty_payload())
    out.max_consecutive_empty_frames = o.max_consecutive_inbound_frames_with_empty_payload().value();
  out.enable_connect_protocol = o.allow_connect();  // (a client never sends it)
  if (o.has_connection_keepalive()) {
    const auto& k = o.connection_keepalive();
    if (k.has_interval()) out.keepalive_interval = toMillis(k.interval());
    if (k.has_timeout()) out.keepalive_timeout = toMillis(k.timeout());
  }
  return out;
}

}  // namespace monomesh::proxy
