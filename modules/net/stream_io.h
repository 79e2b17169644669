// Reading and writing a connection on the data path, bounded by its ActivityDeadline. Plain TCP
// goes straight to the socket, below Beast's stream (no per-operation timer, no composed
// operations): reads are the socket's own, writes a non-blocking sendmsg first and the reactor
// only when the socket buffer is full (a completed write costs no handler dispatch). TLS goes
// through the stream's own operations. A passed deadline is beast::error::timeout, as with Beast.
#pragma once

#include "net/activity_deadline.h"
#include "net/maybe_tls_stream.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <span>

namespace monomesh::net {

struct IoResult {
  boost::system::error_code ec;
  std::size_t bytes = 0;
  // writeNow() could not write everything at once: write(buffers, bytes) does the rest.
  bool unfinished() const noexcept { return ec == boost::asio::error::would_block; }
};

class StreamIo {
 public:
  // `stream` must outlive this object and stay where it is.
  StreamIo(const boost::asio::any_io_executor& executor, MaybeTlsStream& stream)
      : stream_(stream), deadline_(executor, stream) {}

  ActivityDeadline& deadline() noexcept { return deadline_; }
  MaybeTlsStream& stream() noexcept { return stream_; }

  // At least one byte, or an error (eof, timeout).
  boost::asio::awaitable<IoResult> readSome(boost::asio::mutable_buffer buffer);
  // The read itself, as an Asio operation (for MessageRead's callers): plain TCP the socket's
  // own (Asio tries the recv at once, then waits on the reactor, which reads when data arrives:
  // no epoll_ctl, as a readiness wait would cost), TLS the stream's. Errors are raw: pass them
  // through timeoutOr().
  template <class Token>
  auto asyncReadSome(boost::asio::mutable_buffer buffer, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, boost::asio::mutable_buffer b) {
          if (stream_.isTls()) {
            stream_.async_read_some(b, std::move(handler));
          } else {
            stream_.socket().async_read_some(b, std::move(handler));
          }
        },
        token, buffer);
  }
  // All of `buffers` past their first `skip` bytes; they and the array holding them stay alive and
  // unchanged until it completes. Returns the bytes written, `skip` included.
  boost::asio::awaitable<IoResult> write(std::span<const boost::asio::const_buffer> buffers, std::size_t skip = 0);
  // What the socket takes now, without a coroutine (a coroutine frame and its resumption cost
  // more than the sendmsg): everything, an error, or unfinished() with the bytes written so far,
  // for write(buffers, bytes) to finish. TLS: always unfinished. The common use:
  //   IoResult w = io.writeNow(out);
  //   if (w.unfinished()) w = co_await io.write(out, w.bytes);
  IoResult writeNow(std::span<const boost::asio::const_buffer> buffers);

  // beast::error::timeout when the deadline closed the connection, else `ec`.
  boost::system::error_code timeoutOr(const boost::system::error_code& ec) const;

 private:
  // Plain TCP only: what one non-blocking sendmsg takes of `buffers` past their first `skip`
  // bytes; error would_block when the socket buffer is full.
  IoResult tryWrite(std::span<const boost::asio::const_buffer> buffers, std::size_t skip);

  MaybeTlsStream& stream_;
  ActivityDeadline deadline_;
};

// How far an HTTP/1 read goes: until some progress was made (Beast's http::async_read_some), the
// header is complete (async_read_header) or the message is done (async_read; a full body window
// stops it earlier with need_buffer).
enum class ReadUntil { Progress, Header, Done };

// One HTTP/1 read with Beast's semantics (need_buffer, end_of_stream, partial messages), driven
// by its caller, which awaits the socket itself: bytes are read into `buffer` and fed to
// `parser`. (A coroutine of its own per read costs a frame, and with the handful a request
// already needs, Asio's two-frame recycling cache then misses: an allocation per read.)
//   net::MessageRead<true> read(io, buffer, parser, net::ReadUntil::Header);
//   while (!read.done()) {
//     auto [ec, n] = co_await io.asyncReadSome(read.space(), nothrow);
//     read.received(ec, n);
//   }
//   net::IoResult result = read.result();
template <bool isRequest>
class MessageRead {
 public:
  // Parses what `buffer` holds already; done() may be true at once.
  MessageRead(StreamIo& io, boost::beast::flat_buffer& buffer, boost::beast::http::basic_parser<isRequest>& parser,
              ReadUntil until);
  bool done() const noexcept { return done_; }
  // The parse error or the read error (timeout when the deadline passed); bytes parsed.
  const IoResult& result() const noexcept { return result_; }
  // Where the next read goes (while !done()).
  boost::asio::mutable_buffer space() { return buffer_.prepare(size_); }
  void received(const boost::system::error_code& ec, std::size_t bytes);

 private:
  void parse();
  void finish(const boost::system::error_code& ec) {
    result_.ec = ec;
    done_ = true;
  }

  StreamIo& io_;
  boost::beast::flat_buffer& buffer_;
  boost::beast::http::basic_parser<isRequest>& parser_;
  ReadUntil until_;
  bool done_ = false;
  std::size_t size_ = 0;  // of the next read
  IoResult result_;
};

// The same as one coroutine, for callers off the hot path.
template <bool isRequest>
boost::asio::awaitable<IoResult> readHeader(StreamIo& io, boost::beast::flat_buffer& buffer,
                                            boost::beast::http::basic_parser<isRequest>& parser);
template <bool isRequest>
boost::asio::awaitable<IoResult> readSome(StreamIo& io, boost::beast::flat_buffer& buffer,
                                          boost::beast::http::basic_parser<isRequest>& parser);
template <bool isRequest>
boost::asio::awaitable<IoResult> read(StreamIo& io, boost::beast::flat_buffer& buffer,
                                      boost::beast::http::basic_parser<isRequest>& parser);

}  // namespace monomesh::net
