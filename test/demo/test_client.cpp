#include "demo/test_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace monomesh::demo::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> exchange(tcp::endpoint to, http::request<http::string_body> request,
                               std::chrono::seconds deadline, ClientResult* out) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(deadline);
  auto [connect_error] = co_await stream.async_connect(to, kNoThrow);
  if (connect_error) {
    out->error = "connect: " + connect_error.message();
    co_return;
  }
  request.prepare_payload();
  auto [write_error, written] = co_await http::async_write(stream, request, kNoThrow);
  (void)written;
  if (write_error) {
    out->error = "write: " + write_error.message();
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(8 * 1024 * 1024);
  if (request.method() == http::verb::head) parser.skip(true);
  auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  (void)read_bytes;
  if (read_error) {
    out->error = "read: " + read_error.message();
    co_return;
  }
  out->response = parser.release();
  out->error.clear();
}

asio::awaitable<void> rawTalk(tcp::endpoint to, std::string bytes, std::chrono::seconds deadline, std::string* out) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(deadline);
  auto [connect_error] = co_await stream.async_connect(to, kNoThrow);
  if (connect_error) co_return;
  auto [write_error, written] = co_await asio::async_write(stream, asio::buffer(bytes), kNoThrow);
  (void)written;
  if (write_error) co_return;
  char chunk[4096];
  for (;;) {
    auto [read_error, n] = co_await stream.async_read_some(asio::buffer(chunk), kNoThrow);
    out->append(chunk, n);
    if (read_error) co_return;
  }
}

}  // namespace

std::string ClientResult::header(const std::string& name) const {
  auto it = response.find(name);
  return it == response.end() ? std::string() : std::string(it->value());
}

ClientResult httpSend(const tcp::endpoint& to, http::request<http::string_body> request, std::chrono::seconds deadline) {
  ClientResult result;
  result.error = "no answer before the deadline";
  asio::io_context context;
  asio::co_spawn(context, exchange(to, std::move(request), deadline, &result), asio::detached);
  context.run();
  return result;
}

ClientResult httpGet(const tcp::endpoint& to, const std::string& target, const Headers& headers,
                     std::chrono::seconds deadline) {
  http::request<http::string_body> request{http::verb::get, target, 11};
  request.set(http::field::host, "bookinfo.test");
  for (const auto& [name, value] : headers) request.insert(name, value);
  return httpSend(to, std::move(request), deadline);
}

std::string rawExchange(const tcp::endpoint& to, const std::string& bytes, std::chrono::seconds deadline) {
  std::string out;
  asio::io_context context;
  asio::co_spawn(context, rawTalk(to, bytes, deadline, &out), asio::detached);
  context.run();
  return out;
}

}  // namespace monomesh::demo::test
