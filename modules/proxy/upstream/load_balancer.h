// Host selection for one cluster on one worker: ROUND_ROBIN (smooth weighted), LEAST_REQUEST
// (power of two choices), RANDOM, RING_HASH and MAGLEV (consistent hashing on the request's
// hash key). Hosts that are unhealthy or ejected are skipped; the lowest priority level with a
// usable host is used (failover). Per-worker state: no locks.
#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "proxy/upstream/cluster.h"

namespace monomesh::proxy {

class LoadBalancer {
 public:
  LoadBalancer(ClusterInfo::LbPolicy policy, uint64_t ring_min_size) : policy_(policy), ring_min_size_(ring_min_size) {}

  // nullptr when no host is usable. `avoid` lists hosts to skip when others exist (retries with
  // the previous_hosts predicate); `hash` is the request's hash key for RING_HASH/MAGLEV.
  Host* choose(const HostSet& hosts, std::optional<uint64_t> hash, const std::vector<const Host*>& avoid,
               Clock::time_point now, std::mt19937_64& random);

 private:
  void rebuild(const HostSet& hosts, const std::vector<Host*>& usable);

  ClusterInfo::LbPolicy policy_;
  uint64_t ring_min_size_;
  // Smooth weighted round robin state, per host index of the current set.
  uint64_t built_version_ = ~0ULL;
  std::vector<int64_t> current_weight_;
  size_t rr_next_ = 0;
  // Consistent hashing tables over the usable hosts of the set they were built for.
  std::vector<std::pair<uint64_t, Host*>> ring_;
  std::vector<Host*> maglev_;
  std::vector<Host*> table_hosts_;
};

// 64-bit FNV-1a: hash keys for consistent hashing.
uint64_t hashKey(std::string_view text);

}  // namespace monomesh::proxy
