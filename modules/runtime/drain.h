// Graceful shutdown. SIGTERM/SIGINT (or a role calling start()) asks every registered party to
// drain: stop accepting, finish in-flight work, report done. When all have reported, or when the
// drain duration runs out, or on a second signal, the runtime stops hard.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace monomesh::runtime {

class Drain {
 public:
  // A participant starts draining when called and invokes `done` (on any thread) when finished.
  using Participant = std::function<void(std::function<void()> done)>;

  Drain(boost::asio::io_context& main, std::chrono::milliseconds duration,
        std::function<void()> hard_stop);

  // Register on the main context before drain starts.
  void add(std::string name, Participant participant);

  // Begin draining (idempotent); a second call while draining stops hard at once.
  void start(std::string reason);

  bool draining() const noexcept { return started_; }
  std::chrono::milliseconds duration() const noexcept { return duration_; }

 private:
  void participantDone();
  void finish(const char* how);

  boost::asio::io_context& main_;
  std::chrono::milliseconds duration_;
  std::function<void()> hard_stop_;
  boost::asio::steady_timer deadline_;
  std::vector<std::pair<std::string, Participant>> participants_;
  size_t pending_ = 0;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace monomesh::runtime
