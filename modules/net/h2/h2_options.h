// What an HTTP/2 session may do and how much it may take: Envoy's http2_protocol_options
// (concurrent streams, windows, header list size) plus the flood defences, each a bound that closes
// the connection when crossed, and the counters that record why a connection was closed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace monomesh::net::h2 {

struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;
// A header field by reference, for an answer built from fields held elsewhere (nghttp2 copies
// them when the headers are submitted, so they need to live only for that call).
struct HeaderRef {
  std::string_view name;
  std::string_view value;
};

// First value of a header (names are lower case in HTTP/2), or nullptr.
const std::string* findHeader(const Headers& headers, std::string_view name);

struct H2Options {
  uint32_t max_concurrent_streams = 100;           // SETTINGS_MAX_CONCURRENT_STREAMS we advertise
  uint32_t initial_stream_window_size = 256 * 1024;  // per-stream inbound buffer bound
  uint32_t initial_connection_window_size = 1024 * 1024;
  uint32_t max_header_list_size = 60 * 1024;      // Envoy's max_request_headers_kb default (60 KiB)
  size_t max_outbound_buffer = 64 * 1024;          // a writer waits above this many queued bytes
  // Defences (CVE-2023-44487 rapid reset, HPACK bombs, control and empty-frame floods).
  uint32_t reset_burst = 200;                     // RST_STREAMs received, token bucket
  uint32_t resets_per_second = 100;
  uint32_t max_outbound_control_frames = 1000;    // queued SETTINGS/PING ACKs before flood
  uint32_t max_settings_entries = 32;
  uint32_t max_consecutive_empty_frames = 1;      // DATA without payload nor END_STREAM
  uint32_t max_header_overflows = 10;             // streams refused for oversized headers
  size_t max_continuations = 8;
  // Timers; zero disables.
  std::chrono::milliseconds idle_timeout{0};      // no open stream for this long -> GOAWAY
  std::chrono::milliseconds keepalive_interval{0};  // PING when the peer was quiet this long
  std::chrono::milliseconds keepalive_timeout{20000};
  std::chrono::milliseconds drain_timeout{5000};   // after GOAWAY, streams get this long
  // Server: SETTINGS_ENABLE_CONNECT_PROTOCOL, so clients may send extended CONNECT (RFC 8441).
  bool enable_connect_protocol = false;
};

// Why connections were closed or streams refused; owned by whoever creates sessions (one per
// worker or per server), updated on that thread only.
struct H2Counters {
  uint64_t connections = 0;
  uint64_t streams = 0;
  uint64_t rx_reset = 0;
  uint64_t tx_reset = 0;
  uint64_t goaway_sent = 0;
  uint64_t goaway_received = 0;
  uint64_t rapid_reset = 0;           // closed for RST_STREAM floods
  uint64_t header_overflow = 0;       // streams refused: header list too large
  uint64_t header_bomb = 0;           // closed for repeated header overflows / too many CONTINUATIONs
  uint64_t control_flood = 0;         // closed for SETTINGS/PING floods
  uint64_t empty_frame_flood = 0;     // closed for empty DATA frames
  uint64_t protocol_error = 0;        // closed for other framing errors
  uint64_t keepalive_timeout = 0;
  uint64_t idle_timeout = 0;
  uint64_t stream_id_exhausted = 0;
};

}  // namespace monomesh::net::h2
