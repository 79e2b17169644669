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
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <span>

namespace monomesh::net {

struct IoResult {
  boost::system::error_code ec;
  std::size_t bytes = 0;
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
  // All of `buffers`; they and the array holding them stay alive and unchanged until it completes.
  boost::asio::awaitable<IoResult> write(std::span<const boost::asio::const_buffer> buffers);

  // Plain TCP only: what one non-blocking sendmsg takes of `buffers` past their first `skip`
  // bytes; error would_block when the socket buffer is full.
  IoResult tryWrite(std::span<const boost::asio::const_buffer> buffers, std::size_t skip);

  // beast::error::timeout when the deadline closed the connection, else `ec`.
  boost::system::error_code timeoutOr(const boost::system::error_code& ec) const;

 private:
  MaybeTlsStream& stream_;
  ActivityDeadline deadline_;
};

// HTTP/1 parsing over a StreamIo, with the semantics of Beast's http::async_read_header,
// http::async_read_some and http::async_read (need_buffer, end_of_stream, partial messages):
// bytes are read into `buffer` and fed to `parser` until the header is complete, until some
// progress was made, or until the message is done.
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
