#include "net/grpc/grpc_client.h"
#include "net/grpc/grpc_server.h"

#include "echo_service.h"
#include "google/rpc/status.pb.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/test/unit_test.hpp>

namespace monomesh::net::grpc {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;

struct Fixture {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
  GrpcServer server;
  std::shared_ptr<GrpcChannel> channel;

  explicit Fixture(GrpcServerOptions options = {}, ChannelOptions channel_options = {}) : server(std::move(options)) {
    testing::addEchoMethods(server);
    asio::co_spawn(io, server.acceptLoop(acceptor), asio::detached);
    channel = GrpcChannel::create(io.get_executor(), "127.0.0.1", acceptor.local_endpoint().port(), channel_options);
  }
  // Runs `body` to completion on the io_context.
  template <class F>
  void run(F body) {
    bool done = false;
    asio::co_spawn(io, [&]() -> awaitable<void> {
      co_await body();
      done = true;
    }, asio::detached);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done && std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds(10));
    BOOST_REQUIRE_MESSAGE(done, "the RPC did not finish in time");
  }
};

BOOST_AUTO_TEST_SUITE(grpc)

BOOST_AUTO_TEST_CASE(unary_round_trip) {
  Fixture f;
  Status status;
  std::string response;
  f.run([&]() -> awaitable<void> { status = co_await f.channel->unary("/test.Echo/Unary", "hello", response); });
  BOOST_TEST(status.ok());
  BOOST_TEST(response == "hello");
  BOOST_TEST(f.server.counters().calls_ok == 1u);
}

BOOST_AUTO_TEST_CASE(error_status_and_message_survive_encoding) {
  Fixture f;
  Status status;
  std::string response;
  f.run([&]() -> awaitable<void> { status = co_await f.channel->unary("/test.Echo/Fail", "x", response); });
  BOOST_TEST((status.code == StatusCode::failed_precondition));
  BOOST_TEST(status.message == "not today: 100% sure\n");
}

BOOST_AUTO_TEST_CASE(unknown_method_is_unimplemented) {
  Fixture f;
  Status status;
  std::string response;
  f.run([&]() -> awaitable<void> { status = co_await f.channel->unary("/test.Echo/Nope", "x", response); });
  BOOST_TEST((status.code == StatusCode::unimplemented));
  BOOST_TEST(status.message == "unknown method /test.Echo/Nope");
  BOOST_TEST(f.server.counters().unimplemented == 1u);
}

BOOST_AUTO_TEST_CASE(typed_unary_with_protobuf_messages) {
  Fixture f;
  google::rpc::Status in, out;
  in.set_code(41);
  in.set_message("question");
  Status status;
  std::string response;
  f.run([&]() -> awaitable<void> { status = co_await f.channel->unary("/test.Echo/Typed", in.SerializeAsString(), response); });
  BOOST_REQUIRE(status.ok());
  BOOST_REQUIRE(out.ParseFromString(response));
  BOOST_TEST(out.code() == 42);
  BOOST_TEST(out.message() == "re: question");
}

BOOST_AUTO_TEST_CASE(server_streaming_with_trailing_metadata) {
  Fixture f;
  std::vector<std::string> items;
  Status status;
  std::string count;
  f.run([&]() -> awaitable<void> {
    auto call = co_await f.channel->startCall("/test.Echo/ServerStream");
    co_await call->write("500", true);
    while (auto m = co_await call->read()) items.push_back(*m);
    status = co_await call->finish();
  });
  BOOST_TEST(status.ok());
  BOOST_REQUIRE(items.size() == 500u);
  BOOST_TEST(items[499] == "item-499");
}

BOOST_AUTO_TEST_CASE(client_streaming_and_bidi) {
  Fixture f;
  std::string joined;
  std::vector<std::string> echoes;
  Status s1, s2;
  f.run([&]() -> awaitable<void> {
    auto call = co_await f.channel->startCall("/test.Echo/ClientStream");
    for (int i = 0; i < 100; ++i) co_await call->write(std::to_string(i % 10));
    co_await call->writesDone();
    joined = (co_await call->read()).value_or("");
    s1 = co_await call->finish();
    auto bidi = co_await f.channel->startCall("/test.Echo/Bidi");
    for (int i = 0; i < 20; ++i) {
      co_await bidi->write("m" + std::to_string(i));
      echoes.push_back((co_await bidi->read()).value_or("<none>"));
    }
    co_await bidi->writesDone();
    s2 = co_await bidi->finish();
  });
  BOOST_TEST(s1.ok());
  BOOST_TEST(joined.size() == 100u);
  BOOST_TEST(s2.ok());
  BOOST_REQUIRE(echoes.size() == 20u);
  BOOST_TEST(echoes[19] == "echo:m19");
}

BOOST_AUTO_TEST_CASE(deadline_is_sent_and_enforced) {
  Fixture f;
  Status status;
  f.run([&]() -> awaitable<void> {
    auto call = co_await f.channel->startCall("/test.Echo/Hang", {}, std::chrono::milliseconds(100));
    co_await call->write("x");
    status = co_await call->finish();
  });
  BOOST_TEST((status.code == StatusCode::deadline_exceeded));
  // The server saw the same deadline (grpc-timeout) or the client's reset; either way the call ended.
  f.run([&]() -> awaitable<void> {
    asio::steady_timer t(f.io, std::chrono::milliseconds(100));
    co_await t.async_wait(asio::use_awaitable);
  });
  BOOST_TEST(f.server.counters().calls_failed + f.server.counters().deadline_exceeded >= 1u);
}

BOOST_AUTO_TEST_CASE(cancellation_reaches_the_server) {
  Fixture f;
  Status status;
  f.run([&]() -> awaitable<void> {
    auto call = co_await f.channel->startCall("/test.Echo/Hang");
    co_await call->write("x");
    asio::steady_timer t(f.io, std::chrono::milliseconds(20));
    co_await t.async_wait(asio::use_awaitable);
    call->cancel();
    status = co_await call->finish();
    asio::steady_timer t2(f.io, std::chrono::milliseconds(50));
    co_await t2.async_wait(asio::use_awaitable);
  });
  BOOST_TEST((status.code == StatusCode::cancelled));
  BOOST_TEST(f.server.counters().calls_failed == 1u);
}

BOOST_AUTO_TEST_CASE(oversized_message_is_resource_exhausted) {
  GrpcServerOptions small;
  small.max_message_size = 1024;
  Fixture f(small);
  Status status;
  std::string response;
  f.run([&]() -> awaitable<void> {
    status = co_await f.channel->unary("/test.Echo/Unary", std::string(4096, 'x'), response);
  });
  BOOST_TEST((status.code == StatusCode::resource_exhausted));
}

BOOST_AUTO_TEST_CASE(fail_fast_then_reconnect_with_backoff) {
  asio::io_context io{1};
  uint16_t port;
  {
    tcp::acceptor probe(io, {asio::ip::address_v4::loopback(), 0});
    port = probe.local_endpoint().port();
  }
  ChannelOptions options;
  options.backoff_initial = std::chrono::milliseconds(50);
  auto channel = GrpcChannel::create(io.get_executor(), "127.0.0.1", port, options);
  Status first, second;
  std::string response;
  GrpcServer server;
  testing::addEchoMethods(server);
  tcp::acceptor acceptor(io);
  bool done = false;
  asio::co_spawn(io, [&]() -> awaitable<void> {
    first = co_await channel->unary("/test.Echo/Unary", "a", response);  // nobody listens yet
    acceptor.open(tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind({asio::ip::address_v4::loopback(), port});
    acceptor.listen();
    asio::co_spawn(io, server.acceptLoop(acceptor), asio::detached);
    auto call = co_await channel->startCall("/test.Echo/Unary", {}, std::chrono::seconds(5), /*wait_for_ready=*/true);
    co_await call->write("b", true);
    response = (co_await call->read()).value_or("");
    second = co_await call->finish();
    done = true;
  }, asio::detached);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds(10));
  BOOST_REQUIRE(done);
  BOOST_TEST((first.code == StatusCode::unavailable));
  BOOST_TEST(first.message.find("cannot connect to 127.0.0.1") == 0u);
  BOOST_TEST(second.ok());
  BOOST_TEST(response == "b");
  BOOST_TEST(channel->connectAttempts() >= 2u);
}

BOOST_AUTO_TEST_CASE(status_codes_have_grpc_names_and_timeouts_parse) {
  BOOST_TEST(statusName(StatusCode::resource_exhausted) == "RESOURCE_EXHAUSTED");
  BOOST_TEST(parseGrpcTimeout("100m")->count() == 100000000);
  BOOST_TEST(parseGrpcTimeout("2S")->count() == 2000000000);
  BOOST_TEST(!parseGrpcTimeout("123456789S"));  // nine digits
  BOOST_TEST(parseGrpcTimeout("99999999H")->count() == std::chrono::nanoseconds::max().count());  // saturates
  BOOST_TEST(parseGrpcTimeout("2562047H")->count() == 2562047LL * 3600 * 1000000000);
  BOOST_TEST(!parseGrpcTimeout("10x"));
  BOOST_TEST(!parseGrpcTimeout("m"));
  BOOST_TEST(formatGrpcTimeout(std::chrono::milliseconds(1500)) == "1500m");
  BOOST_TEST(decodeGrpcMessage(encodeGrpcMessage("a%b\nc")) == "a%b\nc");
  BOOST_TEST(encodeGrpcMessage("a%b\n") == "a%25b%0A");
}

BOOST_AUTO_TEST_CASE(message_reader_handles_split_and_bad_frames) {
  MessageReader reader(16);
  std::string two = frameMessage("abc") + frameMessage("");
  for (char c : two) reader.append(std::string_view(&c, 1));
  BOOST_TEST(*reader.next() == "abc");
  BOOST_TEST(*reader.next() == "");
  BOOST_TEST(!reader.next());
  BOOST_TEST(!reader.error());
  reader.append(std::string("\x00\x00\x00\x00\x20", 5));  // 32 bytes > 16
  BOOST_TEST(!reader.next());
  BOOST_REQUIRE(reader.error());
  BOOST_TEST((reader.error()->code == StatusCode::resource_exhausted));
  MessageReader compressed;
  compressed.append(std::string("\x01\x00\x00\x00\x00", 5));
  BOOST_TEST(!compressed.next());
  BOOST_TEST((compressed.error()->code == StatusCode::unimplemented));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::grpc
