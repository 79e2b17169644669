#include "demo/upstream_client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace monomesh::demo {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

struct UpstreamClient::Connection {
  explicit Connection(asio::io_context& context) : stream(context) {}
  beast::tcp_stream stream;
  Clock::time_point idle_since;
};

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// A pooled connection idle longer than this is not trusted any more (peers drop idle ones).
constexpr auto kMaxIdle = std::chrono::seconds(30);
constexpr std::uint32_t kMaxResponseHeaderBytes = 16 * 1024;

std::string poolKey(const Upstream& upstream) {
  return upstream.address.address().to_string() + "|" + std::to_string(upstream.address.port()) + "|" +
         upstream.host;
}

UpstreamReply failure(std::string_view step, const boost::system::error_code& ec, const Upstream& upstream) {
  UpstreamReply reply;
  if (ec == beast::error::timeout)
    reply.error = "timed out after " + std::to_string(upstream.timeout.count()) + " ms";
  else
    reply.error = std::string(step) + ": " + ec.message();
  return reply;
}

}  // namespace

UpstreamClient::UpstreamClient(asio::io_context& context, size_t max_body_bytes, size_t max_idle_per_upstream)
    : context_(context), max_body_bytes_(max_body_bytes), max_idle_per_upstream_(max_idle_per_upstream) {}

UpstreamClient::~UpstreamClient() { close(); }

asio::awaitable<UpstreamReply> UpstreamClient::get(Upstream upstream, std::string target, HeaderList headers) {
  auto self = shared_from_this();
  UpstreamReply reply;
  reply.error = "client closed";
  unsigned attempts = std::max(1u, upstream.attempts);
  for (unsigned i = 0; i < attempts && !closed_; ++i) {
    reply = co_await attempt(upstream, target, headers);
    if (reply.ok()) break;
  }
  co_return reply;
}

asio::awaitable<UpstreamReply> UpstreamClient::attempt(Upstream upstream, std::string target, HeaderList headers) {
  const std::string key = poolKey(upstream);
  const auto deadline = Clock::now() + upstream.timeout;
  std::shared_ptr<Connection> connection = takeIdle(key);
  bool reused = connection != nullptr;
  for (;;) {
    if (!connection) {
      connection = std::make_shared<Connection>(context_);
      live_.remove_if([](const auto& weak) { return weak.expired(); });
      live_.push_back(connection);
      connection->stream.expires_at(deadline);
      auto [connect_error] = co_await connection->stream.async_connect(upstream.address, kNoThrow);
      if (connect_error) {
        connection->stream.close();
        co_return failure("connect", connect_error, upstream);
      }
    }
    connection->stream.expires_at(deadline);
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, upstream.host);
    request.set(http::field::user_agent, "monomesh-bookinfo");
    for (const auto& [name, value] : headers) request.insert(name, value);
    request.keep_alive(true);
    auto [write_error, written] = co_await http::async_write(connection->stream, request, kNoThrow);
    (void)written;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxResponseHeaderBytes);
    parser.body_limit(max_body_bytes_);
    boost::system::error_code error = write_error;
    if (!error) {
      auto [read_error, read_bytes] = co_await http::async_read(connection->stream, buffer, parser, kNoThrow);
      (void)read_bytes;
      error = read_error;
    }
    if (error) {
      connection->stream.close();
      // A kept-alive connection the peer closed while idle: once more on a new one.
      if (reused && !parser.got_some() && error != beast::error::timeout && !closed_) {
        connection.reset();
        reused = false;
        continue;
      }
      co_return failure(write_error ? "write" : "read", error, upstream);
    }
    auto response = parser.release();
    UpstreamReply reply;
    reply.status = response.result_int();
    reply.body = std::move(response.body());
    if (response.keep_alive() && buffer.size() == 0 && !closed_)
      putIdle(key, std::move(connection));
    else
      connection->stream.close();
    co_return reply;
  }
}

std::shared_ptr<UpstreamClient::Connection> UpstreamClient::takeIdle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& pool = it->second;
  while (!pool.empty()) {
    auto connection = std::move(pool.back());
    pool.pop_back();
    if (Clock::now() - connection->idle_since < kMaxIdle) return connection;
    connection->stream.close();
  }
  return nullptr;
}

void UpstreamClient::putIdle(const std::string& key, std::shared_ptr<Connection> connection) {
  connection->stream.expires_never();
  auto& pool = idle_[key];
  if (pool.size() >= max_idle_per_upstream_) {
    connection->stream.close();
    return;
  }
  connection->idle_since = Clock::now();
  pool.push_back(std::move(connection));
}

void UpstreamClient::close() {
  closed_ = true;
  for (auto& weak : live_)
    if (auto connection = weak.lock()) connection->stream.close();
  live_.clear();
  idle_.clear();
}

}  // namespace monomesh::demo
