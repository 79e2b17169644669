// Which runtime thread is running: 0 for the main control thread, 1..N for worker N-1, -1 for any
// other thread. Per-thread data (metric shards, snapshot slots) is indexed by it so that each
// thread writes only memory it owns.
#pragma once

namespace monomesh::runtime {

inline constexpr int kMaxThreadSlots = 64;  // main + up to 63 workers
inline constexpr int kMaxWorkers = kMaxThreadSlots - 1;

int threadSlot() noexcept;
void assignThreadSlot(int slot) noexcept;

}  // namespace monomesh::runtime
