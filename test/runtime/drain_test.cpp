// Drain: participants, completion, timeout, second start; and SIGTERM/SIGINT through Runtime.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <atomic>
#include <csignal>
#include <functional>
#include <thread>
#include <vector>

#include "runtime/drain.h"
#include "runtime/runtime.h"
#include "runtime/thread_slot.h"
#include "runtime_helpers.h"

namespace asio = boost::asio;
namespace rt = monomesh::runtime;
using namespace std::chrono_literals;
using namespace monomesh::test;

namespace {

// A Drain on its own io_context whose hard stop is counted and stops the context.
struct DrainFixture {
  explicit DrainFixture(std::chrono::milliseconds duration)
      : drain(io, duration, [this] {
          ++stops;
          io.stop();
        }) {}

  // Adds a participant that records its `done` and does not call it.
  void addHolder(const std::string& name) {
    size_t index = calls.size();
    calls.push_back(0);
    dones.emplace_back();
    drain.add(name, [this, index](std::function<void()> done) {
      ++calls[index];
      dones[index] = std::move(done);
    });
  }

  asio::io_context io;
  int stops = 0;
  rt::Drain drain;
  std::vector<int> calls;
  std::vector<std::function<void()>> dones;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(drain)

BOOST_AUTO_TEST_CASE(all_participants_done_stops_once) {
  DrainFixture f(30s);
  f.addHolder("a");
  f.addHolder("b");
  f.addHolder("c");
  BOOST_TEST(!f.drain.draining());
  f.drain.start("test");
  BOOST_TEST(f.drain.draining());
  BOOST_TEST((f.calls == std::vector<int>{1, 1, 1}));
  BOOST_TEST(f.stops == 0);

  // Two of three report (one from another thread): still draining.
  std::thread([&] { f.dones[0](); }).join();
  f.dones[1]();
  f.io.poll();
  BOOST_TEST(f.stops == 0, "stopped before every participant was done");

  f.dones[2]();
  f.io.restart();
  f.io.run_for(5s);
  BOOST_TEST(f.stops == 1);

  // Finished: a late start() or a repeated done changes nothing.
  f.drain.start("again");
  f.dones[2]();
  f.io.restart();
  f.io.poll();
  BOOST_TEST(f.stops == 1);
  BOOST_TEST((f.calls == std::vector<int>{1, 1, 1}));
}

BOOST_AUTO_TEST_CASE(participant_done_inside_its_call_completes) {
  DrainFixture f(30s);
  int calls = 0;
  f.drain.add("sync", [&](std::function<void()> done) {
    ++calls;
    done();
  });
  f.drain.start("test");
  f.io.run_for(5s);
  BOOST_TEST(calls == 1);
  BOOST_TEST(f.stops == 1);
}

BOOST_AUTO_TEST_CASE(times_out_when_a_participant_never_finishes) {
  DrainFixture f(200ms);
  f.addHolder("stuck");
  f.addHolder("quick");
  auto begin = std::chrono::steady_clock::now();
  f.drain.start("test");
  f.dones[1]();
  f.io.run_for(5s);  // returns when the hard stop stops the context
  auto elapsed = std::chrono::steady_clock::now() - begin;
  BOOST_TEST(f.stops == 1, "the drain deadline never fired");
  BOOST_TEST((elapsed >= 150ms), "stopped before the drain duration");
  BOOST_TEST((f.calls == std::vector<int>{1, 1}));

  // The stuck participant reporting late does not stop again.
  f.dones[0]();
  f.io.restart();
  f.io.poll();
  BOOST_TEST(f.stops == 1);
}

BOOST_AUTO_TEST_CASE(second_start_stops_at_once) {
  DrainFixture f(30s);
  f.addHolder("stuck");
  f.drain.start("SIGTERM");
  BOOST_TEST(f.stops == 0);
  f.drain.start("SIGINT");
  BOOST_TEST(f.stops == 1);
  BOOST_TEST(f.calls[0] == 1, "a second start must not call participants again");
  f.drain.start("third");
  BOOST_TEST(f.stops == 1);
}

BOOST_AUTO_TEST_CASE(no_participants_stops_at_once) {
  DrainFixture f(30s);
  f.drain.start("test");
  BOOST_TEST(f.stops == 1);
  BOOST_TEST(f.drain.draining());
  BOOST_TEST(f.drain.duration().count() == 30000);
}

// --- Through the Runtime, with real signals -------------------------------------------------

BOOST_AUTO_TEST_CASE(sigterm_starts_drain_and_run_returns_when_participant_finishes) {
  rt::RuntimeOptions o;
  o.concurrency = 2;
  o.drain_duration = 60s;  // run() returning within the test's limit means the drain completed
  o.handle_signals = true;
  rt::Runtime runtime(o);
  std::atomic<int> calls{0};
  std::atomic<int> participant_slot{-2};
  std::atomic<bool> finished_on_worker{false};
  runtime.drain().add("listener", [&](std::function<void()> done) {
    ++calls;
    participant_slot = rt::threadSlot();
    asio::post(runtime.worker(1), [&, done] {
      finished_on_worker = true;
      done();
    });
  });
  // Raised from a worker, but only once the main context runs (signal handlers are installed).
  asio::post(runtime.main(), [&] { asio::post(runtime.worker(0), [] { std::raise(SIGTERM); }); });
  BOOST_TEST(runWithDeadline(runtime, 10s), "run() did not return after SIGTERM");
  BOOST_TEST(calls.load() == 1);
  BOOST_TEST(participant_slot.load() == 0, "participants are called on the main context");
  BOOST_TEST(finished_on_worker.load());
  BOOST_TEST(runtime.drain().draining());
}

BOOST_AUTO_TEST_CASE(second_signal_during_drain_stops_at_once) {
  rt::RuntimeOptions o;
  o.concurrency = 2;
  o.drain_duration = 60s;
  o.handle_signals = true;
  rt::Runtime runtime(o);
  std::atomic<int> calls{0};
  runtime.drain().add("stuck", [&](std::function<void()>) {
    ++calls;
    // Never done; instead the operator presses Ctrl-C again.
    asio::post(runtime.main(), [] { std::raise(SIGINT); });
  });
  asio::post(runtime.main(), [] { std::raise(SIGTERM); });
  BOOST_TEST(runWithDeadline(runtime, 10s), "a second signal did not stop the drain");
  BOOST_TEST(calls.load() == 1);
  BOOST_TEST(runtime.drain().draining());
}

BOOST_AUTO_TEST_CASE(sigint_alone_starts_drain_too) {
  rt::RuntimeOptions o;
  o.concurrency = 1;
  o.drain_duration = 60s;
  o.handle_signals = true;
  rt::Runtime runtime(o);
  std::atomic<int> calls{0};
  runtime.drain().add("p", [&](std::function<void()> done) {
    ++calls;
    done();
  });
  asio::post(runtime.main(), [] { std::raise(SIGINT); });
  BOOST_TEST(runWithDeadline(runtime, 10s));
  BOOST_TEST(calls.load() == 1);
}

BOOST_AUTO_TEST_CASE(drain_start_from_a_role_stops_runtime) {
  rt::RuntimeOptions o;
  o.concurrency = 2;
  o.drain_duration = 60s;
  o.handle_signals = false;
  rt::Runtime runtime(o);
  std::atomic<int> calls{0};
  std::thread finisher;
  runtime.drain().add("p", [&](std::function<void()> done) {
    ++calls;
    finisher = std::thread(std::move(done));  // `done` may be called on any thread
  });
  asio::post(runtime.main(), [&] { runtime.drain().start("role request"); });
  BOOST_TEST(runWithDeadline(runtime, 10s));
  if (finisher.joinable()) finisher.join();
  BOOST_TEST(calls.load() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
