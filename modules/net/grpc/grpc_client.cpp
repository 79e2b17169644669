#include "net/grpc/grpc_client.h"

#include "net/grpc/grpc_framing.h"
#include "observe/log.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

namespace monomesh::net::grpc {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

ClientCall::~ClientCall() {
  if (deadline_) deadline_->cancel();
  if (io_ && !io_->stream().closed()) io_->stream().reset(0x8);
}

asio::awaitable<bool> ClientCall::write(std::string_view message, bool last) {
  if (failed_ || half_closed_ || !io_) co_return false;
  half_closed_ = last;
  co_return co_await io_->stream().write(frameMessage(message), last);
}

asio::awaitable<bool> ClientCall::writesDone() {
  if (failed_ || half_closed_ || !io_) co_return false;
  half_closed_ = true;
  co_return co_await io_->stream().write(std::string(), true);
}

asio::awaitable<std::optional<std::string>> ClientCall::read() {
  if (failed_ || !io_) co_return std::nullopt;
  auto message = co_await io_->read();
  if (!message && io_->error() && !failed_) {
    failed_ = io_->error();
    io_->stream().reset(0x8);
  }
  co_return message;
}

asio::awaitable<Status> ClientCall::finish() {
  if (failed_) co_return *failed_;
  for (;;) {
    auto message = co_await read();  // unread responses are drained (GCC 12: no co_await in a condition)
    if (!message) break;
  }
  if (failed_) co_return *failed_;
  if (deadline_) deadline_->cancel();
  co_return resolveStatus();
}

void ClientCall::cancel() {
  if (cancelled_ || !io_) return;
  cancelled_ = true;
  io_->stream().reset(0x8);
}

Status ClientCall::resolveStatus() {
  if (deadline_hit_) return {StatusCode::deadline_exceeded, "deadline exceeded"};
  if (cancelled_) return {StatusCode::cancelled, "cancelled by the client"};
  const h2::Stream& stream = io_->stream();
  if (stream.connectionLost() && !io_->ended()) return {StatusCode::unavailable, "connection closed"};
  if (stream.closed() && stream.errorCode() != 0 && !io_->ended()) {
    switch (stream.errorCode()) {
      case 0x7: return {StatusCode::unavailable, "stream refused"};
      case 0x8: return {StatusCode::cancelled, "stream cancelled by the server"};
      case 0xb: return {StatusCode::resource_exhausted, "enhance your calm"};
      default:
        return {stream.headers().empty() ? StatusCode::unavailable : StatusCode::internal,
                "stream reset (HTTP/2 error " + std::to_string(stream.errorCode()) + ")"};
    }
  }
  const std::string* http = h2::findHeader(stream.headers(), ":status");
  if (http && *http != "200") {
    int code = std::atoi(http->c_str());
    return {statusFromHttp(code), "HTTP status " + *http};
  }
  // Trailers-only responses carry the status in the headers.
  const h2::Headers& source = h2::findHeader(stream.trailers(), "grpc-status") ? stream.trailers() : stream.headers();
  const std::string* grpc_status = h2::findHeader(source, "grpc-status");
  if (!grpc_status) return {StatusCode::unknown, "response ended without grpc-status"};
  int code = -1;
  auto [ptr, ec] = std::from_chars(grpc_status->data(), grpc_status->data() + grpc_status->size(), code);
  if (ec != std::errc() || ptr != grpc_status->data() + grpc_status->size() || code < 0 || code > 16) {
    return {StatusCode::unknown, "invalid grpc-status " + *grpc_status};
  }
  const std::string* message = h2::findHeader(source, "grpc-message");
  return {static_cast<StatusCode>(code), message ? decodeGrpcMessage(*message) : std::string()};
}

std::shared_ptr<GrpcChannel> GrpcChannel::create(asio::any_io_executor executor, std::string host, uint16_t port,
                                                 ChannelOptions options) {
  return std::shared_ptr<GrpcChannel>(new GrpcChannel(std::move(executor), std::move(host), port, std::move(options)));
}

GrpcChannel::GrpcChannel(asio::any_io_executor executor, std::string host, uint16_t port, ChannelOptions options)
    : executor_(std::move(executor)), host_(std::move(host)), port_(port), options_(std::move(options)) {
  if (options_.authority.empty())
    options_.authority = options_.unix_path.empty() ? host_ + ":" + std::to_string(port_) : "localhost";
}

GrpcChannel::~GrpcChannel() {
  if (session_) session_->close();
}

void GrpcChannel::close() {
  closed_ = true;
  if (session_) session_->close();
  if (connect_done_) connect_done_->cancel();
}

asio::awaitable<bool> GrpcChannel::connectOnce() {
  attempts_++;
  if (!options_.unix_path.empty()) {
    // A local peer answers at once or not at all: no resolve, no connect timer.
    if (options_.unix_path.size() > kMaxUnixPath) {
      last_error_ = "unix socket path too long: " + options_.unix_path;
      co_return false;
    }
    asio::local::stream_protocol::socket socket(executor_);
    auto [uec] = co_await socket.async_connect(asio::local::stream_protocol::endpoint(options_.unix_path), nothrow);
    if (uec) {
      last_error_ = "cannot connect to unix:" + options_.unix_path + ": " + uec.message();
      co_return false;
    }
    session_ = h2::Session::create(h2::Session::Role::client, makeUnixTransport(std::move(socket)), options_.h2, {},
                                   &h2_counters_);
    session_->start();
    co_return true;
  }
  asio::ip::tcp::resolver resolver(executor_);
  auto [rec, results] = co_await resolver.async_resolve(host_, std::to_string(port_), nothrow);
  if (rec) {
    last_error_ = "cannot resolve " + host_ + ": " + rec.message();
    co_return false;
  }
  asio::ip::tcp::socket socket(executor_);
  asio::steady_timer limit(executor_, options_.connect_timeout);
  limit.async_wait([&socket](const boost::system::error_code& ec) {
    if (!ec) socket.close();
  });
  auto [cec, endpoint] = co_await asio::async_connect(socket, results, nothrow);
  limit.cancel();
  if (cec || !socket.is_open()) {
    last_error_ = "cannot connect to " + options_.authority + ": " +
                  (cec ? cec.message() : std::string("connect timed out"));
    co_return false;
  }
  std::unique_ptr<Transport> transport;
  if (options_.secure) {
    transport = co_await options_.secure(std::move(socket));
    if (!transport) {
      last_error_ = "TLS handshake with " + options_.authority + " failed";
      co_return false;
    }
  } else {
    transport = makeTcpTransport(std::move(socket));
  }
  session_ = h2::Session::create(h2::Session::Role::client, std::move(transport), options_.h2, {}, &h2_counters_);
  session_->start();
  co_return true;
}

asio::awaitable<std::shared_ptr<h2::Session>> GrpcChannel::session(Clock::time_point deadline, bool wait_for_ready) {
  using namespace asio::experimental::awaitable_operators;
  for (;;) {
    if (closed_) co_return nullptr;
    if (session_ && session_->acceptsStreams()) co_return session_;
    // A closed or draining connection: the next call starts a new one (a draining one keeps
    // itself alive until its own streams finish).
    if (session_) session_.reset();
    auto now = Clock::now();
    if (now >= deadline) co_return nullptr;
    if (connect_done_ || now < next_attempt_) {
      if (!connect_done_ && !wait_for_ready) co_return nullptr;
      auto wake = std::min(deadline, connect_done_ ? Clock::time_point::max() : next_attempt_);
      asio::steady_timer until(executor_, wake);
      if (connect_done_) {
        auto done = connect_done_;
        co_await (done->async_wait(nothrow) || until.async_wait(nothrow));
      } else {
        co_await until.async_wait(nothrow);
      }
      continue;
    }
    connect_done_ = std::make_shared<asio::steady_timer>(executor_, Clock::time_point::max());
    bool ok = co_await connectOnce();
    connect_done_->cancel();
    connect_done_.reset();
    if (ok) {
      backoff_ = std::chrono::milliseconds(0);
      continue;
    }
    backoff_ = backoff_.count() == 0
                   ? options_.backoff_initial
                   : std::min(options_.backoff_max, std::chrono::milliseconds(static_cast<int64_t>(
                                                        backoff_.count() * options_.backoff_multiplier)));
    std::uniform_real_distribution<double> jitter(1 - options_.backoff_jitter, 1 + options_.backoff_jitter);
    auto delay = std::chrono::milliseconds(static_cast<int64_t>(backoff_.count() * jitter(random_)));
    next_attempt_ = Clock::now() + delay;
    observe::logScope("grpc").warn("{}; retrying in {} ms", last_error_, delay.count());
    if (!wait_for_ready) co_return nullptr;
  }
}

asio::awaitable<std::shared_ptr<ClientCall>> GrpcChannel::startCall(std::string method, h2::Headers metadata,
                                                                    std::optional<std::chrono::milliseconds> timeout,
                                                                    bool wait_for_ready) {
  auto call = std::make_shared<ClientCall>();
  auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  auto s = co_await session(deadline, wait_for_ready);
  if (!s) {
    bool late = timeout && Clock::now() >= deadline;
    call->failed_ = Status{late ? StatusCode::deadline_exceeded : StatusCode::unavailable,
                           late ? "deadline exceeded while connecting" : (last_error_.empty() ? "no connection" : last_error_)};
    co_return call;
  }
  h2::Headers headers = {{":method", "POST"},
                         {":scheme", options_.secure ? "https" : "http"},
                         {":path", std::move(method)},
                         {":authority", options_.authority},
                         {"content-type", "application/grpc"},
                         {"te", "trailers"},
                         {"grpc-accept-encoding", "identity"},
                         {"user-agent", "monomesh-grpc"}};
  if (timeout) {
    headers.push_back({"grpc-timeout", formatGrpcTimeout(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::max(deadline - Clock::now(), Clock::duration(0))))});
  }
  for (auto& h : metadata) headers.push_back(std::move(h));
  auto stream = s->openStream(headers, false);
  if (!stream) {
    call->failed_ = Status{StatusCode::unavailable, "the connection takes no new streams"};
    co_return call;
  }
  call->io_.emplace(stream, options_.max_message_size);
  if (timeout) {
    call->deadline_ = std::make_shared<asio::steady_timer>(executor_, deadline);
    call->deadline_->async_wait([weak = std::weak_ptr<ClientCall>(call)](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto c = weak.lock(); c && !c->io_->stream().closed()) {
        c->deadline_hit_ = true;
        c->io_->stream().reset(0x8);
      }
    });
  }
  co_return call;
}

asio::awaitable<Status> GrpcChannel::unary(std::string method, std::string_view request, std::string& response,
                                           std::optional<std::chrono::milliseconds> timeout) {
  auto call = co_await startCall(std::move(method), {}, timeout);
  co_await call->write(request, true);
  auto message = co_await call->read();
  Status status = co_await call->finish();
  if (status.ok()) {
    if (!message) co_return Status{StatusCode::internal, "no response message"};
    response = std::move(*message);
  }
  co_return status;
}

}  // namespace monomesh::net::grpc
