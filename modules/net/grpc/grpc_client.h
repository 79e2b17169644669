// A gRPC client on the shared runtime: a channel keeps one HTTP/2 connection to a target,
// reconnecting with gRPC's connection backoff (1 s initial, x1.6, 20% jitter, 120 s cap); calls
// are streams on it (unary and every streaming shape through ClientCall), with deadlines sent as
// grpc-timeout and enforced locally, and cancellation.
#pragma once

#include "net/grpc/grpc_status.h"
#include "net/grpc/message_stream.h"
#include "net/h2/h2_session.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace monomesh::net::grpc {

class ClientCall {
 public:
  ClientCall() = default;
  // A call dropped before its stream ended is cancelled (RST_STREAM), as gRPC clients do.
  ~ClientCall();
  ClientCall(const ClientCall&) = delete;
  ClientCall& operator=(const ClientCall&) = delete;
  // Sends a request message (`last`: and half-closes); false once the call has ended.
  boost::asio::awaitable<bool> write(std::string_view message, bool last = false);
  // Half-close: no more request messages.
  boost::asio::awaitable<bool> writesDone();
  // The next response message; nullopt at the end (then finish()).
  boost::asio::awaitable<std::optional<std::string>> read();
  // Waits for the trailers and returns the call's status.
  boost::asio::awaitable<Status> finish();
  void cancel();
  const h2::Headers& initialMetadata() const { return io_ ? io_->streamPtr()->headers() : empty_; }

 private:
  friend class GrpcChannel;
  Status resolveStatus();
  std::optional<MessageStream> io_;
  std::optional<Status> failed_;  // set when the call could not start, or ended locally
  std::shared_ptr<boost::asio::steady_timer> deadline_;
  bool deadline_hit_ = false;
  bool cancelled_ = false;
  bool half_closed_ = false;
  h2::Headers empty_;
};

// The longest Unix socket path the kernel takes (sockaddr_un's sun_path less its terminator).
inline constexpr size_t kMaxUnixPath = 107;

struct ChannelOptions {
  h2::H2Options h2;
  size_t max_message_size = kDefaultMaxMessageSize;
  std::chrono::milliseconds connect_timeout{20000};
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{120000};
  double backoff_multiplier = 1.6;
  double backoff_jitter = 0.2;
  std::string authority;  // :authority; host:port by default ("localhost" over a Unix socket)
  // Connect to this Unix domain socket instead of host:port (gRPC's "unix:" targets).
  std::string unix_path;
  // Wraps a connected socket (TLS handshake); plain TCP when empty.
  std::function<boost::asio::awaitable<std::unique_ptr<Transport>>(boost::asio::ip::tcp::socket)> secure;
};

class GrpcChannel : public std::enable_shared_from_this<GrpcChannel> {
 public:
  static std::shared_ptr<GrpcChannel> create(boost::asio::any_io_executor executor, std::string host, uint16_t port,
                                             ChannelOptions options = {});
  ~GrpcChannel();

  // Starts a call. Without wait_for_ready a channel in backoff fails the call at once with
  // UNAVAILABLE (gRPC's fail-fast); with it, the call waits for a connection until its deadline.
  boost::asio::awaitable<std::shared_ptr<ClientCall>> startCall(
      std::string method, h2::Headers metadata = {},
      std::optional<std::chrono::milliseconds> timeout = std::nullopt, bool wait_for_ready = false);
  // One request, one response.
  boost::asio::awaitable<Status> unary(std::string method, std::string_view request, std::string& response,
                                       std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  void close();

  bool connected() const { return session_ && !session_->closed(); }
  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  const std::string& lastError() const noexcept { return last_error_; }
  const h2::H2Counters& h2Counters() const noexcept { return h2_counters_; }
  uint64_t connectAttempts() const noexcept { return attempts_; }

 private:
  GrpcChannel(boost::asio::any_io_executor executor, std::string host, uint16_t port, ChannelOptions options);
  boost::asio::awaitable<std::shared_ptr<h2::Session>> session(std::chrono::steady_clock::time_point deadline,
                                                               bool wait_for_ready);
  boost::asio::awaitable<bool> connectOnce();

  boost::asio::any_io_executor executor_;
  std::string host_;
  uint16_t port_;
  ChannelOptions options_;
  std::shared_ptr<h2::Session> session_;
  h2::H2Counters h2_counters_;
  bool closed_ = false;
  // Set while a connect is in progress; cancelled to wake every call waiting for it.
  std::shared_ptr<boost::asio::steady_timer> connect_done_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
  uint64_t attempts_ = 0;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace monomesh::net::grpc
