#include "net/stream_io.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>

#include <cerrno>
#include <sys/socket.h>
#include <sys/uio.h>

namespace monomesh::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxIov = 16;   // more buffers than this go in a second sendmsg
constexpr std::size_t kMaxRead = 65536;  // per read into a parse buffer, as Beast reads
constexpr std::size_t kMinRead = 4096;

error_code fromErrno(int e) { return error_code(e, asio::error::get_system_category()); }

template <bool isRequest>
bool reached(ReadUntil until, const http::basic_parser<isRequest>& parser) {
  switch (until) {
    case ReadUntil::Progress: return true;
    case ReadUntil::Header: return parser.is_header_done();
    case ReadUntil::Done: return parser.is_done();
  }
  return true;
}

template <bool isRequest>
asio::awaitable<IoResult> readUntil(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser,
                                    ReadUntil until) {
  MessageRead<isRequest> read(io, buffer, parser, until);
  while (!read.done()) {
    auto [ec, n] = co_await io.asyncReadSome(read.space(), nothrow);
    read.received(ec, n);
  }
  co_return read.result();
}

}  // namespace

error_code StreamIo::timeoutOr(const error_code& ec) const {
  return deadline_.expired() ? error_code(beast::error::timeout) : ec;
}

IoResult StreamIo::tryWrite(std::span<const asio::const_buffer> buffers, std::size_t skip) {
  if (deadline_.expired()) return {beast::error::timeout, 0};
  iovec iov[kMaxIov];
  std::size_t count = 0;
  for (const auto& b : buffers) {
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    if (count == kMaxIov) break;
    iov[count].iov_base = const_cast<char*>(static_cast<const char*>(b.data()) + skip);
    iov[count].iov_len = b.size() - skip;
    skip = 0;
    ++count;
  }
  if (count == 0) return {};
  msghdr message{};
  message.msg_iov = iov;
  message.msg_iovlen = count;
  for (;;) {
    // MSG_NOSIGNAL: a peer that went away is an error code, not SIGPIPE.
    ssize_t n = ::sendmsg(stream_.socket().native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return {{}, std::size_t(n)};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {asio::error::would_block, 0};
    return {fromErrno(errno), 0};
  }
}

asio::awaitable<IoResult> StreamIo::readSome(asio::mutable_buffer buffer) {
  if (deadline_.expired()) co_return IoResult{beast::error::timeout, 0};
  auto [ec, n] = co_await asyncReadSome(buffer, nothrow);
  co_return IoResult{timeoutOr(ec), n};
}

IoResult StreamIo::writeNow(std::span<const asio::const_buffer> buffers) {
  if (stream_.isTls()) return {asio::error::would_block, 0};
  std::size_t total = asio::buffer_size(buffers);
  std::size_t done = 0;
  while (done < total) {
    IoResult sent = tryWrite(buffers, done);
    if (sent.ec) return {sent.ec, done};  // would_block: unfinished
    done += sent.bytes;
  }
  return {{}, done};
}

asio::awaitable<IoResult> StreamIo::write(std::span<const asio::const_buffer> buffers, std::size_t skip) {
  if (stream_.isTls()) {
    // (The TLS stream writes whole buffers: skip is 0 here, writeNow() writes nothing over TLS.)
    auto [ec, n] = co_await asio::async_write(stream_, buffers, nothrow);
    co_return IoResult{timeoutOr(ec), n};
  }
  std::size_t total = asio::buffer_size(buffers);
  std::size_t done = skip;
  while (done < total) {
    IoResult sent = tryWrite(buffers, done);
    if (sent.ec == asio::error::would_block) {
      auto [ec] = co_await stream_.socket().async_wait(asio::ip::tcp::socket::wait_write, nothrow);
      if (ec) co_return IoResult{timeoutOr(ec), done};
      continue;
    }
    if (sent.ec) co_return IoResult{sent.ec, done};
    done += sent.bytes;
  }
  co_return IoResult{{}, done};
}

// Beast's read_some_op and read_op in one loop: parse what is buffered; on need_more read and
// parse again; stop at an error, or once `until` holds after a parse that made progress. EOF
// ends a message that needs it (put_eof), else it is end_of_stream.
template <bool isRequest>
MessageRead<isRequest>::MessageRead(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser,
                                    ReadUntil until)
    : io_(io), buffer_(buffer), parser_(parser), until_(until) {
  parse();
}

template <bool isRequest>
void MessageRead<isRequest>::parse() {
  while (buffer_.size() != 0) {
    error_code ec;
    std::size_t used = parser_.put(buffer_.data(), ec);
    buffer_.consume(used);
    result_.bytes += used;
    if (ec == http::error::need_more) break;
    if (ec || reached(until_, parser_)) return finish(ec);
    // Progress short of `until`: Beast's next read_some parses what is left first, too.
  }
  if (io_.deadline().expired()) return finish(beast::error::timeout);
  // Room for a whole head at once: Beast's read_size would read 512 bytes at a time into a new
  // buffer (a syscall per 512 bytes of a long head).
  size_ = std::min(std::max(beast::read_size(buffer_, kMaxRead), kMinRead), buffer_.max_size() - buffer_.size());
  if (size_ == 0) finish(http::error::buffer_overflow);
}

template <bool isRequest>
void MessageRead<isRequest>::received(const error_code& read_ec, std::size_t bytes) {
  buffer_.commit(bytes);
  error_code ec = io_.timeoutOr(read_ec);
  if (ec == asio::error::eof) {
    if (!parser_.got_some()) return finish(http::error::end_of_stream);
    error_code eof_ec;
    parser_.put_eof(eof_ec);
    return finish(eof_ec);
  }
  if (ec) return finish(ec);
  parse();
}

template class MessageRead<true>;
template class MessageRead<false>;

template <bool isRequest>
asio::awaitable<IoResult> readHeader(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser) {
  return readUntil(io, buffer, parser, ReadUntil::Header);
}
template <bool isRequest>
asio::awaitable<IoResult> readSome(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser) {
  return readUntil(io, buffer, parser, ReadUntil::Progress);
}
template <bool isRequest>
asio::awaitable<IoResult> read(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser) {
  return readUntil(io, buffer, parser, ReadUntil::Done);
}

template asio::awaitable<IoResult> readHeader(StreamIo&, beast::flat_buffer&, http::basic_parser<true>&);
template asio::awaitable<IoResult> readHeader(StreamIo&, beast::flat_buffer&, http::basic_parser<false>&);
template asio::awaitable<IoResult> readSome(StreamIo&, beast::flat_buffer&, http::basic_parser<true>&);
template asio::awaitable<IoResult> readSome(StreamIo&, beast::flat_buffer&, http::basic_parser<false>&);
template asio::awaitable<IoResult> read(StreamIo&, beast::flat_buffer&, http::basic_parser<true>&);
template asio::awaitable<IoResult> read(StreamIo&, beast::flat_buffer&, http::basic_parser<false>&);

}  // namespace monomesh::net
