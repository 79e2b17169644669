// One HTTP/2 stream as its handler sees it: the peer's headers, body chunks and trailers coming
// in, ours going out, with flow control in both directions (reading a chunk returns its bytes to
// the peer's window; writing waits while too much is queued). Used from the session's executor.
#pragma once

#include "net/async_event.h"
#include "net/h2/h2_options.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace monomesh::net::h2 {

class Session;

class Stream {
 public:
  enum class ReadStatus { data, end, reset };
  struct ReadResult {
    ReadStatus status;
    std::string data;
  };

  Stream(std::weak_ptr<Session> session, bool outbound_request) : session_(std::move(session)), is_client_(outbound_request) {}
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int32_t id() const noexcept { return id_; }
  // The connection's executor: where the stream's handler runs.
  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  // Request headers (server side) or final response headers (client side).
  const Headers& headers() const noexcept { return in_headers_; }
  const Headers& trailers() const noexcept { return in_trailers_; }
  bool closed() const noexcept { return closed_; }
  // The peer has sent its whole message (END_STREAM seen); unread chunks may remain.
  bool inputEnded() const noexcept { return in_ended_; }
  // Body bytes received and not read yet.
  size_t buffered() const noexcept { return in_buffered_; }
  // HTTP/2 error code the stream closed with (0 = NO_ERROR).
  uint32_t errorCode() const noexcept { return close_error_; }
  // The connection went away under the stream (not a RST_STREAM from the peer).
  bool connectionLost() const noexcept { return connection_lost_; }

  // Client side: waits for the final response headers; false if the stream was reset first.
  boost::asio::awaitable<bool> waitHeaders();
  // Next body chunk, the end of the body (trailers() are then valid), or a reset.
  boost::asio::awaitable<ReadResult> read();

  // Server side: response headers; end_stream for a response without body (gRPC trailers-only).
  bool respond(const Headers& headers, bool end_stream);
  bool respond(std::span<const HeaderRef> headers, bool end_stream);
  // Queues body bytes; waits while more than max_outbound_buffer is queued. False once reset.
  boost::asio::awaitable<bool> write(std::string data, bool end_stream);
  // write() in two halves, for a writer that needs no coroutine when the peer keeps up: send()
  // queues without waiting (false once reset); when congested() afterwards, await drained()
  // before sending more.
  bool send(std::string data, bool end_stream);
  bool congested() const noexcept { return !closed_ && out_.size() - out_offset_ > out_limit_; }
  boost::asio::awaitable<bool> drained();
  // Ends the body with trailers (gRPC status). False once reset.
  bool finishWithTrailers(Headers trailers);
  // Abandons the stream (RST_STREAM with the code, CANCEL by default).
  void reset(uint32_t error_code = 0x8);

 private:
  friend class Session;
  friend struct SessionCallbacks;
  template <class List>
  bool respondWith(const List& headers, bool end_stream);

  std::weak_ptr<Session> session_;
  boost::asio::any_io_executor executor_;
  bool is_client_;
  int32_t id_ = -1;
  size_t slot_ = std::numeric_limits<size_t>::max();  // index in the session's open streams
  Headers in_headers_;
  Headers in_trailers_;
  size_t in_header_bytes_ = 0;
  bool headers_done_ = false;
  bool in_ended_ = false;
  bool closed_ = false;
  bool connection_lost_ = false;
  uint32_t close_error_ = 0;
  // Body chunks received, read from in_next_ on (a deque would allocate its map and a block for
  // every stream, even one without a body).
  std::vector<std::string> in_chunks_;
  size_t in_next_ = 0;
  size_t in_buffered_ = 0;
  AsyncEvent in_event_;

  std::string out_;            // queued body bytes not yet framed
  size_t out_offset_ = 0;
  size_t out_limit_ = 64 * 1024;  // the session's max_outbound_buffer
  bool out_has_body_ = false;  // a data provider is attached
  bool out_end_ = false;       // no more body after out_
  bool out_deferred_ = false;  // nghttp2 waits for resume_data
  std::optional<Headers> out_trailers_;
  AsyncEvent out_event_;
};

}  // namespace monomesh::net::h2
