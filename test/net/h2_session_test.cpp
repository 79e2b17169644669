#include "net/h2/h2_session.h"

#include "h2_test_peer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/test/unit_test.hpp>

namespace monomesh::net::h2 {
namespace {

using namespace testing;
using boost::asio::awaitable;

Headers request(std::string path) {
  return {{":method", "POST"}, {":scheme", "http"}, {":authority", "test"}, {":path", std::move(path)}};
}

// Echo server: answers 200, streams the request body back, ends with a trailer.
void echo(std::shared_ptr<Stream> stream) {
  boost::asio::co_spawn(
      stream->executor(), [stream]() -> awaitable<void> {
        stream->respond({{":status", "200"}, {"x-path", stream->headers().empty() ? "" : *findHeader(stream->headers(), ":path")}}, false);
        for (;;) {
          auto r = co_await stream->read();
          if (r.status == Stream::ReadStatus::data) {
            if (!co_await stream->write(std::move(r.data), false)) co_return;
          } else if (r.status == Stream::ReadStatus::end) {
            stream->finishWithTrailers({{"x-status", "done"}});
            co_return;
          } else {
            co_return;
          }
        }
      },
      boost::asio::detached);
}

struct Exchange {
  bool done = false;
  bool got_headers = false;
  std::string status;
  std::string body;
  Headers trailers;
  Stream::ReadStatus last = Stream::ReadStatus::data;
};

awaitable<void> writeBody(std::shared_ptr<Stream> stream, std::string body) {
  const size_t chunk = 100000;
  for (size_t off = 0; off < body.size(); off += chunk) {
    bool last = off + chunk >= body.size();
    if (!co_await stream->write(body.substr(off, chunk), last)) co_return;
  }
  if (body.empty()) co_await stream->write("", true);
}

awaitable<void> call(std::shared_ptr<Session> client, std::string path, std::string body, Exchange& out) {
  auto stream = client->openStream(request(path), false);
  if (!stream) {
    out.done = true;
    co_return;
  }
  // Write and read at once so bodies larger than the windows cannot deadlock.
  auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::co_spawn(executor, writeBody(stream, std::move(body)), boost::asio::detached);
  out.got_headers = co_await stream->waitHeaders();
  if (out.got_headers) out.status = *findHeader(stream->headers(), ":status");
  for (;;) {
    auto r = co_await stream->read();
    out.last = r.status;
    if (r.status != Stream::ReadStatus::data) break;
    out.body += r.data;
  }
  out.trailers = stream->trailers();
  out.done = true;
}

// Answers with header references and a large body sent with send(), waiting on drained() only
// while congested (the proxy's way of writing without a coroutine per piece).
awaitable<void> sendBody(std::shared_ptr<Stream> stream, size_t size, bool* waited) {
  const std::string status = "200", name = "x-kind";
  std::vector<HeaderRef> refs = {{":status", status}, {name, "refs"}};
  stream->respond(std::span<const HeaderRef>(refs), false);
  const size_t piece = 16 * 1024;
  for (size_t off = 0; off < size; off += piece) {
    bool last = off + piece >= size;
    bool ok = stream->send(std::string(std::min(piece, size - off), 'z'), last);
    if (ok && stream->congested()) {
      *waited = true;
      ok = co_await stream->drained();
    }
    if (!ok) co_return;
  }
}

awaitable<void> readAll(std::shared_ptr<Stream> stream, std::string* into, bool* ended) {
  for (;;) {
    auto r = co_await stream->read();
    if (r.status != Stream::ReadStatus::data) {
      *ended = r.status == Stream::ReadStatus::end;
      co_return;
    }
    into->append(r.data);
  }
}

BOOST_AUTO_TEST_SUITE(h2_session)

BOOST_AUTO_TEST_CASE(send_waits_only_when_congested_and_headers_go_by_reference) {
  Loopback lb;
  H2Options small;
  small.initial_stream_window_size = 65535;
  small.initial_connection_window_size = 65535;
  small.max_outbound_buffer = 32 * 1024;
  bool waited = false;
  const size_t size = 1024 * 1024;
  lb.startServer([&](std::shared_ptr<Stream> s) {
    boost::asio::co_spawn(s->executor(), sendBody(s, size, &waited), boost::asio::detached);
  }, small);
  lb.connectClient(small);
  std::vector<HeaderRef> req = {{":method", "GET"}, {":scheme", "http"}, {":authority", "test"}, {":path", "/refs"}};
  auto stream = lb.client->openStream(std::span<const HeaderRef>(req), true);
  BOOST_REQUIRE(stream);
  std::string body;
  bool ended = false;
  boost::asio::co_spawn(lb.io, readAll(stream, &body, &ended), boost::asio::detached);
  BOOST_REQUIRE(lb.runUntil([&] { return ended; }, std::chrono::seconds(30)));
  BOOST_TEST(body.size() == size);
  BOOST_TEST(waited);  // a 1 MiB body through 64 KiB windows had to wait
  BOOST_REQUIRE(findHeader(stream->headers(), "x-kind"));
  BOOST_TEST(*findHeader(stream->headers(), "x-kind") == "refs");
}

BOOST_AUTO_TEST_CASE(request_response_with_body_and_trailers) {
  Loopback lb;
  lb.startServer(echo);
  lb.connectClient();
  Exchange ex;
  boost::asio::co_spawn(lb.io, call(lb.client, "/hello", "ping body", ex), boost::asio::detached);
  BOOST_REQUIRE(lb.runUntil([&] { return ex.done; }));
  BOOST_TEST(ex.got_headers);
  BOOST_TEST(ex.status == "200");
  BOOST_TEST(ex.body == "ping body");
  BOOST_TEST((ex.last == Stream::ReadStatus::end));
  BOOST_REQUIRE(findHeader(ex.trailers, "x-status"));
  BOOST_TEST(*findHeader(ex.trailers, "x-status") == "done");
  BOOST_TEST(lb.server_counters.streams == 1u);
}

BOOST_AUTO_TEST_CASE(large_bodies_flow_both_ways_within_windows) {
  Loopback lb;
  H2Options small;
  small.initial_stream_window_size = 65535;
  small.initial_connection_window_size = 65535;
  lb.startServer(echo, small);
  lb.connectClient(small);
  std::string body(5 * 1024 * 1024, 'x');
  for (size_t i = 0; i < body.size(); i += 997) body[i] = static_cast<char>('a' + i % 26);
  Exchange ex;
  boost::asio::co_spawn(lb.io, call(lb.client, "/big", body, ex), boost::asio::detached);
  BOOST_REQUIRE(lb.runUntil([&] { return ex.done; }, std::chrono::seconds(30)));
  BOOST_TEST(ex.body.size() == body.size());
  BOOST_TEST((ex.body == body));
}

BOOST_AUTO_TEST_CASE(concurrent_streams_on_one_connection) {
  Loopback lb;
  lb.startServer(echo);
  lb.connectClient();
  std::vector<Exchange> ex(50);
  lb.runUntil([&] { return lb.server != nullptr; });
  for (size_t i = 0; i < ex.size(); ++i) {
    boost::asio::co_spawn(lb.io, call(lb.client, "/s" + std::to_string(i), "body-" + std::to_string(i), ex[i]),
                          boost::asio::detached);
  }
  BOOST_REQUIRE(lb.runUntil([&] { return std::all_of(ex.begin(), ex.end(), [](auto& e) { return e.done; }); }));
  for (size_t i = 0; i < ex.size(); ++i) BOOST_TEST(ex[i].body == "body-" + std::to_string(i));
  BOOST_TEST(lb.server_counters.streams == 50u);
}

BOOST_AUTO_TEST_CASE(graceful_shutdown_lets_open_streams_finish) {
  Loopback lb;
  std::shared_ptr<Stream> held;
  lb.startServer([&](std::shared_ptr<Stream> s) { held = s; });
  lb.connectClient();
  Exchange ex;
  boost::asio::co_spawn(lb.io, call(lb.client, "/slow", "", ex), boost::asio::detached);
  BOOST_REQUIRE(lb.runUntil([&] { return held != nullptr; }));
  lb.server->shutdown();
  BOOST_REQUIRE(lb.runUntil([&] { return lb.client_counters.goaway_received == 1; }));
  BOOST_TEST(!lb.client->acceptsStreams());
  BOOST_TEST(!lb.server->closed());  // the open stream keeps it
  held->respond({{":status", "204"}}, true);
  BOOST_REQUIRE(lb.runUntil([&] { return ex.done && lb.server->closed(); }));
  BOOST_TEST(ex.status == "204");
  BOOST_TEST((ex.last == Stream::ReadStatus::end));
}

BOOST_AUTO_TEST_CASE(oversized_header_list_resets_the_stream) {
  Loopback lb;
  H2Options opts;
  opts.max_header_list_size = 4096;
  lb.startServer(echo, opts);
  lb.connectClient();
  Exchange ex;
  boost::asio::co_spawn(
      lb.io,
      [&]() -> awaitable<void> {
        auto headers = request("/");
        headers.push_back({"x-big", std::string(8000, 'b')});
        auto stream = lb.client->openStream(headers, true);
        ex.got_headers = co_await stream->waitHeaders();
        ex.done = true;
      },
      boost::asio::detached);
  BOOST_REQUIRE(lb.runUntil([&] { return ex.done; }));
  BOOST_TEST(!ex.got_headers);
  BOOST_TEST(lb.server_counters.header_overflow == 1u);
  BOOST_TEST(!lb.server->closed());  // one oversized request is not an attack
}

BOOST_AUTO_TEST_CASE(rapid_reset_closes_the_connection) {
  Loopback lb;
  H2Options opts;
  opts.reset_burst = 20;
  opts.resets_per_second = 1;
  lb.startServer([](std::shared_ptr<Stream>) {}, opts);
  auto raw = lb.connectRaw();
  std::string flood = clientPreface();
  for (uint32_t id = 1; id < 2 * 200; id += 2) {
    flood += getHeadersFrame(id, false);
    flood += frame(0x3, 0, id, std::string("\0\0\0\x8", 4));  // RST_STREAM CANCEL
  }
  boost::asio::write(raw, boost::asio::buffer(flood));
  BOOST_REQUIRE(lb.runUntil([&] { return lb.server && lb.server->closed(); }));
  BOOST_TEST(lb.server_counters.rapid_reset == 1u);
  BOOST_TEST(lb.server_counters.rx_reset >= 20u);
}

BOOST_AUTO_TEST_CASE(ping_flood_from_a_peer_that_does_not_read_is_closed) {
  Loopback lb;
  H2Options opts;
  opts.max_outbound_control_frames = 100;
  lb.startServer([](std::shared_ptr<Stream>) {}, opts);
  auto raw = lb.connectRaw();
  std::string flood = clientPreface();
  for (int i = 0; i < 5000; ++i) flood += frame(0x6, 0, 0, std::string(8, 'p'));
  boost::system::error_code ec;
  boost::asio::write(raw, boost::asio::buffer(flood), ec);
  BOOST_REQUIRE(lb.runUntil([&] { return lb.server && lb.server->closed(); }));
  BOOST_TEST(lb.server_counters.control_flood == 1u);
}

BOOST_AUTO_TEST_CASE(empty_data_frames_are_a_flood) {
  Loopback lb;
  lb.startServer([](std::shared_ptr<Stream>) {});
  auto raw = lb.connectRaw();
  std::string flood = clientPreface() + getHeadersFrame(1, false);
  for (int i = 0; i < 10; ++i) flood += frame(0x0, 0, 1, "");
  boost::asio::write(raw, boost::asio::buffer(flood));
  BOOST_REQUIRE(lb.runUntil([&] { return lb.server && lb.server->closed(); }));
  BOOST_TEST(lb.server_counters.empty_frame_flood == 1u);
}

BOOST_AUTO_TEST_CASE(garbage_instead_of_a_preface_is_closed) {
  Loopback lb;
  lb.startServer([](std::shared_ptr<Stream>) {});
  auto raw = lb.connectRaw();
  boost::asio::write(raw, boost::asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  BOOST_REQUIRE(lb.runUntil([&] { return lb.server && lb.server->closed(); }));
  BOOST_TEST(lb.server_counters.protocol_error == 1u);
}

BOOST_AUTO_TEST_CASE(idle_connection_is_closed_with_goaway) {
  Loopback lb;
  H2Options opts;
  opts.idle_timeout = std::chrono::milliseconds(100);
  lb.startServer(echo, opts);
  lb.connectClient();
  BOOST_REQUIRE(lb.runUntil([&] { return lb.server && lb.server->closed() && lb.client->closed(); }));
  BOOST_TEST(lb.server_counters.idle_timeout == 1u);
  BOOST_TEST(lb.client_counters.goaway_received == 1u);
}

BOOST_AUTO_TEST_CASE(keepalive_closes_a_silent_peer) {
  Loopback lb;
  H2Options opts;
  opts.keepalive_interval = std::chrono::milliseconds(50);
  opts.keepalive_timeout = std::chrono::milliseconds(100);
  lb.startServer([](std::shared_ptr<Stream>) {}, opts);
  auto raw = lb.connectRaw();  // sends nothing: no preface, no PING ACK
  BOOST_REQUIRE(lb.runUntil([&] { return lb.server && lb.server->closed(); }));
  BOOST_TEST(lb.server_counters.keepalive_timeout == 1u);
}

BOOST_AUTO_TEST_CASE(keepalive_pings_keep_a_live_peer) {
  Loopback lb;
  H2Options opts;
  opts.keepalive_interval = std::chrono::milliseconds(30);
  opts.keepalive_timeout = std::chrono::milliseconds(200);
  lb.startServer([](std::shared_ptr<Stream>) {}, opts);
  lb.connectClient();
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  lb.runUntil([&] { return std::chrono::steady_clock::now() > until; });
  BOOST_TEST(!lb.server->closed());
  BOOST_TEST(lb.server_counters.keepalive_timeout == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::h2
