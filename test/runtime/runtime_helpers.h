// Helpers shared by the runtime tests: run a Runtime on its own thread with a deadline, and wait
// for a condition with a deadline. Nothing here can block for longer than the limit it is given.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "runtime/runtime.h"

namespace monomesh::test {

using namespace std::chrono_literals;

// Runs runtime.run() on a new thread (which becomes the main thread, slot 0). Returns true when
// run() returned on its own within `limit`; otherwise calls stop() and returns false.
inline bool runWithDeadline(runtime::Runtime& runtime, std::chrono::milliseconds limit = 5000ms) {
  std::promise<void> finished;
  auto future = finished.get_future();
  std::thread thread([&] {
    runtime.run();
    finished.set_value();
  });
  bool on_time = future.wait_for(limit) == std::future_status::ready;
  if (!on_time) runtime.stop();
  thread.join();
  return on_time;
}

// A runtime running in the background; stopped and joined on destruction.
class BackgroundRuntime {
 public:
  explicit BackgroundRuntime(runtime::Runtime& runtime) : runtime_(runtime) {
    future_ = finished_.get_future();
    thread_ = std::thread([this] {
      runtime_.run();
      finished_.set_value();
    });
  }
  ~BackgroundRuntime() { stop(); }
  // Stops the runtime and reports whether run() returned within `limit`.
  bool stop(std::chrono::milliseconds limit = 5000ms) {
    if (!thread_.joinable()) return true;
    runtime_.stop();
    bool on_time = future_.wait_for(limit) == std::future_status::ready;
    thread_.join();
    return on_time;
  }

 private:
  runtime::Runtime& runtime_;
  std::promise<void> finished_;
  std::future<void> future_;
  std::thread thread_;
};

// A flag another thread raises; waiting on it is bounded.
class Latch {
 public:
  void set() {
    std::lock_guard lock(mutex_);
    set_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

}  // namespace monomesh::test
