// An immutable snapshot of type T built on the main context and published to every worker. Each
// worker reads its own copy of the pointer without locks: the copy is written only by that
// worker (publish() posts the assignment to it), so readers and writers never share a cache line.
// In-flight work that holds the old shared_ptr keeps using it until it finishes.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "runtime/runtime.h"
#include "runtime/thread_slot.h"

namespace monomesh::runtime {

template <class T>
class SnapshotSlot {
 public:
  explicit SnapshotSlot(Runtime& runtime) : runtime_(runtime), cells_(runtime.workerCount()) {}

  // Main context: make `snapshot` current on every worker; `done` runs on main afterwards.
  // Each worker gets its own control block (an aliasing pointer that holds the shared one), so
  // the copies a worker takes to keep the snapshot alive across a request only touch a
  // reference count no other thread writes.
  void publish(std::shared_ptr<const T> snapshot, std::function<void()> done = {}) {
    latest_ = snapshot;
    std::vector<std::shared_ptr<const T>> per_worker;
    per_worker.reserve(cells_.size());
    for (size_t i = 0; i < cells_.size(); ++i)
      per_worker.emplace_back(snapshot.get(), [keep = snapshot](const T*) {});
    auto shared = std::make_shared<std::vector<std::shared_ptr<const T>>>(std::move(per_worker));
    runtime_.postToAllWorkers([this, shared](size_t i) { cells_[i].value = std::move((*shared)[i]); },
                              std::move(done));
  }

  // Worker thread: the snapshot this worker currently serves (null before the first publish).
  const std::shared_ptr<const T>& local() const { return cells_[size_t(threadSlot() - 1)].value; }
  const std::shared_ptr<const T>& onWorker(size_t index) const { return cells_[index].value; }

  // Main context: the last snapshot handed to publish().
  const std::shared_ptr<const T>& latest() const { return latest_; }

 private:
  struct alignas(64) Cell {
    std::shared_ptr<const T> value;
  };
  Runtime& runtime_;
  std::vector<Cell> cells_;
  std::shared_ptr<const T> latest_;
};

}  // namespace monomesh::runtime
