#include "proxy/tcp/byte_pump.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> oneWay(net::MaybeTlsStream& from, beast::flat_buffer& pending, net::MaybeTlsStream& to,
                             uint64_t& bytes, Clock::time_point& last_activity) {
  if (pending.size() != 0) {
    auto [ec, n] = co_await asio::async_write(to, pending.data(), nothrow);
    if (ec) co_return;
    bytes += n;
    pending.consume(n);
  }
  std::array<char, 16 * 1024> buf;
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), nothrow);
    if (ec) break;
    last_activity = Clock::now();
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), nothrow);
    if (wec) break;
    bytes += n;
    last_activity = Clock::now();
  }
  boost::system::error_code ignored;
  to.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<bool> watchdog(net::MaybeTlsStream& a, net::MaybeTlsStream& b, Clock::time_point& last_activity,
                               std::chrono::milliseconds idle) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    auto due = last_activity + idle;
    if (Clock::now() >= due) {
      // Closing both ends makes the copies finish at once, whatever they were waiting on.
      boost::system::error_code ignored;
      a.socket().close(ignored);
      b.socket().close(ignored);
      co_return true;
    }
    timer.expires_at(due);
    auto [ec] = co_await timer.async_wait(nothrow);
    if (ec) co_return false;  // cancelled: the copy finished first
  }
}

}  // namespace

asio::awaitable<PumpResult> pumpBothWays(net::MaybeTlsStream& a, beast::flat_buffer& a_pending, net::MaybeTlsStream& b,
                                         beast::flat_buffer& b_pending, std::chrono::milliseconds idle) {
  PumpResult result;
  Clock::time_point last_activity = Clock::now();
  a.tcp().expires_never();
  b.tcp().expires_never();
  using namespace asio::experimental::awaitable_operators;
  auto outcome = co_await ((oneWay(a, a_pending, b, result.a_to_b, last_activity) &&
                            oneWay(b, b_pending, a, result.b_to_a, last_activity)) ||
                           watchdog(a, b, last_activity, idle));
  if (outcome.index() == 1 && std::get<1>(outcome)) result.idle_timeout = true;
  boost::system::error_code ignored;
  a.socket().close(ignored);
  b.socket().close(ignored);
  co_return result;
}

}  // namespace monomesh::proxy
