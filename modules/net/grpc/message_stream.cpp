#include "net/grpc/message_stream.h"

namespace monomesh::net::grpc {

boost::asio::awaitable<std::optional<std::string>> MessageStream::read() {
  for (;;) {
    if (auto message = reader_.next()) co_return message;
    if (reader_.error()) {
      error_ = reader_.error();
      co_return std::nullopt;
    }
    if (ended_ || error_) co_return std::nullopt;
    auto chunk = co_await stream_->read();
    switch (chunk.status) {
      case h2::Stream::ReadStatus::data:
        reader_.append(chunk.data);
        break;
      case h2::Stream::ReadStatus::end:
        ended_ = true;
        if (reader_.hasPartial()) error_ = Status{StatusCode::internal, "stream ended inside a gRPC message"};
        co_return std::nullopt;
      case h2::Stream::ReadStatus::reset:
        co_return std::nullopt;
    }
  }
}

}  // namespace monomesh::net::grpc
