// What a role still waits for before it is ready (/healthz/ready). A role names its conditions at
// start-up ("config synced", "listeners bound") and marks each met; ready means none is pending.
#pragma once
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace monomesh::observe {

class Readiness {
 public:
  void require(const std::string& condition);
  void markMet(const std::string& condition);
  void markUnmet(const std::string& condition);
  bool ready() const;
  std::vector<std::string> pending() const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string> pending_;
};

}  // namespace monomesh::observe
