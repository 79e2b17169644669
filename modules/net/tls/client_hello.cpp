#include "net/tls/client_hello.h"

#include <algorithm>
#include <optional>

namespace monomesh::net::tls {
namespace {

using Status = ClientHelloInfo::Status;

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHello = 1;
constexpr size_t kRecordHeaderBytes = 5;
constexpr size_t kMaxRecordPayload = 16384;  // 2^14, RFC 8446 section 5.1
constexpr uint16_t kServerNameExtension = 0;
constexpr uint16_t kAlpnExtension = 16;
constexpr size_t kMaxHostNameBytes = 255;

// Bounds-checked big-endian reads over a span; every read fails once the span is exhausted.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}
  bool empty() const { return data_.empty(); }
  size_t remaining() const { return data_.size(); }

  std::optional<uint32_t> number(size_t bytes) {
    if (data_.size() < bytes) return std::nullopt;
    uint32_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | data_[i];
    data_ = data_.subspan(bytes);
    return v;
  }
  std::optional<std::span<const uint8_t>> bytes(size_t n) {
    if (data_.size() < n) return std::nullopt;
    auto out = data_.first(n);
    data_ = data_.subspan(n);
    return out;
  }
  // A vector with a `length_bytes` length prefix, as TLS nests everything.
  std::optional<Reader> prefixed(size_t length_bytes) {
    auto n = number(length_bytes);
    if (!n) return std::nullopt;
    auto body = bytes(*n);
    if (!body) return std::nullopt;
    return Reader(*body);
  }

 private:
  std::span<const uint8_t> data_;
};

std::string text(std::span<const uint8_t> b) { return std::string(b.begin(), b.end()); }

// RFC 6066 section 3. Only host_name is defined; the first one counts.
bool parseServerName(Reader ext, ClientHelloInfo& info) {
  auto list = ext.prefixed(2);
  if (!list || !ext.empty() || list->empty()) return false;
  while (!list->empty()) {
    auto type = list->number(1);
    auto name = list->prefixed(2);
    if (!type || !name) return false;
    auto bytes = name->bytes(name->remaining());
    if (*type != 0 || !info.server_name.empty()) continue;
    // As OpenSSL: a NUL would let "good.com\0.evil" match a different name elsewhere.
    if (bytes->empty() || bytes->size() > kMaxHostNameBytes) return false;
    if (std::find(bytes->begin(), bytes->end(), 0) != bytes->end()) return false;
    info.server_name = text(*bytes);
  }
  return true;
}

// RFC 7301 section 3.1: a non-empty list of non-empty names.
bool parseAlpn(Reader ext, ClientHelloInfo& info) {
  auto list = ext.prefixed(2);
  if (!list || !ext.empty() || list->empty()) return false;
  while (!list->empty()) {
    auto name = list->prefixed(1);
    if (!name || name->empty()) return false;
    info.alpn.push_back(text(*name->bytes(name->remaining())));
  }
  return true;
}

// The ClientHello body (RFC 8446 section 4.1.2, which also covers TLS 1.0 to 1.2 hellos).
bool parseClientHello(Reader body, ClientHelloInfo& info) {
  auto version = body.number(2);
  if (!version || (*version >> 8) != 3) return false;
  if (!body.bytes(32)) return false;  // random
  auto session_id = body.prefixed(1);
  if (!session_id || session_id->remaining() > 32) return false;
  auto ciphers = body.prefixed(2);
  if (!ciphers || ciphers->empty() || ciphers->remaining() % 2 != 0) return false;
  auto compression = body.prefixed(1);
  if (!compression || compression->empty()) return false;
  if (body.empty()) return true;  // extensions are optional before TLS 1.3
  auto extensions = body.prefixed(2);
  if (!extensions || !body.empty()) return false;
  bool seen_sni = false, seen_alpn = false;
  while (!extensions->empty()) {
    auto type = extensions->number(2);
    auto ext = extensions->prefixed(2);
    if (!type || !ext) return false;
    // A repeated extension is forbidden (RFC 8446 section 4.2) and would make the answer ambiguous.
    if (*type == kServerNameExtension) {
      if (seen_sni || !parseServerName(*ext, info)) return false;
      seen_sni = true;
    } else if (*type == kAlpnExtension) {
      if (seen_alpn || !parseAlpn(*ext, info)) return false;
      seen_alpn = true;
    }
  }
  return true;
}

ClientHelloInfo withStatus(Status status) {
  ClientHelloInfo info;
  info.status = status;
  return info;
}

size_t recordLength(std::span<const uint8_t> input, size_t pos) {
  return (size_t(input[pos + 3]) << 8) | input[pos + 4];
}

// The first `message` handshake bytes out of records already checked by inspectClientHello.
std::vector<uint8_t> joinPayloads(std::span<const uint8_t> input, size_t message) {
  std::vector<uint8_t> out;
  out.reserve(message);
  for (size_t pos = 0; out.size() < message; pos += kRecordHeaderBytes + recordLength(input, pos)) {
    auto payload = input.subspan(pos + kRecordHeaderBytes, recordLength(input, pos));
    payload = payload.first(std::min(payload.size(), message - out.size()));
    out.insert(out.end(), payload.begin(), payload.end());
  }
  return out;
}

ClientHelloInfo parseMessage(std::span<const uint8_t> message) {
  ClientHelloInfo info;
  if (!parseClientHello(Reader(message.subspan(4)), info)) return withStatus(Status::NotTls);
  info.status = Status::Tls;
  return info;
}

}  // namespace

std::string_view ClientHelloInfo::transportProtocol() const {
  if (status == Status::Tls) return "tls";
  if (status == Status::NotTls) return "raw_buffer";
  return {};
}

ClientHelloInfo inspectClientHello(std::span<const uint8_t> data, size_t max_bytes) {
  // Past the limit the answer is TooLarge where it would otherwise be NeedMoreData.
  const bool truncated = data.size() > max_bytes;
  std::span<const uint8_t> input = data.first(std::min(data.size(), max_bytes));
  const ClientHelloInfo need_more = withStatus(truncated ? Status::TooLarge : Status::NeedMoreData);

  // The handshake message may span several records. Only its 4-byte header is gathered on the
  // way; payloads are joined once the whole message is there, so a trickling hello costs a walk
  // over the record headers per call and no copying.
  uint8_t head[4] = {};
  size_t gathered = 0;  // handshake bytes seen so far
  for (size_t pos = 0, records = 1;; ++records) {
    std::span<const uint8_t> header = input.subspan(pos, std::min(kRecordHeaderBytes, input.size() - pos));
    // Each header byte is judged as soon as it arrives, so plain text is told apart at once.
    if (header.size() > 0 && header[0] != kHandshakeRecord) return withStatus(Status::NotTls);
    if (header.size() > 1 && header[1] != 3) return withStatus(Status::NotTls);
    if (header.size() > 2 && header[2] > 4) return withStatus(Status::NotTls);
    if (header.size() < kRecordHeaderBytes) return need_more;
    size_t length = recordLength(input, pos);
    if (length == 0 || length > kMaxRecordPayload) return withStatus(Status::NotTls);

    size_t start = pos + kRecordHeaderBytes;
    auto payload = input.subspan(start, std::min(length, input.size() - start));
    for (size_t i = 0; i < payload.size() && gathered + i < sizeof head; ++i) head[gathered + i] = payload[i];
    gathered += payload.size();
    if (gathered > 0 && head[0] != kClientHello) return withStatus(Status::NotTls);
    if (gathered >= sizeof head) {
      size_t message = sizeof head + ((size_t(head[1]) << 16) | (size_t(head[2]) << 8) | head[3]);
      if (message > max_bytes) return withStatus(Status::TooLarge);
      if (gathered >= message) {
        if (records == 1) return parseMessage(payload.first(message));
        std::vector<uint8_t> joined = joinPayloads(input, message);
        return parseMessage(joined);
      }
    }
    if (payload.size() < length) return need_more;
    pos = start + length;
  }
}

}  // namespace monomesh::net::tls
