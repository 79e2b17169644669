// Storage behind every metric: 64-bit cells, one private copy per runtime thread. A thread adds
// to its own copy with a plain load and store (no lock, no read-modify-write, no shared cache
// line with another writer); a scrape sums the copies. Threads outside the runtime share one
// extra copy that they update atomically.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>

#include "runtime/thread_slot.h"

namespace monomesh::observe {

class MetricCells {
 public:
  static constexpr uint32_t kChunkCells = 1024;
  static constexpr uint32_t kMaxChunks = 1024;  // about a million cells
  static constexpr int kSharedSlot = runtime::kMaxThreadSlots;  // threads outside the runtime

  MetricCells() = default;
  ~MetricCells();
  MetricCells(const MetricCells&) = delete;
  MetricCells& operator=(const MetricCells&) = delete;

  // Reserves `count` consecutive zeroed cells; throws when the store is full.
  uint32_t allocate(uint32_t count);

  void add(uint32_t id, uint64_t delta) noexcept {
    int slot = runtime::threadSlot();
    if (slot >= 0) {
      std::atomic<uint64_t>& cell = local(slot, id);
      cell.store(cell.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
    } else {
      local(kSharedSlot, id).fetch_add(delta, std::memory_order_relaxed);
    }
  }

  // Adds a double held as its bit pattern (histogram sums).
  void addDouble(uint32_t id, double delta) noexcept;

  // The sum over every thread's copy.
  uint64_t sum(uint32_t id) const noexcept;
  double sumDouble(uint32_t id) const noexcept;

 private:
  using Chunk = std::atomic<uint64_t>[kChunkCells];
  struct Slot {
    std::atomic<std::atomic<uint64_t>*> chunks[kMaxChunks] = {};
  };

  std::atomic<uint64_t>& local(int slot, uint32_t id) noexcept {
    Slot* s = slots_[slot].load(std::memory_order_acquire);
    if (s == nullptr) s = createSlot(slot);
    std::atomic<uint64_t>* chunk = s->chunks[id / kChunkCells].load(std::memory_order_acquire);
    if (chunk == nullptr) chunk = createChunk(*s, id / kChunkCells);
    return chunk[id % kChunkCells];
  }
  template <class T, class Convert>
  T sumAs(uint32_t id, Convert convert) const noexcept;
  Slot* createSlot(int slot) noexcept;
  std::atomic<uint64_t>* createChunk(Slot& slot, uint32_t chunk) noexcept;

  std::atomic<Slot*> slots_[runtime::kMaxThreadSlots + 1] = {};
  std::mutex allocate_mutex_;
  uint32_t next_ = 0;
};

}  // namespace monomesh::observe
