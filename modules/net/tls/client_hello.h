// Envoy's tls_inspector as a pure function: looks at the first bytes of a connection and tells
// whether it starts with a TLS ClientHello and, if so, its SNI and ALPN list, so that a listener
// can pick a filter chain before any handshake. Works on whatever prefix has arrived so far.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace monomesh::net::tls {

// ClientHellos larger than this are refused (Envoy closes such connections too). Real ones are
// well under 2 KiB, even with post-quantum key shares.
inline constexpr size_t kDefaultMaxClientHelloBytes = 16 * 1024;

struct ClientHelloInfo {
  enum class Status {
    NeedMoreData,  // a valid prefix so far; call again with more bytes
    NotTls,        // not a TLS ClientHello (plain text, SSLv2, malformed): treat as raw bytes
    Tls,           // a complete, well-formed ClientHello
    TooLarge,      // a ClientHello longer than the limit: close the connection
  };
  Status status = Status::NeedMoreData;
  std::string server_name;         // SNI host_name; empty when absent
  std::vector<std::string> alpn;   // protocols offered, in the client's order

  // Envoy's transport_protocol for filter chain matching: "tls", "raw_buffer", or empty while
  // undecided (NeedMoreData, TooLarge).
  std::string_view transportProtocol() const;
};

// Never reads past `data` nor past `max_bytes` of it; handles a ClientHello split across TLS
// records and any prefix of it. Malformed or contradictory lengths give NotTls. Stateless: call
// it again on everything received so far whenever more arrives (cost is linear in the input).
ClientHelloInfo inspectClientHello(std::span<const uint8_t> data, size_t max_bytes = kDefaultMaxClientHelloBytes);

}  // namespace monomesh::net::tls
