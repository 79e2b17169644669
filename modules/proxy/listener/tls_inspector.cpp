#include "proxy/listener/tls_inspector.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <array>

#include "net/tls/client_hello.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

asio::awaitable<InspectResult> inspectConnection(asio::ip::tcp::socket& socket, std::chrono::milliseconds timeout) {
  InspectResult result;
  std::array<uint8_t, net::tls::kDefaultMaxClientHelloBytes + 1> peek;
  auto deadline = Clock::now() + timeout;
  asio::steady_timer timer(socket.get_executor());
  size_t last_seen = 0;
  for (;;) {
    // Wait until readable, bounded by the deadline.
    timer.expires_at(deadline);
    bool timed_out = false;
    timer.async_wait([&socket, &timed_out](const boost::system::error_code& ec) {
      if (ec) return;
      timed_out = true;
      socket.cancel();
    });
    auto [ec] = co_await socket.async_wait(asio::ip::tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
    timer.cancel();
    if (timed_out || ec) {
      result.close = true;
      result.reason = timed_out ? "listener filters timed out" : ec.message();
      co_return result;
    }
    ssize_t n = ::recv(socket.native_handle(), peek.data(), peek.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      result.close = true;
      result.reason = "connection closed before any data";
      co_return result;
    }
    auto hello = net::tls::inspectClientHello(std::span<const uint8_t>(peek.data(), size_t(n)));
    switch (hello.status) {
      case net::tls::ClientHelloInfo::Status::Tls:
        result.info.transport_protocol = "tls";
        result.info.server_name = hello.server_name;
        result.info.application_protocols = hello.alpn;
        co_return result;
      case net::tls::ClientHelloInfo::Status::NotTls:
        co_return result;  // raw_buffer
      case net::tls::ClientHelloInfo::Status::TooLarge:
        result.close = true;
        result.reason = "ClientHello larger than 16 KiB";
        co_return result;
      case net::tls::ClientHelloInfo::Status::NeedMoreData:
        break;
    }
    // The rest of the ClientHello is on its way: peeking again at once would spin on the same
    // bytes, so wait a little unless something new arrived meanwhile.
    if (size_t(n) == last_seen) {
      asio::steady_timer pause(socket.get_executor(), std::chrono::milliseconds(5));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      if (Clock::now() >= deadline) {
        result.close = true;
        result.reason = "listener filters timed out";
        co_return result;
      }
    }
    last_seen = size_t(n);
  }
}

}  // namespace monomesh::proxy
