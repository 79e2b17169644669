#include "runtime/thread_slot.h"

namespace monomesh::runtime {
namespace {
thread_local int current_slot = -1;
}

int threadSlot() noexcept { return current_slot; }
void assignThreadSlot(int slot) noexcept { current_slot = slot; }

}  // namespace monomesh::runtime
