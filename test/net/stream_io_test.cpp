#include "net/stream_io.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace monomesh::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

long millis(Clock::duration d) { return long(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()); }

struct HeaderResult {
  bool done = false;
  boost::system::error_code ec;
  std::string target;
  Clock::time_point at;
};

asio::awaitable<void> readOneHeader(StreamIo* io, beast::flat_buffer* buffer, HeaderResult* out) {
  http::request_parser<http::empty_body> parser;
  auto [ec, n] = co_await readHeader(*io, *buffer, parser);
  out->ec = ec;
  if (!ec) out->target = std::string(parser.get().target());
  out->at = Clock::now();
  out->done = true;
}

// A connected loopback pair: `server` is the side under test (as a StreamIo), `client` the peer.
struct Pair {
  asio::io_context context;
  tcp::socket client{context};
  std::optional<MaybeTlsStream> server;
  std::optional<StreamIo> io;
  beast::flat_buffer buffer;  // the server side's parse buffer

  Pair() {
    tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    server.emplace(acceptor.accept());
    io.emplace(context.get_executor(), *server);
  }
  ~Pair() {
    io.reset();  // its timer before the context
    server.reset();
  }
  void send(std::string_view bytes) { asio::write(client, asio::buffer(bytes)); }
  // The server side reads one request header into `r`.
  void readHeaderInto(HeaderResult& r) { asio::co_spawn(context, readOneHeader(&*io, &buffer, &r), asio::detached); }
  // Runs the context until `done` or `limit` passes.
  void runUntil(const bool& done, std::chrono::milliseconds limit = 5000ms) {
    auto end = Clock::now() + limit;
    while (!done && Clock::now() < end) {
      context.restart();
      context.run_for(5ms);
    }
  }
};

asio::awaitable<void> readTwoHeaders(StreamIo* io, beast::flat_buffer* buffer, HeaderResult* first,
                                     HeaderResult* second) {
  co_await readOneHeader(io, buffer, first);
  co_await readOneHeader(io, buffer, second);
}

BOOST_AUTO_TEST_SUITE(stream_io)

BOOST_AUTO_TEST_CASE(header_in_pieces_then_a_pipelined_request_from_the_buffer) {
  Pair p;
  HeaderResult first, second;
  asio::co_spawn(p.context, readTwoHeaders(&*p.io, &p.buffer, &first, &second), asio::detached);
  p.send("GET /a HTTP/1.1\r\nHo");
  bool never = false;
  p.runUntil(never, 50ms);
  BOOST_TEST(!first.done);
  p.send("st: x\r\n\r\nGET /b HTTP/1.1\r\nHost: y\r\n\r\n");
  p.runUntil(second.done);
  BOOST_TEST(!first.ec);
  BOOST_TEST(first.target == "/a");
  BOOST_TEST(!second.ec);
  BOOST_TEST(second.target == "/b");
  BOOST_TEST(p.buffer.size() == 0u);
}

BOOST_AUTO_TEST_CASE(eof_before_a_byte_is_end_of_stream_and_inside_a_header_is_partial) {
  {
    Pair p;
    HeaderResult r;
    p.readHeaderInto(r);
    p.client.shutdown(tcp::socket::shutdown_send);
    p.runUntil(r.done);
    BOOST_TEST((r.ec == http::error::end_of_stream), r.ec.message());
  }
  {
    Pair p;
    HeaderResult r;
    p.readHeaderInto(r);
    p.send("GET / HTTP/1.1\r\nHost:");
    p.client.shutdown(tcp::socket::shutdown_send);
    p.runUntil(r.done);
    BOOST_TEST((r.ec == http::error::partial_message), r.ec.message());
  }
}

struct BodyResult {
  bool done = false;
  boost::system::error_code ec;
  std::string body;
};

// Reads a body through a small buffer_body window, as the proxy streams bodies.
asio::awaitable<void> readBody(StreamIo* io, beast::flat_buffer* buffer, BodyResult* out) {
  http::request_parser<http::buffer_body> parser;
  auto [hec, hn] = co_await readHeader(*io, *buffer, parser);
  out->ec = hec;
  char window[1000];
  while (!out->ec && !parser.is_done()) {
    parser.get().body().data = window;
    parser.get().body().size = sizeof(window);
    auto [ec, n] = co_await read(*io, *buffer, parser);
    if (ec && ec != http::error::need_buffer) out->ec = ec;
    out->body.append(window, sizeof(window) - parser.get().body().size);
  }
  out->done = true;
}

BOOST_AUTO_TEST_CASE(body_larger_than_the_window_arrives_whole) {
  Pair p;
  BodyResult r;
  asio::co_spawn(p.context, readBody(&*p.io, &p.buffer, &r), asio::detached);
  std::string body;
  for (int i = 0; i < 25000; ++i) body.push_back(char('a' + i % 26));
  p.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 25000\r\n\r\n" + body.substr(0, 7000));
  bool never = false;
  p.runUntil(never, 20ms);
  p.send(body.substr(7000));
  p.runUntil(r.done);
  BOOST_TEST(!r.ec);
  BOOST_TEST((r.body == body));
}

BOOST_AUTO_TEST_CASE(passed_deadline_is_a_timeout_and_closes_the_connection) {
  Pair p;
  HeaderResult r;
  auto start = Clock::now();
  p.io->deadline().expiresAfter(100ms);
  p.readHeaderInto(r);
  p.runUntil(r.done);
  BOOST_TEST((r.ec == beast::error::timeout), r.ec.message());
  BOOST_TEST(p.io->deadline().expired());
  BOOST_TEST(!p.server->socket().is_open());
  BOOST_TEST(millis(r.at - start) >= 100);
  BOOST_TEST(millis(r.at - start) < 2000);
}

// Moves the deadline `window` ahead every `step`, `times` times (an active connection).
asio::awaitable<void> keepActive(StreamIo* io, std::chrono::milliseconds window, std::chrono::milliseconds step,
                                 int times) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < times; ++i) {
    timer.expires_after(step);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    io->deadline().expiresAfter(window);
  }
}

BOOST_AUTO_TEST_CASE(deadline_moved_later_does_not_expire_until_activity_stops) {
  Pair p;
  HeaderResult r;
  auto start = Clock::now();
  p.io->deadline().expiresAfter(150ms);
  p.readHeaderInto(r);
  asio::co_spawn(p.context, keepActive(&*p.io, 150ms, 50ms, 10), asio::detached);  // active for 500 ms
  p.runUntil(r.done);
  BOOST_TEST((r.ec == beast::error::timeout), r.ec.message());
  BOOST_TEST(millis(r.at - start) >= 650);  // the last move (at 500 ms) plus its window
  BOOST_TEST(millis(r.at - start) < 3000);
}

BOOST_AUTO_TEST_CASE(deadline_moved_earlier_takes_effect) {
  Pair p;
  HeaderResult r;
  auto start = Clock::now();
  p.io->deadline().expiresAfter(60s);
  p.io->deadline().expiresAfter(100ms);
  p.readHeaderInto(r);
  p.runUntil(r.done);
  BOOST_TEST((r.ec == beast::error::timeout), r.ec.message());
  BOOST_TEST(millis(r.at - start) < 2000);
}

BOOST_AUTO_TEST_CASE(no_deadline_and_a_stopped_one_never_close) {
  Pair p;
  HeaderResult r;
  p.io->deadline().expiresAfter(50ms);
  p.io->deadline().stop();
  p.readHeaderInto(r);
  bool never = false;
  p.runUntil(never, 300ms);
  BOOST_TEST(!r.done);
  BOOST_TEST(p.server->socket().is_open());
  p.send("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
  p.runUntil(r.done);
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.target == "/late");
}

struct WriteResult {
  bool done = false;
  IoResult result;
};

asio::awaitable<void> writeAll(StreamIo* io, const std::string* head, const std::string* body, WriteResult* out) {
  std::array<asio::const_buffer, 2> buffers{asio::buffer(*head), asio::buffer(*body)};
  out->result = co_await io->write(buffers);
  out->done = true;
}

asio::awaitable<void> readSlowly(tcp::socket* socket, size_t expected, std::string* into) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::vector<char> chunk(256 * 1024);
  while (into->size() < expected) {
    timer.expires_after(2ms);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto [ec, n] = co_await socket->async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    into->append(chunk.data(), n);
  }
}

BOOST_AUTO_TEST_CASE(write_larger_than_the_socket_buffers_waits_for_the_peer) {
  Pair p;
  std::string head = "HTTP/1.1 200 OK\r\n\r\n";
  std::string body(8 * 1024 * 1024, 'b');
  body[12345] = 'X';
  WriteResult w;
  std::string received;
  asio::co_spawn(p.context, writeAll(&*p.io, &head, &body, &w), asio::detached);
  asio::co_spawn(p.context, readSlowly(&p.client, head.size() + body.size(), &received), asio::detached);
  p.runUntil(w.done, 20000ms);
  bool never = false;
  p.runUntil(never, 200ms);
  BOOST_TEST(!w.result.ec);
  BOOST_TEST(w.result.bytes == head.size() + body.size());
  BOOST_TEST((received == head + body));
}

BOOST_AUTO_TEST_CASE(write_to_a_closed_peer_is_an_error_not_a_signal) {
  Pair p;
  p.client.close();
  std::string head = "HTTP/1.1 200 OK\r\n\r\n";
  std::string body(4 * 1024 * 1024, 'b');
  WriteResult w;
  asio::co_spawn(p.context, writeAll(&*p.io, &head, &body, &w), asio::detached);
  p.runUntil(w.done);
  BOOST_TEST(w.done);
  BOOST_TEST(w.result.ec.failed());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net
