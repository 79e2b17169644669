// The other side of the gRPC interoperability test (test/integration/grpc_interop_test.py):
//   grpc_interop_peer server        serves the echo service on 127.0.0.1:<free port>, prints the
//                                   port, runs until stdin closes
//   grpc_interop_peer client PORT   calls a python3-grpcio echo server at 127.0.0.1:PORT, prints
//                                   PASS/FAIL per check, exits with the number of failures
#include "echo_service.h"
#include "net/grpc/grpc_client.h"
#include "net/grpc/grpc_server.h"

#include <boost/asio.hpp>

#include <iostream>
#include <unistd.h>

namespace asio = boost::asio;
using namespace monomesh::net::grpc;

namespace {

int runServer() {
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  GrpcServer server;
  testing::addEchoMethods(server);
  asio::co_spawn(io, server.acceptLoop(acceptor), asio::detached);
  std::cout << acceptor.local_endpoint().port() << std::endl;
  // Stop when the test closes our stdin.
  asio::posix::stream_descriptor in(io, ::dup(0));
  char byte;
  in.async_read_some(asio::buffer(&byte, 1), [&](auto, auto) { io.stop(); });
  io.run();
  return 0;
}

struct Checks {
  int failures = 0;
  void expect(bool ok, const std::string& name, const std::string& detail) {
    std::cout << (ok ? "PASS " : "FAIL ") << name << (ok ? "" : ": " + detail) << std::endl;
    if (!ok) ++failures;
  }
};

asio::awaitable<void> clientChecks(std::shared_ptr<GrpcChannel> channel, Checks& c) {
  std::string response;
  Status s = co_await channel->unary("/test.Echo/Unary", "hello", response, std::chrono::seconds(5));
  c.expect(s.ok() && response == "hello", "unary", std::string(statusName(s.code)) + " " + s.message + " [" + response + "]");

  s = co_await channel->unary("/test.Echo/Fail", "x", response);
  c.expect(s.code == StatusCode::failed_precondition && s.message == "not today: 100% sure\n", "error_status",
           std::string(statusName(s.code)) + " [" + s.message + "]");

  s = co_await channel->unary("/test.Echo/Missing", "x", response);
  c.expect(s.code == StatusCode::unimplemented, "unimplemented", std::string(statusName(s.code)));

  auto ss = co_await channel->startCall("/test.Echo/ServerStream");
  co_await ss->write("300", true);
  int n = 0;
  std::string last;
  for (;;) {
    auto m = co_await ss->read();
    if (!m) break;
    ++n;
    last = *m;
  }
  s = co_await ss->finish();
  c.expect(s.ok() && n == 300 && last == "item-299", "server_streaming", std::to_string(n) + " " + last);

  auto cs = co_await channel->startCall("/test.Echo/ClientStream");
  for (int i = 0; i < 50; ++i) co_await cs->write("ab");
  co_await cs->writesDone();
  auto joined = co_await cs->read();
  s = co_await cs->finish();
  c.expect(s.ok() && joined && joined->size() == 100, "client_streaming", joined ? std::to_string(joined->size()) : "none");

  auto bidi = co_await channel->startCall("/test.Echo/Bidi");
  bool all = true;
  for (int i = 0; i < 10; ++i) {
    co_await bidi->write("m" + std::to_string(i));
    auto m = co_await bidi->read();
    all = all && m && *m == "echo:m" + std::to_string(i);
  }
  co_await bidi->writesDone();
  s = co_await bidi->finish();
  c.expect(s.ok() && all, "bidi_streaming", std::string(statusName(s.code)));

  auto hang = co_await channel->startCall("/test.Echo/Hang", {}, std::chrono::milliseconds(200));
  co_await hang->write("x");
  s = co_await hang->finish();
  c.expect(s.code == StatusCode::deadline_exceeded, "deadline", std::string(statusName(s.code)));

  s = co_await channel->unary("/test.Echo/Unary", std::string(1024 * 1024, 'z'), response, std::chrono::seconds(5));
  c.expect(s.ok() && response.size() == 1024 * 1024, "large_message", std::string(statusName(s.code)) + " " + s.message);
}

int runClient(uint16_t port) {
  asio::io_context io{1};
  auto channel = GrpcChannel::create(io.get_executor(), "127.0.0.1", port);
  Checks checks;
  asio::co_spawn(io, clientChecks(channel, checks), [&](std::exception_ptr e) {
    if (e) checks.expect(false, "client", "exception");
    channel->close();
  });
  io.run_for(std::chrono::seconds(30));
  return checks.failures;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "server") return runServer();
  if (mode == "client" && argc > 2) return runClient(static_cast<uint16_t>(std::stoi(argv[2])));
  std::cerr << "usage: grpc_interop_peer server | client PORT\n";
  return 2;
}
