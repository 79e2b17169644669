// The one Asio runtime every role shares: a main control io_context (config, control plane,
// admin) plus one io_context per worker thread (data plane). A connection lives on one worker for
// its whole life; state built on main reaches workers as immutable snapshots (snapshot_slot.h).
#pragma once
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "runtime/drain.h"

namespace monomesh::runtime {

struct RuntimeOptions {
  unsigned concurrency = 0;  // worker threads; 0 means one per core
  std::chrono::milliseconds drain_duration{std::chrono::seconds(45)};
  bool handle_signals = true;  // SIGTERM/SIGINT start a drain
};

// Worker count used for `concurrency == 0`: the cores this process may run on, capped.
unsigned defaultConcurrency();

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  boost::asio::io_context& main() noexcept { return main_; }
  size_t workerCount() const noexcept { return workers_.size(); }
  boost::asio::io_context& worker(size_t index) { return workers_[index]->context; }

  // Runs fn(worker_index) on every worker thread, then `done` on the main context once all have
  // run. Call from the main context (or before run()).
  void postToAllWorkers(std::function<void(size_t)> fn, std::function<void()> done = {});

  Drain& drain() noexcept { return drain_; }

  // Starts the worker threads and runs the main context on the calling thread until stop().
  // Returns once every thread has finished.
  void run();

  // Hard stop: every context stops and run() returns. Safe from any thread.
  void stop();

 private:
  struct Worker {
    boost::asio::io_context context{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::thread thread;
  };

  boost::asio::io_context main_{1};
  std::vector<std::unique_ptr<Worker>> workers_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> main_guard_;
  boost::asio::signal_set signals_;
  Drain drain_;
  bool handle_signals_;
};

}  // namespace monomesh::runtime
