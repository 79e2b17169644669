#include "runtime/runtime.h"

#include <boost/asio/post.hpp>
#include <csignal>
#include <sched.h>
#include <spdlog/spdlog.h>

#include "runtime/thread_slot.h"

namespace monomesh::runtime {

unsigned defaultConcurrency() {
  cpu_set_t set;
  unsigned cores = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = unsigned(CPU_COUNT(&set));
  if (cores == 0) cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min<unsigned>(cores, kMaxWorkers);
}

Runtime::Runtime(RuntimeOptions options)
    : main_guard_(main_.get_executor()),
      signals_(main_),
      drain_(main_, options.drain_duration, [this] { stop(); }),
      handle_signals_(options.handle_signals) {
  unsigned n = options.concurrency == 0 ? defaultConcurrency() : options.concurrency;
  n = std::min<unsigned>(n, kMaxWorkers);
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->guard.emplace(w->context.get_executor());
    workers_.push_back(std::move(w));
  }
}

Runtime::~Runtime() {
  stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Runtime::postToAllWorkers(std::function<void(size_t)> fn, std::function<void()> done) {
  // The countdown lives on main: each worker posts its completion back, so no atomics are needed.
  auto remaining = std::make_shared<size_t>(workers_.size());
  auto shared_fn = std::make_shared<std::function<void(size_t)>>(std::move(fn));
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  if (workers_.empty()) {
    if (*shared_done) boost::asio::post(main_, *shared_done);
    return;
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    boost::asio::post(workers_[i]->context, [this, i, remaining, shared_fn, shared_done] {
      (*shared_fn)(i);
      boost::asio::post(main_, [remaining, shared_done] {
        if (--*remaining == 0 && *shared_done) (*shared_done)();
      });
    });
  }
}

void Runtime::run() {
  assignThreadSlot(0);
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    w->thread = std::thread([w, i] {
      assignThreadSlot(int(i) + 1);
      w->context.run();
    });
  }
  if (handle_signals_) {
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    std::function<void(boost::system::error_code, int)> on_signal =
        [this, &on_signal](boost::system::error_code ec, int signo) {
          if (ec) return;
          drain_.start(signo == SIGTERM ? "SIGTERM" : "SIGINT");
          signals_.async_wait(on_signal);
        };
    signals_.async_wait(on_signal);
    main_.run();
  } else {
    main_.run();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Runtime::stop() {
  boost::system::error_code ignored;
  signals_.cancel(ignored);
  main_guard_.reset();
  main_.stop();
  for (auto& w : workers_) {
    w->guard.reset();
    w->context.stop();
  }
}

}  // namespace monomesh::runtime
