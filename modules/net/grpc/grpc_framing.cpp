#include "net/grpc/grpc_framing.h"

namespace monomesh::net::grpc {

std::string frameMessage(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 5);
  auto n = static_cast<uint32_t>(payload.size());
  out.push_back('\0');
  for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(payload);
  return out;
}

std::optional<std::string> MessageReader::next() {
  if (error_) return std::nullopt;
  if (buffer_.size() - offset_ < 5) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
  if (p[0] > 1) {
    error_ = Status{StatusCode::internal, "invalid gRPC frame: compressed flag " + std::to_string(p[0])};
    return std::nullopt;
  }
  if (p[0] == 1) {
    error_ = Status{StatusCode::unimplemented, "compressed gRPC messages are not supported (grpc-encoding identity)"};
    return std::nullopt;
  }
  size_t length = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
  if (length > max_) {
    error_ = Status{StatusCode::resource_exhausted,
                    "received message larger than max (" + std::to_string(length) + " vs. " + std::to_string(max_) + ")"};
    return std::nullopt;
  }
  if (buffer_.size() - offset_ - 5 < length) return std::nullopt;
  std::string message = buffer_.substr(offset_ + 5, length);
  offset_ += 5 + length;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > 64 * 1024 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return message;
}

std::optional<std::chrono::nanoseconds> parseGrpcTimeout(std::string_view value) {
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  uint64_t n = 0;
  for (char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  using namespace std::chrono;
  // Eight digits of hours (or minutes) overflow nanoseconds: those saturate.
  auto saturated = [n](uint64_t unit_seconds) {
    constexpr uint64_t kMaxSeconds = uint64_t(duration_cast<seconds>(nanoseconds::max()).count());
    return n > kMaxSeconds / unit_seconds ? nanoseconds::max() : nanoseconds(seconds(n * unit_seconds));
  };
  switch (value.back()) {
    case 'H': return saturated(3600);
    case 'M': return saturated(60);
    case 'S': return saturated(1);
    case 'm': return duration_cast<nanoseconds>(milliseconds(n));
    case 'u': return duration_cast<nanoseconds>(microseconds(n));
    case 'n': return nanoseconds(n);
    default: return std::nullopt;
  }
}

std::string formatGrpcTimeout(std::chrono::nanoseconds timeout) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(timeout).count();
  if (ms < 0) ms = 0;
  // At most 8 digits: fall back to coarser units for long timeouts.
  if (ms < 100000000) return std::to_string(ms) + "m";
  auto s = duration_cast<seconds>(timeout).count();
  if (s < 100000000) return std::to_string(s) + "S";
  return std::to_string(std::min<int64_t>(duration_cast<hours>(timeout).count(), 99999999)) + "H";
}

}  // namespace monomesh::net::grpc
