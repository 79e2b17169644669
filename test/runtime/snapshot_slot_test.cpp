// SnapshotSlot: publish on main, every worker sees the new pointer; old snapshots live while held.
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "runtime/snapshot_slot.h"
#include "runtime_helpers.h"

namespace asio = boost::asio;
namespace rt = monomesh::runtime;
using namespace monomesh::test;

namespace {

rt::RuntimeOptions twoWorkers() {
  rt::RuntimeOptions o;
  o.concurrency = 2;
  o.handle_signals = false;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(snapshot_slot)

BOOST_AUTO_TEST_CASE(publish_reaches_every_worker) {
  rt::Runtime runtime(twoWorkers());
  rt::SnapshotSlot<std::string> slot(runtime);
  auto snapshot = std::make_shared<const std::string>("v1");
  const std::string* published = snapshot.get();

  std::vector<const std::string*> before(2, reinterpret_cast<const std::string*>(1));
  std::vector<const std::string*> after(2, nullptr);
  int done_slot = -2;
  bool latest_matches = false;

  asio::post(runtime.main(), [&] {
    // Before the first publish every worker sees null.
    runtime.postToAllWorkers([&](size_t i) { before[i] = slot.local().get(); }, [&] {
      slot.publish(snapshot, [&] {
        done_slot = rt::threadSlot();
        latest_matches = slot.latest().get() == published;
        runtime.postToAllWorkers([&](size_t i) { after[i] = slot.local().get(); },
                                 [&] { runtime.stop(); });
      });
    });
  });
  BOOST_TEST_REQUIRE(runWithDeadline(runtime));
  BOOST_TEST(before[0] == nullptr);
  BOOST_TEST(before[1] == nullptr);
  BOOST_TEST(after[0] == published);
  BOOST_TEST(after[1] == published);
  BOOST_TEST(done_slot == 0, "publish's done must run on main");
  BOOST_TEST(latest_matches);
  BOOST_TEST(slot.onWorker(0).get() == published);
  BOOST_TEST(slot.onWorker(1).get() == published);
}

BOOST_AUTO_TEST_CASE(old_snapshot_lives_while_held_then_is_freed) {
  rt::Runtime runtime(twoWorkers());
  rt::SnapshotSlot<int> slot(runtime);
  std::weak_ptr<const int> first_weak;
  const int* second_raw = nullptr;
  std::shared_ptr<const int> held;  // in-flight work on worker 0 keeps the old snapshot
  bool alive_while_held = false;
  int held_value = 0;
  std::vector<int> seen_second(2, 0);

  asio::post(runtime.main(), [&] {
    auto first = std::make_shared<const int>(1);
    first_weak = first;
    slot.publish(std::move(first), [&] {
      runtime.postToAllWorkers(
          [&](size_t i) {
            if (i == 0) held = slot.local();
          },
          [&] {
            auto second = std::make_shared<const int>(2);
            second_raw = second.get();
            slot.publish(std::move(second), [&] {
              runtime.postToAllWorkers([&](size_t i) { seen_second[i] = *slot.local(); },
                                       [&] {
                                         alive_while_held = !first_weak.expired();
                                         held_value = held ? *held : 0;
                                         held.reset();
                                         runtime.stop();
                                       });
            });
          });
    });
  });
  BOOST_TEST_REQUIRE(runWithDeadline(runtime));
  BOOST_TEST(alive_while_held, "the old snapshot was freed while work still held it");
  BOOST_TEST(held_value == 1);
  BOOST_TEST((seen_second == std::vector<int>{2, 2}));
  BOOST_TEST(slot.latest().get() == second_raw);
  // Every thread has finished: nothing but the released holder referred to the first snapshot.
  BOOST_TEST(first_weak.expired(), "the replaced snapshot is still referenced");
}

BOOST_AUTO_TEST_SUITE_END()
