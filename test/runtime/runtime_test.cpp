// Runtime: worker threads, postToAllWorkers, thread slots, stop().
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "runtime/thread_slot.h"
#include "runtime_helpers.h"

namespace asio = boost::asio;
namespace rt = monomesh::runtime;
using namespace monomesh::test;

namespace {

rt::RuntimeOptions options(unsigned concurrency) {
  rt::RuntimeOptions o;
  o.concurrency = concurrency;
  o.handle_signals = false;
  return o;
}

struct Call {
  size_t index;
  int slot;
  std::thread::id thread;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(runtime)

BOOST_AUTO_TEST_CASE(worker_count_follows_options) {
  rt::Runtime two(options(2));
  BOOST_TEST(two.workerCount() == 2u);
  rt::Runtime automatic(options(0));
  BOOST_TEST(automatic.workerCount() == size_t(rt::defaultConcurrency()));
  BOOST_TEST(rt::defaultConcurrency() >= 1u);
  BOOST_TEST(rt::defaultConcurrency() <= unsigned(rt::kMaxWorkers));
  rt::Runtime capped(options(1000));
  BOOST_TEST(capped.workerCount() == size_t(rt::kMaxWorkers));
}

BOOST_AUTO_TEST_CASE(post_to_all_workers_runs_once_per_worker_then_done_on_main) {
  rt::Runtime runtime(options(2));
  std::mutex mutex;
  std::vector<Call> calls;
  int done_calls = 0;
  int done_slot = -2;
  size_t calls_seen_by_done = 0;
  std::thread::id done_thread;
  runtime.postToAllWorkers(
      [&](size_t index) {
        std::lock_guard lock(mutex);
        calls.push_back({index, rt::threadSlot(), std::this_thread::get_id()});
      },
      [&] {
        {
          std::lock_guard lock(mutex);
          ++done_calls;
          done_slot = rt::threadSlot();
          done_thread = std::this_thread::get_id();
          calls_seen_by_done = calls.size();
        }
        runtime.stop();
      });
  BOOST_TEST_REQUIRE(runWithDeadline(runtime), "done never stopped the runtime");

  BOOST_TEST(done_calls == 1);
  BOOST_TEST(done_slot == 0);
  BOOST_TEST(calls_seen_by_done == 2u, "done must run after every worker ran fn");
  BOOST_TEST_REQUIRE(calls.size() == 2u);
  std::set<size_t> indexes;
  std::set<std::thread::id> threads;
  for (const auto& c : calls) {
    indexes.insert(c.index);
    threads.insert(c.thread);
    BOOST_TEST(c.slot == int(c.index) + 1, "worker " << c.index << " ran with slot " << c.slot);
    BOOST_TEST((c.thread != done_thread), "fn ran on the main thread");
  }
  BOOST_TEST((indexes == std::set<size_t>{0, 1}));
  BOOST_TEST(threads.size() == 2u, "both indexes ran on one thread");
}

BOOST_AUTO_TEST_CASE(post_to_all_workers_from_main_context_in_rounds) {
  rt::Runtime runtime(options(2));
  std::atomic<int> per_worker[2] = {0, 0};
  std::atomic<int> wrong_slot{0};
  int rounds_done = 0;
  std::function<void()> round = [&] {
    if (rt::threadSlot() != 0) ++wrong_slot;
    if (rounds_done == 3) {
      runtime.stop();
      return;
    }
    runtime.postToAllWorkers(
        [&](size_t index) {
          if (rt::threadSlot() != int(index) + 1) ++wrong_slot;
          ++per_worker[index];
        },
        [&] {
          ++rounds_done;
          round();
        });
  };
  asio::post(runtime.main(), round);
  BOOST_TEST_REQUIRE(runWithDeadline(runtime));
  BOOST_TEST(rounds_done == 3);
  BOOST_TEST(per_worker[0].load() == 3);
  BOOST_TEST(per_worker[1].load() == 3);
  BOOST_TEST(wrong_slot.load() == 0);
}

BOOST_AUTO_TEST_CASE(stop_from_another_thread_makes_run_return) {
  rt::Runtime runtime(options(2));
  Latch running, workers_running;
  asio::post(runtime.main(), [&] { running.set(); });
  runtime.postToAllWorkers([](size_t) {}, [&] { workers_running.set(); });

  std::promise<void> returned;
  auto future = returned.get_future();
  std::thread thread([&] {
    runtime.run();
    returned.set_value();
  });
  bool started = running.wait() && workers_running.wait();
  BOOST_TEST(started);
  // Still running: nothing has asked it to stop.
  BOOST_TEST((future.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout));
  runtime.stop();
  bool on_time = future.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  BOOST_TEST(on_time, "run() did not return after stop()");
  if (!on_time) runtime.stop();
  thread.join();
}

BOOST_AUTO_TEST_CASE(stop_before_run_returns_at_once) {
  rt::Runtime runtime(options(2));
  runtime.stop();
  BOOST_TEST(runWithDeadline(runtime));
}

BOOST_AUTO_TEST_CASE(thread_slot_defaults_to_minus_one_off_runtime) {
  int slot = 0;
  std::thread([&] { slot = rt::threadSlot(); }).join();
  BOOST_TEST(slot == -1);
  std::thread([&] {
    rt::assignThreadSlot(7);
    slot = rt::threadSlot();
  }).join();
  BOOST_TEST(slot == 7);
}

BOOST_AUTO_TEST_SUITE_END()
