// gRPC's message framing on an HTTP/2 stream (1-byte compressed flag, 4-byte big-endian length,
// payload), the bound on message size, and the grpc-timeout header's format.
#pragma once

#include "net/grpc/grpc_status.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace monomesh::net::grpc {

inline constexpr size_t kDefaultMaxMessageSize = 4 * 1024 * 1024;  // gRPC's default receive limit

std::string frameMessage(std::string_view payload);

// Collects stream bytes and yields whole messages. Errors are sticky.
class MessageReader {
 public:
  explicit MessageReader(size_t max_message_size = kDefaultMaxMessageSize) : max_(max_message_size) {}
  void append(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete message, or nullopt (need more bytes, or error() is set).
  std::optional<std::string> next();
  const std::optional<Status>& error() const noexcept { return error_; }
  // Bytes of an unfinished message at the end of the stream mean a truncated message.
  bool hasPartial() const noexcept { return buffer_.size() > offset_; }

 private:
  size_t max_;
  std::string buffer_;
  size_t offset_ = 0;
  std::optional<Status> error_;
};

// "100m", "5S", "2H"... to a duration; nullopt when malformed (gRPC: 1-8 digits + unit H M S m u n).
std::optional<std::chrono::nanoseconds> parseGrpcTimeout(std::string_view value);
std::string formatGrpcTimeout(std::chrono::nanoseconds timeout);

}  // namespace monomesh::net::grpc
