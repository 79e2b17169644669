#include "observe/metric_cells.h"

#include <bit>
#include <stdexcept>

namespace monomesh::observe {

MetricCells::~MetricCells() {
  for (auto& slot_ptr : slots_) {
    Slot* slot = slot_ptr.load();
    if (slot == nullptr) continue;
    for (auto& chunk : slot->chunks) delete[] chunk.load();
    delete slot;
  }
}

uint32_t MetricCells::allocate(uint32_t count) {
  std::lock_guard lock(allocate_mutex_);
  if (uint64_t(next_) + count > uint64_t(kChunkCells) * kMaxChunks)
    throw std::length_error("metric store is full");
  uint32_t id = next_;
  next_ += count;
  return id;
}

// Creation races only on the shared slot (several foreign threads) and between a writer and a
// reader; compare-and-swap makes the first creator win either way.
MetricCells::Slot* MetricCells::createSlot(int slot) noexcept {
  Slot* fresh = new Slot();
  Slot* expected = nullptr;
  if (!slots_[slot].compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) {
    delete fresh;
    return expected;
  }
  return fresh;
}

std::atomic<uint64_t>* MetricCells::createChunk(Slot& slot, uint32_t chunk) noexcept {
  auto* fresh = new std::atomic<uint64_t>[kChunkCells]();
  std::atomic<uint64_t>* expected = nullptr;
  if (!slot.chunks[chunk].compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) {
    delete[] fresh;
    return expected;
  }
  return fresh;
}

void MetricCells::addDouble(uint32_t id, double delta) noexcept {
  int slot = runtime::threadSlot();
  if (slot >= 0) {
    std::atomic<uint64_t>& cell = local(slot, id);
    double v = std::bit_cast<double>(cell.load(std::memory_order_relaxed)) + delta;
    cell.store(std::bit_cast<uint64_t>(v), std::memory_order_relaxed);
    return;
  }
  std::atomic<uint64_t>& cell = local(kSharedSlot, id);
  uint64_t old = cell.load(std::memory_order_relaxed);
  while (!cell.compare_exchange_weak(old, std::bit_cast<uint64_t>(std::bit_cast<double>(old) + delta),
                                     std::memory_order_relaxed)) {
  }
}

template <class T, class Convert>
T MetricCells::sumAs(uint32_t id, Convert convert) const noexcept {
  T total{};
  for (const auto& slot_ptr : slots_) {
    const Slot* slot = slot_ptr.load(std::memory_order_acquire);
    if (slot == nullptr) continue;
    const std::atomic<uint64_t>* chunk = slot->chunks[id / kChunkCells].load(std::memory_order_acquire);
    if (chunk != nullptr) total += convert(chunk[id % kChunkCells].load(std::memory_order_relaxed));
  }
  return total;
}

uint64_t MetricCells::sum(uint32_t id) const noexcept {
  return sumAs<uint64_t>(id, [](uint64_t bits) { return bits; });
}

double MetricCells::sumDouble(uint32_t id) const noexcept {
  return sumAs<double>(id, [](uint64_t bits) { return std::bit_cast<double>(bits); });
}

}  // namespace monomesh::observe
