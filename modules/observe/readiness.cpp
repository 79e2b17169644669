#include "observe/readiness.h"

namespace monomesh::observe {

void Readiness::require(const std::string& condition) {
  std::lock_guard lock(mutex_);
  pending_.insert(condition);
}

void Readiness::markMet(const std::string& condition) {
  std::lock_guard lock(mutex_);
  pending_.erase(condition);
}

void Readiness::markUnmet(const std::string& condition) { require(condition); }

bool Readiness::ready() const {
  std::lock_guard lock(mutex_);
  return pending_.empty();
}

std::vector<std::string> Readiness::pending() const {
  std::lock_guard lock(mutex_);
  return {pending_.begin(), pending_.end()};
}

}  // namespace monomesh::observe
