// The admin HTTP server and the standard handlers, exercised over loopback TCP; plus Readiness
// and parseListenAddress.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string>
#include <thread>

#include "observe/admin_handlers.h"
#include "observe/admin_server.h"
#include "observe/build_info.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "observe/prometheus_text.h"
#include "observe/readiness.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace obs = monomesh::observe;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Response = http::response<http::string_body>;

namespace {

const tcp::endpoint kLoopbackAnyPort(asio::ip::make_address("127.0.0.1"), 0);

// A blocking-style HTTP client whose every operation gives up after a deadline.
class HttpClient {
 public:
  explicit HttpClient(const tcp::endpoint& endpoint) : socket_(io_) {
    bool done = false;
    socket_.async_connect(endpoint, [&](boost::system::error_code ec) {
      connect_error_ = ec;
      done = true;
    });
    if (!runUntil([&] { return done; })) {
      abort();
      connect_error_ = asio::error::timed_out;
    }
  }
  boost::system::error_code connectError() const { return connect_error_; }
  const std::string& error() const { return error_; }

  // Sends `raw` as is and reads one response.
  std::optional<Response> exchange(const std::string& raw) {
    bool wrote = false, read = false;
    boost::system::error_code read_error;
    auto parser = std::make_shared<http::response_parser<http::string_body>>();
    parser->body_limit(64 * 1024 * 1024);
    asio::async_write(socket_, asio::buffer(raw), [&](boost::system::error_code, size_t) { wrote = true; });
    http::async_read(socket_, buffer_, *parser, [&](boost::system::error_code ec, size_t) {
      read_error = ec;
      read = true;
    });
    bool finished = runUntil([&] { return read && wrote; });
    if (!finished && read && read_error) finished = true;  // the server may stop reading early
    if (!finished || read_error) {
      error_ = finished ? read_error.message() : std::string("no response within the deadline");
      abort();
      return std::nullopt;
    }
    return parser->release();
  }

  std::optional<Response> get(const std::string& target) {
    return exchange("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n");
  }
  std::optional<Response> post(const std::string& target, const std::string& body = "") {
    return exchange("POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  // True when the server closes the connection (EOF or reset) within `limit`.
  bool closedByPeer(std::chrono::milliseconds limit = 5000ms) {
    bool done = false;
    boost::system::error_code error;
    char byte;
    socket_.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code ec, size_t) {
      error = ec;
      done = true;
    });
    if (!runUntil([&] { return done; }, limit)) {
      abort();
      return false;
    }
    return error == asio::error::eof || error == asio::error::connection_reset;
  }

 private:
  bool runUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5000ms) {
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
      if (io_.run_one_until(deadline) == 0) break;  // out of work or out of time
    }
    return condition();
  }
  void abort() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    io_.restart();
    io_.run_for(1s);  // let the aborted operations complete
  }

  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  boost::system::error_code connect_error_;
  std::string error_;
};

std::string header(const Response& r, http::field f) { return std::string(r[f]); }
std::string header(const Response& r, const char* name) { return std::string(r[name]); }

// An admin server with the standard handlers on its own io_context thread.
struct AdminFixture {
  explicit AdminFixture(obs::AdminLimits limits = {}) : server(io, limits) {
    obs::mountStandardHandlers(server, readiness, registry);
  }
  ~AdminFixture() {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
    obs::setLogLevels("info");
  }
  // Listens on a free loopback port and starts serving; register handlers before this.
  void start() {
    auto ec = server.listen(kLoopbackAnyPort);
    BOOST_TEST_REQUIRE(!ec, "listen: " << ec.message());
    endpoint = server.localEndpoint();
    BOOST_TEST_REQUIRE(endpoint.port() != 0);
    thread = std::thread([this] { io.run(); });
  }
  std::optional<Response> get(const std::string& target) {
    HttpClient client(endpoint);
    BOOST_TEST_REQUIRE(!client.connectError(), client.connectError().message());
    auto r = client.get(target);
    BOOST_TEST(r.has_value(), "GET " << target << ": " << client.error());
    return r;
  }
  std::optional<Response> post(const std::string& target, const std::string& body = "") {
    HttpClient client(endpoint);
    BOOST_TEST_REQUIRE(!client.connectError(), client.connectError().message());
    auto r = client.post(target, body);
    BOOST_TEST(r.has_value(), "POST " << target << ": " << client.error());
    return r;
  }
  // Runs fn on the server's thread and waits for it.
  bool onServerThread(std::function<void()> fn) {
    std::promise<void> done;
    auto f = done.get_future();
    asio::post(io, [&] {
      fn();
      done.set_value();
    });
    return f.wait_for(5s) == std::future_status::ready;
  }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
  obs::MetricsRegistry registry;
  obs::Readiness readiness;
  obs::AdminServer server;
  tcp::endpoint endpoint;
  std::thread thread;
};

int levelOf(const char* scope) { return int(obs::logScope(scope).level()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(readiness)

BOOST_AUTO_TEST_CASE(pending_conditions_until_met) {
  obs::Readiness r;
  BOOST_TEST(r.ready());
  BOOST_TEST(r.pending().empty());
  r.require("listeners bound");
  r.require("config synced");
  r.require("config synced");
  BOOST_TEST(!r.ready());
  BOOST_TEST((r.pending() == std::vector<std::string>{"config synced", "listeners bound"}));
  r.markMet("config synced");
  BOOST_TEST((r.pending() == std::vector<std::string>{"listeners bound"}));
  r.markMet("never required");
  BOOST_TEST(!r.ready());
  r.markMet("listeners bound");
  BOOST_TEST(r.ready());
  r.markUnmet("config synced");
  BOOST_TEST(!r.ready());
  BOOST_TEST((r.pending() == std::vector<std::string>{"config synced"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(admin_server, AdminFixture)

BOOST_AUTO_TEST_CASE(metrics_are_served_in_prometheus_text) {
  registry.counter("test_hits_total", "hits").with({}).inc(7);
  start();
  auto r = get("/metrics");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u);
  BOOST_TEST(header(*r, http::field::content_type) == "text/plain; version=0.0.4; charset=utf-8");
  BOOST_TEST(r->body().find("test_hits_total 7\n") != std::string::npos, r->body());
  BOOST_TEST(r->body() == obs::renderPrometheus(registry));
}

BOOST_AUTO_TEST_CASE(ready_is_503_with_pending_conditions_then_200) {
  readiness.require("config synced");
  readiness.require("listeners bound");
  start();
  auto r = get("/healthz/ready");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 503u);
  BOOST_TEST(r->body().find("config synced") != std::string::npos, r->body());
  BOOST_TEST(r->body().find("listeners bound") != std::string::npos, r->body());

  readiness.markMet("config synced");
  r = get("/healthz/ready");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 503u);
  BOOST_TEST(r->body().find("config synced") == std::string::npos, r->body());
  BOOST_TEST(r->body().find("listeners bound") != std::string::npos, r->body());

  readiness.markMet("listeners bound");
  r = get("/healthz/ready");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(version_is_json) {
  start();
  auto r = get("/version");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u);
  BOOST_TEST(header(*r, http::field::content_type) == "application/json");
  const auto& info = obs::buildInfo();
  BOOST_TEST(!info.version.empty());
  BOOST_TEST(r->body().find("\"version\":\"" + info.version + "\"") != std::string::npos, r->body());
  BOOST_TEST(r->body().front() == '{');
  BOOST_TEST(r->body() == obs::buildInfoJson());
}

BOOST_AUTO_TEST_CASE(logging_get_lists_every_scope) {
  start();
  auto r = get("/logging");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u);
  for (const auto& scope : obs::logScopeNames()) {
    BOOST_TEST(r->body().find("  " + scope + ": ") != std::string::npos, "scope " << scope << " missing");
  }
}

BOOST_AUTO_TEST_CASE(logging_change_with_get_is_405) {
  start();
  auto r = get("/logging?level=debug");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 405u);
  BOOST_TEST(header(*r, "Allow") == "POST");
  BOOST_TEST(levelOf("default") == int(spdlog::level::info));
  BOOST_TEST(levelOf("xds") == int(spdlog::level::info));
}

BOOST_AUTO_TEST_CASE(logging_post_changes_one_scope) {
  start();
  auto r = post("/logging?xds=debug");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u, r->body());
  BOOST_TEST(levelOf("xds") == int(spdlog::level::debug));
  BOOST_TEST(levelOf("ads") == int(spdlog::level::info));
  BOOST_TEST(r->body().find("  xds: debug\n") != std::string::npos, r->body());
  BOOST_TEST(obs::logLevels()["xds"] == "debug");
}

BOOST_AUTO_TEST_CASE(logging_post_level_changes_every_scope) {
  start();
  auto r = post("/logging?level=warn");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u, r->body());
  for (const auto& scope : obs::logScopeNames())
    BOOST_TEST(int(obs::logScope(scope).level()) == int(spdlog::level::warn), "scope " << scope);
}

BOOST_AUTO_TEST_CASE(logging_post_unknown_scope_is_400) {
  start();
  auto r = post("/logging?bogus=debug");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 400u);
  BOOST_TEST(r->body().find("bogus") != std::string::npos, r->body());
  r = post("/logging?xds=loud");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 400u);
  BOOST_TEST(levelOf("xds") == int(spdlog::level::info));
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404) {
  start();
  auto r = get("/no/such/page");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 404u);
  BOOST_TEST(r->body().find("/no/such/page") != std::string::npos, r->body());
}

BOOST_AUTO_TEST_CASE(root_lists_handlers) {
  server.handle("/quitquitquit", "exit now", [](const obs::AdminRequest&) { return obs::AdminResponse{}; },
                /*mutating=*/true);
  start();
  auto r = get("/");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u);
  for (const char* path : {"/metrics", "/healthz/ready", "/version", "/logging", "/quitquitquit"})
    BOOST_TEST(r->body().find(std::string("  ") + path) != std::string::npos, path << " not listed");
  BOOST_TEST(r->body().find("/quitquitquit (POST): exit now") != std::string::npos, r->body());
}

BOOST_AUTO_TEST_CASE(mutating_handler_needs_post) {
  std::atomic<int> calls{0};
  server.handle("/reset", "reset counters", [&](const obs::AdminRequest& req) {
    ++calls;
    return obs::AdminResponse{200, "text/plain; charset=utf-8", "reset by " + req.method + "\n"};
  }, /*mutating=*/true);
  start();
  auto r = get("/reset");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 405u);
  BOOST_TEST(header(*r, "Allow") == "POST");
  BOOST_TEST(calls.load() == 0);
  r = post("/reset");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u);
  BOOST_TEST(r->body() == "reset by POST\n");
  BOOST_TEST(calls.load() == 1);
}

BOOST_AUTO_TEST_CASE(throwing_handler_is_500_and_server_keeps_serving) {
  server.handle("/boom", "throws", [](const obs::AdminRequest&) -> obs::AdminResponse {
    throw std::runtime_error("kaboom");
  });
  start();
  HttpClient client(endpoint);
  BOOST_TEST_REQUIRE(!client.connectError());
  auto r = client.get("/boom");
  BOOST_TEST_REQUIRE(r.has_value(), client.error());
  BOOST_TEST(r->result_int() == 500u);
  BOOST_TEST(r->body().find("kaboom") != std::string::npos, r->body());
  // Same connection, then a new one.
  r = client.get("/version");
  BOOST_TEST_REQUIRE(r.has_value(), client.error());
  BOOST_TEST(r->result_int() == 200u);
  r = get("/version");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection) {
  start();
  HttpClient client(endpoint);
  BOOST_TEST_REQUIRE(!client.connectError());
  auto first = client.get("/version");
  BOOST_TEST_REQUIRE(first.has_value(), client.error());
  BOOST_TEST(first->result_int() == 200u);
  BOOST_TEST(first->keep_alive());
  auto second = client.get("/metrics");
  BOOST_TEST_REQUIRE(second.has_value(), client.error());
  BOOST_TEST(second->result_int() == 200u);
  auto third = client.post("/logging?xds=error");
  BOOST_TEST_REQUIRE(third.has_value(), client.error());
  BOOST_TEST(third->result_int() == 200u);
  BOOST_TEST(levelOf("xds") == int(spdlog::level::err));
}

BOOST_AUTO_TEST_CASE(http_1_0_request_is_answered_then_closed) {
  start();
  HttpClient client(endpoint);
  BOOST_TEST_REQUIRE(!client.connectError());
  auto r = client.exchange("GET /version HTTP/1.0\r\n\r\n");
  BOOST_TEST_REQUIRE(r.has_value(), client.error());
  BOOST_TEST(r->result_int() == 200u);
  BOOST_TEST(!r->keep_alive());
  BOOST_TEST(client.closedByPeer());
}

BOOST_AUTO_TEST_CASE(query_is_percent_decoded_and_body_passed) {
  std::promise<obs::AdminRequest> seen;
  server.handle("/echo", "echo", [&](const obs::AdminRequest& req) {
    seen.set_value(req);
    return obs::AdminResponse{200, "text/plain; charset=utf-8", "ok\n"};
  });
  start();
  auto future = seen.get_future();
  auto r = post("/echo?a=b%20c&d=e+f&flag&x=%zz&&e%3D=%41", "payload");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->result_int() == 200u);
  BOOST_TEST_REQUIRE((future.wait_for(1s) == std::future_status::ready));
  auto req = future.get();
  BOOST_TEST(req.method == "POST");
  BOOST_TEST(req.path == "/echo");
  BOOST_TEST(req.body == "payload");
  std::map<std::string, std::string> expected = {
      {"a", "b c"}, {"d", "e f"}, {"flag", ""}, {"x", "%zz"}, {"e=", "A"}};
  BOOST_TEST((req.query == expected));
}

BOOST_AUTO_TEST_CASE(oversized_headers_are_431) {
  start();
  HttpClient client(endpoint);
  BOOST_TEST_REQUIRE(!client.connectError());
  std::string raw = "GET /version HTTP/1.1\r\nHost: test\r\n";
  for (int i = 0; i < 20; ++i) raw += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'a') + "\r\n";
  raw += "\r\n";
  BOOST_TEST_REQUIRE(raw.size() > 20000u);
  auto r = client.exchange(raw);
  BOOST_TEST_REQUIRE(r.has_value(), client.error());
  BOOST_TEST(r->result_int() == 431u);
  // The server still serves others.
  auto after = get("/version");
  BOOST_TEST_REQUIRE(after.has_value());
  BOOST_TEST(after->result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(garbage_request_line_is_400) {
  start();
  HttpClient client(endpoint);
  BOOST_TEST_REQUIRE(!client.connectError());
  auto r = client.exchange("this is not http\r\n\r\n");
  BOOST_TEST_REQUIRE(r.has_value(), client.error());
  BOOST_TEST(r->result_int() == 400u);
  BOOST_TEST(!r->keep_alive());
  BOOST_TEST(client.closedByPeer());
}

BOOST_AUTO_TEST_CASE(oversized_body_is_413) {
  // A second server with a small body limit, on the fixture's io_context.
  obs::AdminLimits limits;
  limits.max_body_bytes = 1024;
  obs::AdminServer small(io, limits);
  small.handle("/upload", "upload", [](const obs::AdminRequest& req) {
    return obs::AdminResponse{200, "text/plain; charset=utf-8", std::to_string(req.body.size())};
  }, true);
  BOOST_TEST_REQUIRE(!small.listen(kLoopbackAnyPort));
  auto small_endpoint = small.localEndpoint();
  start();
  {
    HttpClient client(small_endpoint);
    auto ok = client.post("/upload", std::string(1000, 'b'));
    BOOST_TEST_REQUIRE(ok.has_value(), client.error());
    BOOST_TEST(ok->result_int() == 200u);
    BOOST_TEST(ok->body() == "1000");
  }
  {
    HttpClient client(small_endpoint);
    auto big = client.post("/upload", std::string(2048, 'b'));
    BOOST_TEST_REQUIRE(big.has_value(), client.error());
    BOOST_TEST(big->result_int() == 413u);
  }
  BOOST_TEST(onServerThread([&] { small.close(); }));
}

BOOST_AUTO_TEST_CASE(idle_connection_times_out) {
  obs::AdminLimits limits;
  limits.io_timeout = std::chrono::seconds(1);
  obs::AdminServer quick(io, limits);
  BOOST_TEST_REQUIRE(!quick.listen(kLoopbackAnyPort));
  auto quick_endpoint = quick.localEndpoint();
  start();
  HttpClient client(quick_endpoint);
  BOOST_TEST_REQUIRE(!client.connectError());
  BOOST_TEST(client.closedByPeer(5000ms), "an idle connection was kept past io_timeout");
  BOOST_TEST(onServerThread([&] { quick.close(); }));
}

BOOST_AUTO_TEST_CASE(close_stops_accepting) {
  start();
  BOOST_TEST_REQUIRE(get("/version").has_value());
  HttpClient open_client(endpoint);
  BOOST_TEST_REQUIRE(!open_client.connectError());
  BOOST_TEST_REQUIRE(onServerThread([&] { server.close(); }));
  BOOST_TEST(open_client.closedByPeer(), "close() left an open connection");
  HttpClient late(endpoint);
  BOOST_TEST((late.connectError() == asio::error::connection_refused), late.connectError().message());
}

BOOST_AUTO_TEST_CASE(listen_on_busy_port_fails) {
  asio::io_context other;
  tcp::acceptor holder(other);
  holder.open(tcp::v4());
  holder.bind(kLoopbackAnyPort);
  holder.listen();
  obs::AdminServer second(io);
  auto ec = second.listen(holder.local_endpoint());
  BOOST_TEST(bool(ec), "listen on a held port succeeded");
  BOOST_TEST((ec == asio::error::address_in_use), ec.message());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(listen_address)

BOOST_AUTO_TEST_CASE(parses_host_port_forms) {
  struct Case {
    const char* text;
    const char* address;
    unsigned short port;
  };
  const Case cases[] = {{":15014", "0.0.0.0", 15014},     {"127.0.0.1:0", "127.0.0.1", 0},
                        {"[::1]:80", "::1", 80},          {"localhost:8080", "127.0.0.1", 8080},
                        {"0.0.0.0:65535", "0.0.0.0", 65535}, {"[::]:15000", "::", 15000}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("address \"" << c.text << "\"") {
      std::string error;
      auto ep = obs::parseListenAddress(c.text, &error);
      BOOST_TEST(ep.has_value(), error);
      if (ep) {
        BOOST_TEST(ep->address().to_string() == c.address);
        BOOST_TEST(ep->port() == c.port);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_bad_addresses) {
  for (const char* text : {"abc", "1.2.3.4:99999", "host:", "nothost:80", "", ":", "1.2.3.4:-1",
                           "1.2.3.4:8o", "1.2.3.4:65536", "[::1]", "256.1.1.1:80"}) {
    BOOST_TEST_CONTEXT("address \"" << text << "\"") {
      std::string error;
      auto ep = obs::parseListenAddress(text, &error);
      BOOST_TEST(!ep.has_value());
      BOOST_TEST(!error.empty());
    }
  }
  BOOST_TEST(!obs::parseListenAddress("abc").has_value());  // the error out-parameter is optional
}

BOOST_AUTO_TEST_SUITE_END()
