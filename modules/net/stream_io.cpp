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

enum class Until { Progress, Header, Done };

template <bool isRequest>
bool reached(Until until, const http::basic_parser<isRequest>& parser) {
  switch (until) {
    case Until::Progress: return true;
    case Until::Header: return parser.is_header_done();
    case Until::Done: return parser.is_done();
  }
  return true;
}

// Beast's read_some_op and read_op in one loop: parse what is buffered; on need_more read (a
// non-blocking attempt first) and parse again; stop at an error, or once `until` holds after a
// parse that made progress. EOF ends a message that needs it (put_eof), else end_of_stream.
template <bool isRequest>
asio::awaitable<IoResult> readParsed(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser,
                                     Until until) {
  IoResult result;
  bool parse = buffer.size() != 0;
  for (;;) {
    if (parse) {
      error_code ec;
      std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      result.bytes += used;
      if (ec != http::error::need_more) {
        if (ec || reached(until, parser)) {
          result.ec = ec;
          co_return result;
        }
        if (buffer.size() != 0) continue;  // Beast's next read_some parses first, too
      }
    }
    parse = true;
    // Room for a whole head at once: Beast's read_size would read 512 bytes at a time into a new
    // buffer (a syscall per 512 bytes of a long head).
    std::size_t size = std::min(std::max(beast::read_size(buffer, kMaxRead), kMinRead), buffer.max_size() - buffer.size());
    if (size == 0) {
      result.ec = http::error::buffer_overflow;
      co_return result;
    }
    IoResult got;
    if (io.stream().isTls()) {
      got = co_await io.readSome(buffer.prepare(size));
    } else {
      // As readSome(), inline: a nested coroutine frame per read would overflow Asio's two-frame
      // recycling cache and cost an allocation.
      if (io.deadline().expired()) {
        got.ec = beast::error::timeout;
      } else {
        auto [ec, n] = co_await io.stream().socket().async_read_some(buffer.prepare(size), nothrow);
        got = IoResult{io.timeoutOr(ec), n};
      }
    }
    buffer.commit(got.bytes);
    if (got.ec == asio::error::eof) {
      if (parser.got_some()) {
        error_code ec;
        parser.put_eof(ec);
        result.ec = ec;
      } else {
        result.ec = http::error::end_of_stream;
      }
      co_return result;
    }
    if (got.ec) {
      result.ec = got.ec;
      co_return result;
    }
  }
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
  if (stream_.isTls()) {
    auto [ec, n] = co_await stream_.async_read_some(buffer, nothrow);
    co_return IoResult{timeoutOr(ec), n};
  }
  // The socket's own operation, not a readiness wait and then recv: Asio tries the recv at once
  // and, when the kernel has nothing, queues it on the reactor, which reads when data arrives. A
  // readiness wait (async_wait) costs an epoll_ctl per wait, and a read here is usually a wait
  // (the peer's next request or the upstream's answer is not there yet).
  auto [ec, n] = co_await stream_.socket().async_read_some(buffer, nothrow);
  co_return IoResult{timeoutOr(ec), n};
}

asio::awaitable<IoResult> StreamIo::write(std::span<const asio::const_buffer> buffers) {
  if (stream_.isTls()) {
    auto [ec, n] = co_await asio::async_write(stream_, buffers, nothrow);
    co_return IoResult{timeoutOr(ec), n};
  }
  std::size_t total = asio::buffer_size(buffers);
  std::size_t done = 0;
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

template <bool isRequest>
asio::awaitable<IoResult> readHeader(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser) {
  return readParsed(io, buffer, parser, Until::Header);
}
template <bool isRequest>
asio::awaitable<IoResult> readSome(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser) {
  return readParsed(io, buffer, parser, Until::Progress);
}
template <bool isRequest>
asio::awaitable<IoResult> read(StreamIo& io, beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser) {
  return readParsed(io, buffer, parser, Until::Done);
}

template asio::awaitable<IoResult> readHeader(StreamIo&, beast::flat_buffer&, http::basic_parser<true>&);
template asio::awaitable<IoResult> readHeader(StreamIo&, beast::flat_buffer&, http::basic_parser<false>&);
template asio::awaitable<IoResult> readSome(StreamIo&, beast::flat_buffer&, http::basic_parser<true>&);
template asio::awaitable<IoResult> readSome(StreamIo&, beast::flat_buffer&, http::basic_parser<false>&);
template asio::awaitable<IoResult> read(StreamIo&, beast::flat_buffer&, http::basic_parser<true>&);
template asio::awaitable<IoResult> read(StreamIo&, beast::flat_buffer&, http::basic_parser<false>&);

}  // namespace monomesh::net
