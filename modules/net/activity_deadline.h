// A connection's inactivity deadline on one timer that is re-armed lazily: moving the deadline
// later only stores it, and the timer, when it fires, re-arms itself to the stored deadline or,
// when that has passed, closes the socket (as beast::tcp_stream's timeout does). A keep-alive
// connection moves its deadline on every read and write; a per-operation timer (Beast's) costs
// a timer-queue insert and removal, often a timerfd syscall, each time, this one nothing.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace monomesh::net {

class MaybeTlsStream;

class ActivityDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `stream` is closed when the deadline passes; it must outlive this object (or stop() first).
  ActivityDeadline(const boost::asio::any_io_executor& executor, MaybeTlsStream& stream);
  ~ActivityDeadline();
  ActivityDeadline(const ActivityDeadline&) = delete;
  ActivityDeadline& operator=(const ActivityDeadline&) = delete;

  void expiresAt(Clock::time_point when) {
    deadline_ = when;
    // Only an earlier deadline than the pending wait's needs the timer now.
    if (when < armed_) arm(when);
  }
  void expiresAfter(Clock::duration window) { expiresAt(Clock::now() + window); }
  void expiresNever() noexcept { deadline_ = Clock::time_point::max(); }
  Clock::time_point deadline() const noexcept { return deadline_; }
  // The deadline passed and the stream was closed (for good: such a connection is not reused).
  bool expired() const noexcept { return expired_; }
  // No more expiry (the stream is handed to code that keeps its own timers): cancels the wait.
  void stop();

 private:
  void arm(Clock::time_point when);
  void fired(uint64_t sequence);

  boost::asio::steady_timer timer_;
  MaybeTlsStream& stream_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point armed_ = Clock::time_point::max();  // expiry of the pending wait (max: none)
  uint64_t sequence_ = 0;  // of the latest wait: an older one's completion is stale
  bool expired_ = false;
  // Outlives this object in the handler of a wait that completes after it is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace monomesh::net
