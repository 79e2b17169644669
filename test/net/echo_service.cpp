#include "echo_service.h"

#include "google/rpc/status.pb.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace monomesh::net::grpc::testing {

using boost::asio::awaitable;

// Echo service: every shape of RPC, plus methods that fail on purpose.
void addEchoMethods(GrpcServer& server) {
  server.addMethod("/test.Echo/Unary", [](ServerCall& call) -> awaitable<Status> {
    auto m = co_await call.read();
    if (!m) co_return Status{StatusCode::invalid_argument, "no request"};
    co_await call.write(*m);
    co_return Status{};
  });
  server.addMethod("/test.Echo/Fail", [](ServerCall& call) -> awaitable<Status> {
    co_await call.read();
    co_return Status{StatusCode::failed_precondition, "not today: 100% sure\n"};
  });
  server.addMethod("/test.Echo/ServerStream", [](ServerCall& call) -> awaitable<Status> {
    auto m = co_await call.read();
    int n = m ? std::stoi(*m) : 0;
    for (int i = 0; i < n; ++i) {
      if (!co_await call.write("item-" + std::to_string(i))) co_return Status{StatusCode::cancelled, ""};
    }
    call.addTrailingMetadata("x-count", std::to_string(n));
    co_return Status{};
  });
  server.addMethod("/test.Echo/ClientStream", [](ServerCall& call) -> awaitable<Status> {
    std::string all;
    while (auto m = co_await call.read()) all += *m;
    co_await call.write(all);
    co_return Status{};
  });
  server.addMethod("/test.Echo/Bidi", [](ServerCall& call) -> awaitable<Status> {
    while (auto m = co_await call.read()) {
      if (!co_await call.write("echo:" + *m)) break;
    }
    co_return Status{};
  });
  server.addMethod("/test.Echo/Hang", [](ServerCall& call) -> awaitable<Status> {
    for (;;) {
      auto m = co_await call.read();
      if (!m) break;
    }
    // Hangs until the client cancels or the deadline passes (at most 10 s).
    boost::asio::steady_timer tick(co_await boost::asio::this_coro::executor);
    for (int i = 0; i < 1000 && !call.cancelled(); ++i) {
      tick.expires_after(std::chrono::milliseconds(10));
      co_await tick.async_wait(boost::asio::use_awaitable);
    }
    co_return call.cancelled() ? Status{StatusCode::cancelled, ""} : Status{};
  });
  server.addUnary<google::rpc::Status, google::rpc::Status>(
      "/test.Echo/Typed", [](const google::rpc::Status& in, google::rpc::Status& out, ServerCall&) -> awaitable<Status> {
        out.set_code(in.code() + 1);
        out.set_message("re: " + in.message());
        co_return Status{};
      });
}

}  // namespace monomesh::net::grpc::testing
