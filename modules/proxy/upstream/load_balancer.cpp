#include "proxy/upstream/load_balancer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

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

void LoadBalancer::indexLocalities(const HostSet& set) {
  localities_version_ = set.version;
  localities_.clear();
  locality_of_.assign(set.hosts.size(), 0);
  std::map<std::pair<uint32_t, std::string_view>, uint32_t> index;
  for (size_t i = 0; i < set.hosts.size(); ++i) {
    const Host& h = *set.hosts[i];
    std::pair<uint32_t, std::string_view> key(h.priority, h.locality);
    auto [it, fresh] = index.emplace(key, uint32_t(localities_.size()));
    if (fresh) localities_.push_back(Locality{h.priority, h.locality_weight, 0});
    ++localities_[it->second].hosts;
    locality_of_[i] = it->second;
  }
  locality_current_.assign(localities_.size(), 0.0);
  rr_next_.assign(localities_.size() + 1, 0);
}

size_t LoadBalancer::pickLocality() {
  usable_in_.assign(localities_.size(), 0);
  for (uint32_t i : usable_) ++usable_in_[locality_of_[i]];
  double total = 0;
  size_t best = localities_.size();
  for (size_t l = 0; l < localities_.size(); ++l) {
    if (usable_in_[l] == 0 || localities_[l].weight == 0) continue;
    // Envoy's effective locality weight: the weight, scaled down once fewer than 1/1.4 of the
    // locality's hosts are usable.
    double available = std::min(1.0, kOverprovisioning * usable_in_[l] / localities_[l].hosts);
    double effective = localities_[l].weight * available;
    locality_current_[l] += effective;
    total += effective;
    if (best == localities_.size() || locality_current_[l] > locality_current_[best]) best = l;
  }
  if (best == localities_.size()) return 0;  // no weighted locality is usable: all usable hosts
  locality_current_[best] -= total;
  std::erase_if(usable_, [this, best](uint32_t i) { return locality_of_[i] != best; });
  return best + 1;
}

void LoadBalancer::rebuildTables(const HostSet& set) {
  tables_version_ = set.version;
  table_hosts_ = usable_;
  ring_.clear();
  maglev_.clear();
  // Table weights: the hosts' own, or with locality weighting (as Envoy's hashing balancers
  // normalise them) the host's share of its locality times the locality's share of all.
  std::vector<uint64_t> weight(usable_.size());
  for (size_t k = 0; k < usable_.size(); ++k) weight[k] = std::max<uint32_t>(1, set.hosts[usable_[k]]->weight);
  if (locality_weighted_ && !localities_.empty()) {
    std::vector<double> host_sum(localities_.size(), 0.0);
    for (size_t k = 0; k < usable_.size(); ++k) host_sum[locality_of_[usable_[k]]] += double(weight[k]);
    double locality_sum = 0;
    for (size_t l = 0; l < localities_.size(); ++l)
      if (host_sum[l] > 0) locality_sum += localities_[l].weight;
    if (locality_sum > 0) {
      for (size_t k = 0; k < usable_.size(); ++k) {
        const Locality& l = localities_[locality_of_[usable_[k]]];
        double share = double(weight[k]) / host_sum[locality_of_[usable_[k]]] * l.weight / locality_sum;
        weight[k] = l.weight == 0 ? 0 : std::max<uint64_t>(1, uint64_t(std::llround(share * double(ring_min_size_))));
      }
    }
  }
  uint64_t total_weight = 0;
  for (uint64_t w : weight) total_weight += w;
  if (total_weight == 0) return;
  if (policy_ == ClusterInfo::LbPolicy::RingHash) {
    uint64_t per_weight = std::max<uint64_t>(1, (ring_min_size_ + total_weight - 1) / total_weight);
    for (size_t k = 0; k < usable_.size(); ++k) {
      Host* h = set.hosts[usable_[k]].get();
      std::string base = h->str() + "_";
      for (uint64_t i = 0; i < per_weight * weight[k]; ++i) ring_.emplace_back(hashKey(base + std::to_string(i)), h);
    }
    std::sort(ring_.begin(), ring_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return;
  }
  constexpr uint64_t kTableSize = 65537;  // prime, as Envoy's default
  size_t n = usable_.size();
  std::vector<uint64_t> offset(n), skip(n), next(n, 0);
  for (size_t i = 0; i < n; ++i) {
    std::string name = set.hosts[usable_[i]]->str();
    offset[i] = hashKey(name) % kTableSize;
    skip[i] = hashKey(name + "#") % (kTableSize - 1) + 1;
  }
  std::vector<int64_t> entry(kTableSize, -1);
  uint64_t filled = 0;
  // Weighted: in each round a host claims as many slots as its weight.
  while (filled < kTableSize) {
    for (size_t i = 0; i < n && filled < kTableSize; ++i) {
      for (uint64_t w = 0; w < weight[i] && filled < kTableSize; ++w) {
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
  for (uint64_t c = 0; c < kTableSize; ++c) maglev_[c] = set.hosts[usable_[size_t(entry[c])]].get();
}

Host* LoadBalancer::choose(const HostSet& set, std::optional<uint64_t> hash, const std::vector<const Host*>& avoid,
                           Clock::time_point now, std::mt19937_64& random) {
  if (locality_weighted_ && localities_version_ != set.version) indexLocalities(set);
  // Usable hosts of the best priority level that has any; with none, every host, as Envoy's
  // panic mode does (better a chance than a certain 503).
  usable_.clear();
  uint32_t best = UINT32_MAX;
  for (size_t i = 0; i < set.hosts.size(); ++i) {
    const Host& h = *set.hosts[i];
    if (!h.healthy || h.ejected(now)) continue;
    if (h.priority < best) {
      best = h.priority;
      usable_.clear();
    }
    if (h.priority == best) usable_.push_back(uint32_t(i));
  }
  if (usable_.empty())
    for (size_t i = 0; i < set.hosts.size(); ++i) usable_.push_back(uint32_t(i));
  if (usable_.empty()) return nullptr;
  if (!avoid.empty() && usable_.size() > 1) {
    scratch_.clear();
    for (uint32_t i : usable_)
      if (std::find(avoid.begin(), avoid.end(), set.hosts[i].get()) == avoid.end()) scratch_.push_back(i);
    if (!scratch_.empty()) usable_.swap(scratch_);
  }
  bool hashing = policy_ == ClusterInfo::LbPolicy::RingHash || policy_ == ClusterInfo::LbPolicy::Maglev;
  if (hashing) {
    // One table over every locality (weights folded in), so a key maps to one host whatever
    // locality another request was sent to.
    if (tables_version_ != set.version || table_hosts_ != usable_) rebuildTables(set);
    uint64_t h = hash ? *hash : random();
    if (policy_ == ClusterInfo::LbPolicy::RingHash) {
      if (ring_.empty()) return nullptr;
      auto it = std::lower_bound(ring_.begin(), ring_.end(), h, [](const auto& e, uint64_t v) { return e.first < v; });
      return it == ring_.end() ? ring_.front().second : it->second;
    }
    return maglev_.empty() ? nullptr : maglev_[h % maglev_.size()];
  }
  size_t rr_slot = locality_weighted_ && !localities_.empty() ? pickLocality() : 0;
  return chooseByPolicy(set, rr_slot, random);
}

Host* LoadBalancer::chooseByPolicy(const HostSet& set, size_t rr_slot, std::mt19937_64& random) {
  auto host = [&set](uint32_t i) { return set.hosts[i].get(); };
  switch (policy_) {
    case ClusterInfo::LbPolicy::Random: return host(usable_[random() % usable_.size()]);
    case ClusterInfo::LbPolicy::LeastRequest: {
      if (usable_.size() == 1) return host(usable_[0]);
      Host* a = host(usable_[random() % usable_.size()]);
      Host* b = host(usable_[random() % usable_.size()]);
      return b->active_requests.load(std::memory_order_relaxed) < a->active_requests.load(std::memory_order_relaxed) ? b : a;
    }
    default: break;
  }
  bool weighted = false;
  uint32_t first_weight = host(usable_[0])->weight;
  for (uint32_t i : usable_) weighted |= host(i)->weight != first_weight;
  if (!weighted) {
    if (rr_slot >= rr_next_.size()) rr_next_.resize(rr_slot + 1, 0);
    return host(usable_[rr_next_[rr_slot]++ % usable_.size()]);
  }
  // Smooth weighted round robin: each pick adds every weight, takes the largest, subtracts the total.
  if (weights_version_ != set.version) {
    weights_version_ = set.version;
    current_weight_.assign(set.hosts.size(), 0);
  }
  int64_t total = 0;
  uint32_t pick = usable_[0];
  for (uint32_t i : usable_) {
    int64_t weight = host(i)->weight;
    current_weight_[i] += weight;
    total += weight;
    if (current_weight_[i] > current_weight_[pick]) pick = i;
  }
  current_weight_[pick] -= total;
  return host(pick);
}

}  // namespace monomesh::proxy
