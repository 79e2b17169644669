// gRPC messages over one HTTP/2 stream, in both directions: the server call and the client call
// both read whole length-prefixed messages (bounded by the maximum message size) through this.
#pragma once

#include "net/grpc/grpc_framing.h"
#include "net/h2/h2_stream.h"

#include <memory>
#include <optional>
#include <string>

namespace monomesh::net::grpc {

class MessageStream {
 public:
  MessageStream(std::shared_ptr<h2::Stream> stream, size_t max_message_size)
      : stream_(std::move(stream)), reader_(max_message_size) {}

  // The next message; nullopt when the peer ended its side (ended()), the stream was reset, or the
  // framing was wrong (error()).
  boost::asio::awaitable<std::optional<std::string>> read();
  bool ended() const noexcept { return ended_; }
  const std::optional<Status>& error() const noexcept { return error_; }
  h2::Stream& stream() noexcept { return *stream_; }
  const std::shared_ptr<h2::Stream>& streamPtr() const noexcept { return stream_; }

 private:
  std::shared_ptr<h2::Stream> stream_;
  MessageReader reader_;
  bool ended_ = false;
  std::optional<Status> error_;
};

}  // namespace monomesh::net::grpc
