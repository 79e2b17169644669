// Host selection for one cluster on one worker: ROUND_ROBIN (smooth weighted), LEAST_REQUEST
// (power of two choices), RANDOM, RING_HASH and MAGLEV (consistent hashing on the request's
// hash key). Hosts that are unhealthy or ejected are skipped; the lowest priority level with a
// usable host is used (failover). With locality weighting (the cluster's
// common_lb_config.locality_weighted_lb_config), a locality of that priority is picked first by
// its load_balancing_weight scaled by its share of usable hosts (Envoy's overprovisioning factor
// 1.4), then a host within it by the policy. Per-worker state: no locks, and scratch vectors
// reused so a pick allocates nothing once warm.
#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "proxy/upstream/cluster.h"

namespace monomesh::proxy {

class LoadBalancer {
 public:
  LoadBalancer(ClusterInfo::LbPolicy policy, uint64_t ring_min_size, bool locality_weighted = false)
      : policy_(policy), ring_min_size_(ring_min_size), locality_weighted_(locality_weighted) {}

  // nullptr when no host is usable. `avoid` lists hosts to skip when others exist (retries with
  // the previous_hosts predicate); `hash` is the request's hash key for RING_HASH/MAGLEV.
  Host* choose(const HostSet& hosts, std::optional<uint64_t> hash, const std::vector<const Host*>& avoid,
               Clock::time_point now, std::mt19937_64& random);

  // Envoy's default overprovisioning factor: a locality counts as fully available until fewer
  // than 1/1.4 (~72%) of its hosts are usable.
  static constexpr double kOverprovisioning = 1.4;

 private:
  // One locality of one priority level in the host set (hosts of a LocalityLbEndpoints).
  struct Locality {
    uint32_t priority = 0;
    uint32_t weight = 0;  // load_balancing_weight; 0: the locality takes no traffic
    uint32_t hosts = 0;   // every host, usable or not
  };
  // Groups the set's hosts by (priority, locality) once per host-set version.
  void indexLocalities(const HostSet& set);
  // Narrows usable_ (hosts of one priority) to the locality picked by effective weight; leaves
  // it unchanged when no locality has weight left. Returns the locality's slot for round robin.
  size_t pickLocality();
  void rebuildTables(const HostSet& set);
  Host* chooseByPolicy(const HostSet& set, size_t rr_slot, std::mt19937_64& random);

  ClusterInfo::LbPolicy policy_;
  uint64_t ring_min_size_;
  bool locality_weighted_;
  // Scratch: indexes into the set of the hosts a pick chooses among.
  std::vector<uint32_t> usable_, scratch_;
  // Smooth weighted round robin state, per host index of the current set.
  uint64_t weights_version_ = ~0ULL;
  std::vector<int64_t> current_weight_;
  // Plain round robin position: one per locality (slot 0 without locality weighting), so that
  // alternating localities do not make each see only some of its hosts.
  std::vector<size_t> rr_next_ = std::vector<size_t>(1, 0);
  // Localities of the current set: each host's locality index and the localities themselves.
  uint64_t localities_version_ = ~0ULL;
  std::vector<uint32_t> locality_of_;
  std::vector<Locality> localities_;
  std::vector<uint32_t> usable_in_;  // per locality, during a pick
  std::vector<double> locality_current_;  // smooth weighted round robin over localities
  // Consistent hashing tables over the usable hosts of the set they were built for.
  uint64_t tables_version_ = ~0ULL;
  std::vector<uint32_t> table_hosts_;
  std::vector<std::pair<uint64_t, Host*>> ring_;
  std::vector<Host*> maglev_;
};

// 64-bit FNV-1a: hash keys for consistent hashing.
uint64_t hashKey(std::string_view text);

}  // namespace monomesh::proxy
