// Serialises HTTP/1.1 message heads into a reused buffer, and frames chunked bodies, so that a
// head and its first body bytes leave in one gathered write. (Beast's generic serializer costs
// several times more instructions per message on the proxy's hot path.)
#pragma once
#include <string>
#include <string_view>

#include "proxy/http/http1_message.h"

namespace monomesh::proxy {

void appendRequestHead(const RequestHead& head, std::string& out);
// "Name: value\r\n" for each field `skip` (when given) does not leave out; no blank line after
// them, so that a caller can add its own framing header first.
void appendFieldLines(const HeaderMap& fields, bool (*skip)(const HeaderMap::Field&), std::string& out);
// Always written as HTTP/1.1, whatever the upstream spoke.
void appendResponseHead(const ResponseHead& head, std::string& out);
// "<hex size>\r\n"
void appendChunkSize(size_t size, std::string& out);

inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace monomesh::proxy
