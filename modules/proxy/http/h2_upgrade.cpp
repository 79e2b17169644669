// WebSocket over HTTP/2 (RFC 8441): a downstream extended CONNECT (:protocol websocket) goes
// upstream as the HTTP/1.1 Upgrade request it stands for; a 101 becomes the stream's 200 and then
// bytes flow both ways between the stream's DATA frames and the upstream connection, as Envoy's
// H2-to-H1 upgrade path does. Other answers are relayed as ordinary responses.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <array>

#include "net/h2/h2_session.h"
#include "net/stream_io.h"
#include "observe/log.h"
#include "proxy/http/h2_exchange.h"
#include "proxy/http/http1_message.h"
#include "proxy/http/request_support.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace h2 = net::h2;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// The client's DATA to the upstream; its END_STREAM half-closes the upstream, a reset closes it.
asio::awaitable<void> streamToSocket(std::shared_ptr<h2::Stream> down, UpstreamConnection* up, uint64_t* bytes,
                                     Clock::time_point* activity) {
  boost::system::error_code ignored;
  for (;;) {
    auto r = co_await down->read();
    if (r.status == h2::Stream::ReadStatus::end) {
      up->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (r.status == h2::Stream::ReadStatus::reset) break;
    *activity = Clock::now();
    auto [ec, n] = co_await asio::async_write(up->stream, asio::buffer(r.data), nothrow);
    if (ec) break;
    *bytes += n;
  }
  up->stream.socket().close(ignored);
  down->reset();
}

// The upstream's bytes (those read past its 101 first) to the client; its EOF ends the stream.
asio::awaitable<void> socketToStream(UpstreamConnection* up, std::shared_ptr<h2::Stream> down, uint64_t* bytes,
                                     Clock::time_point* activity) {
  if (up->buffer.size() > 0) {
    std::string pending(static_cast<const char*>(up->buffer.data().data()), up->buffer.size());
    up->buffer.consume(up->buffer.size());
    *bytes += pending.size();
    if (!co_await down->write(std::move(pending), false)) co_return;
  }
  std::array<char, 16 * 1024> chunk;
  for (;;) {
    auto [ec, n] = co_await up->stream.async_read_some(asio::buffer(chunk), nothrow);
    if (ec) {
      // EOF: the upstream is done (a reset or a closed socket: the client's stream is reset).
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        co_await down->write(std::string(), true);
      } else {
        down->reset(0x2);
      }
      co_return;
    }
    *activity = Clock::now();
    *bytes += n;
    if (!co_await down->write(std::string(chunk.data(), n), false)) co_return;
  }
}

// Ends the tunnel when neither direction has moved for `idle` (the stream idle timeout).
asio::awaitable<void> tunnelWatchdog(UpstreamConnection* up, std::shared_ptr<h2::Stream> down,
                                     Clock::time_point* activity, std::chrono::milliseconds idle) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    auto due = *activity + idle;
    if (Clock::now() >= due) {
      boost::system::error_code ignored;
      up->stream.socket().close(ignored);
      down->reset();
      co_return;
    }
    timer.expires_at(due);
    auto [ec] = co_await timer.async_wait(nothrow);
    if (ec) co_return;
  }
}

}  // namespace

std::string H2Exchange::extendedConnectToUpgrade() {
  const std::string* protocol = h2::findHeader(down_->headers(), ":protocol");
  if (protocol == nullptr) return {};
  // As Envoy's codec: the request is matched, filtered and logged as the HTTP/1.1 upgrade.
  method_ = "GET";
  fields_.set(http::field::upgrade, *protocol);
  fields_.set(http::field::connection, "Upgrade");
  return *protocol;
}

asio::awaitable<H2Exchange::Outcome> H2Exchange::toUpgrade(const ClusterEntry& entry, HostPtr host,
                                                           Clock::time_point deadline) {
  const ClusterInfo& cluster = *entry.info;
  if (cluster.http2) {
    co_await localReply(503, "WebSocket to an HTTP/2 upstream is not supported", "UPE");
    co_return Outcome::Failed;
  }
  // A tunnel never goes back to the pool: always a connection of its own.
  auto wait_until = deadline == Clock::time_point::max() ? Clock::now() + std::chrono::seconds(60) : deadline;
  auto acquired = co_await conn_->worker.pool.acquire(entry.info, host, /*reuse=*/false, /*verify=*/false, wait_until);
  if (!acquired.connection) {
    if (acquired.error == ConnectError::Overflow) {
      co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: overflow", "UO",
                          overloaded());
    } else {
      recordOutcome(cluster, *host, 503, *entry.hosts);
      co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
                          "UF");
    }
    co_return Outcome::Failed;
  }
  UpstreamConnection& up = *acquired.connection;
  std::string head = "GET " + rewritten_ + " HTTP/1.1\r\n";
  for (const auto& f : fields_) {
    if (f.name() == http::field::content_length) continue;
    head.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
  }
  head += "\r\n";
  up.io.deadline().expiresAt(wait_until);
  auto sent_at = Clock::now();
  std::array<asio::const_buffer, 1> request{asio::buffer(head)};
  auto written = co_await up.io.write(request);
  ResponseHead response;
  ResponseParser rp(response);
  rp.header_limit(uint32_t(conn_->config->max_request_headers_bytes));
  rp.body_limit(boost::none);
  beast::error_code rec = written.ec;
  if (!rec) {
    auto [hec, hn] = co_await net::readHeader(up.io, up.buffer, rp);
    rec = hec;
  }
  if (rec) {
    bool timed_out = rec == beast::error::timeout;
    recordOutcome(cluster, *host, timed_out ? 504 : 503, *entry.hosts);
    if (timed_out) {
      cluster.stats->rq_timeout->inc();
      co_await localReply(504, "upstream request timeout", "UT");
    } else {
      co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
                          "UC");
    }
    co_return Outcome::Failed;
  }
  unsigned status = response.status;
  recordOutcome(cluster, *host, status, *entry.hosts);
  countUpstreamStatus(*cluster.stats, status);
  if (status != 101) {
    // Refused (403, 404...): an ordinary answer, its body read to the end or to the close.
    down_->respond(responseHeaders(status, response.fields, sent_at), rp.is_done());
    std::array<char, 16 * 1024> chunk;
    while (!rp.is_done()) {
      rp.bodyWindow(chunk.data(), chunk.size());
      auto [bec, bn] = co_await net::readSome(up.io, up.buffer, rp);
      size_t got = chunk.size() - rp.windowLeft();
      if (bec == http::error::need_buffer) bec = {};
      if (bec) {
        down_->reset(0x2);
        break;
      }
      bytes_out_ += got;
      if (!co_await down_->write(std::string(chunk.data(), got), rp.is_done())) break;
    }
    co_return Outcome::Answered;
  }
  // Switched: the stream's 200 carries the upstream's headers but the HTTP/1.1 hop-by-hop ones.
  auto out = responseHeaders(200, response.fields, sent_at);
  if (!down_->respond(out, false)) co_return Outcome::Answered;
  up.io.deadline().stop();
  up.stream.tcp().expires_never();
  auto idle = route_->idle_timeout ? *route_->idle_timeout : conn_->config->stream_idle_timeout;
  Clock::time_point activity = Clock::now();
  using namespace asio::experimental::awaitable_operators;
  co_await ((streamToSocket(down_, &up, &bytes_in_, &activity) && socketToStream(&up, down_, &bytes_out_, &activity)) ||
            tunnelWatchdog(&up, down_, &activity, idle));
  boost::system::error_code ignored;
  up.stream.socket().close(ignored);
  co_return Outcome::Answered;
}

}  // namespace monomesh::proxy
