#include "proxy/upstream/load_balancer.h"

#include <algorithm>

namespace monomesh::proxy {

uint64_t hashKey(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // Final mix so that similar keys spread over the ring.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

void LoadBalancer::rebuild(const HostSet& set, const std::vector<Host*>& usable) {
  built_version_ = set.version;
  table_hosts_ = usable;
  current_weight_.assign(set.hosts.size(), 0);
  ring_.clear();
  maglev_.clear();
  if (usable.empty()) return;
  if (policy_ == ClusterInfo::LbPolicy::RingHash) {
    uint64_t total_weight = 0;
    for (auto* h : usable) total_weight += std::max<uint32_t>(1, h->weight);
    uint64_t per_weight = std::max<uint64_t>(1, (ring_min_size_ + total_weight - 1) / total_weight);
    for (auto* h : usable) {
      std::string base = h->str() + "_";
      for (uint64_t i = 0; i < per_weight * std::max<uint32_t>(1, h->weight); ++i)
        ring_.emplace_back(hashKey(base + std::to_string(i)), h);
    }
    std::sort(ring_.begin(), ring_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  } else if (policy_ == ClusterInfo::LbPolicy::Maglev) {
    constexpr uint64_t kTableSize = 65537;  // prime, as Envoy's default
    std::vector<uint64_t> offset(usable.size()), skip(usable.size()), next(usable.size(), 0);
    for (size_t i = 0; i < usable.size(); ++i) {
      std::string name = usable[i]->str();
      offset[i] = hashKey(name) % kTableSize;
      skip[i] = hashKey(name + "#") % (kTableSize - 1) + 1;
    }
    std::vector<int64_t> entry(kTableSize, -1);
    uint64_t filled = 0;
    // Weighted: in each round a host claims as many slots as its weight.
    while (filled < kTableSize) {
      for (size_t i = 0; i < usable.size() && filled < kTableSize; ++i) {
        for (uint32_t w = 0; w < std::max<uint32_t>(1, usable[i]->weight) && filled < kTableSize; ++w) {
          uint64_t c = (offset[i] + next[i] * skip[i]) % kTableSize;
          while (entry[c] >= 0) {
            ++next[i];
            c = (offset[i] + next[i] * skip[i]) % kTableSize;
          }
          entry[c] = int64_t(i);
          ++next[i];
          ++filled;
        }
      }
    }
    maglev_.resize(kTableSize);
    for (uint64_t c = 0; c < kTableSize; ++c) maglev_[c] = usable[size_t(entry[c])];
  }
}

Host* LoadBalancer::choose(const HostSet& set, std::optional<uint64_t> hash, const std::vector<const Host*>& avoid,
                           Clock::time_point now, std::mt19937_64& random) {
  // Usable hosts of the best priority level that has any; with none, every host, as Envoy's
  // panic mode does (better a chance than a certain 503).
  std::vector<Host*> usable;
  uint32_t best = UINT32_MAX;
  for (const auto& h : set.hosts) {
    if (!h->healthy || h->ejected(now)) continue;
    if (h->priority < best) {
      best = h->priority;
      usable.clear();
    }
    if (h->priority == best) usable.push_back(h.get());
  }
  if (usable.empty()) {
    for (const auto& h : set.hosts) usable.push_back(h.get());
  }
  if (usable.empty()) return nullptr;
  if (!avoid.empty() && usable.size() > 1) {
    std::vector<Host*> fresh;
    for (auto* h : usable)
      if (std::find(avoid.begin(), avoid.end(), h) == avoid.end()) fresh.push_back(h);
    if (!fresh.empty()) usable.swap(fresh);
  }
  bool hashing = policy_ == ClusterInfo::LbPolicy::RingHash || policy_ == ClusterInfo::LbPolicy::Maglev;
  if (hashing) {
    if (built_version_ != set.version || table_hosts_ != usable) rebuild(set, usable);
    uint64_t h = hash ? *hash : random();
    if (policy_ == ClusterInfo::LbPolicy::RingHash) {
      auto it = std::lower_bound(ring_.begin(), ring_.end(), h, [](const auto& e, uint64_t v) { return e.first < v; });
      return it == ring_.end() ? ring_.front().second : it->second;
    }
    return maglev_[h % maglev_.size()];
  }
  switch (policy_) {
    case ClusterInfo::LbPolicy::Random: return usable[random() % usable.size()];
    case ClusterInfo::LbPolicy::LeastRequest: {
      if (usable.size() == 1) return usable[0];
      Host* a = usable[random() % usable.size()];
      Host* b = usable[random() % usable.size()];
      return b->active_requests.load(std::memory_order_relaxed) < a->active_requests.load(std::memory_order_relaxed) ? b : a;
    }
    default: break;
  }
  bool weighted = false;
  for (auto* h : usable) weighted |= h->weight != usable[0]->weight;
  if (!weighted) return usable[rr_next_++ % usable.size()];
  // Smooth weighted round robin: each pick adds every weight, takes the largest, subtracts the total.
  if (built_version_ != set.version) rebuild(set, usable);
  int64_t total = 0;
  Host* pick = nullptr;
  int64_t* pick_weight = nullptr;
  for (auto* h : usable) {
    size_t index = 0;
    while (index < set.hosts.size() && set.hosts[index].get() != h) ++index;
    int64_t& cw = current_weight_[index];
    cw += h->weight;
    total += h->weight;
    if (pick == nullptr || cw > *pick_weight) {
      pick = h;
      pick_weight = &cw;
    }
  }
  *pick_weight -= total;
  return pick;
}

}  // namespace monomesh::proxy
