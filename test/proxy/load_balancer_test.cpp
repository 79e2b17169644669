// LoadBalancer: round robin (plain and smooth weighted), random, least request (power of two
// choices), ring hash and maglev, with priority failover, outlier ejection, panic mode and the
// retry `avoid` list. Every random source is seeded, so each run makes the same picks.
#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <random>
#include <set>

#include "proxy/upstream/load_balancer.h"

using namespace monomesh::proxy;
using Policy = ClusterInfo::LbPolicy;
using namespace std::chrono_literals;

namespace {

HostPtr makeHost(const std::string& ip, uint16_t port = 80, uint32_t weight = 1, uint32_t priority = 0) {
  auto h = std::make_shared<Host>();
  h->address = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(ip), port);
  h->hostname = ip;
  h->weight = weight;
  h->priority = priority;
  return h;
}

HostSet makeSet(std::vector<HostPtr> hosts, uint64_t version = 1) {
  HostSet set;
  set.hosts = std::move(hosts);
  set.version = version;
  return set;
}

HostSet hostsNamed(size_t n, uint64_t version = 1) {
  std::vector<HostPtr> hosts;
  for (size_t i = 0; i < n; ++i) hosts.push_back(makeHost("10.0.0." + std::to_string(i + 1)));
  return makeSet(std::move(hosts), version);
}

void eject(Host& h, Clock::time_point now) { h.ejected_until_ns = (now + 30s).time_since_epoch().count(); }

struct Picker {
  LoadBalancer lb;
  std::mt19937_64 random{12345};
  Clock::time_point now = Clock::now();
  explicit Picker(Policy policy, uint64_t ring = 1024) : lb(policy, ring) {}

  Host* pick(const HostSet& set, std::optional<uint64_t> hash = std::nullopt, const std::vector<const Host*>& avoid = {}) {
    return lb.choose(set, hash, avoid, now, random);
  }
  // Host -> times chosen over n picks.
  std::map<const Host*, int> count(const HostSet& set, int n, const std::vector<const Host*>& avoid = {}) {
    std::map<const Host*, int> out;
    for (int i = 0; i < n; ++i) ++out[pick(set, std::nullopt, avoid)];
    return out;
  }
};

// Hosts of locality `name` (priority `priority`) whose LocalityLbEndpoints weigh `weight`.
std::vector<HostPtr> locality(const std::string& name, uint32_t weight, size_t hosts, int first_octet,
                              uint32_t priority = 0) {
  std::vector<HostPtr> out;
  for (size_t i = 0; i < hosts; ++i) {
    auto h = makeHost("10.0." + std::to_string(first_octet) + "." + std::to_string(i + 1), 80, 1, priority);
    h->locality = name;
    h->locality_weight = weight;
    out.push_back(std::move(h));
  }
  return out;
}

HostSet joined(std::vector<std::vector<HostPtr>> groups, uint64_t version = 1) {
  std::vector<HostPtr> all;
  for (auto& g : groups) all.insert(all.end(), g.begin(), g.end());
  return makeSet(std::move(all), version);
}

// Share of `n` picks that land in locality `name`.
double localityShare(LoadBalancer& lb, const HostSet& set, const std::string& name, int n, Clock::time_point now,
                     std::mt19937_64& random) {
  int in = 0;
  for (int i = 0; i < n; ++i) in += lb.choose(set, std::nullopt, {}, now, random)->locality == name;
  return double(in) / n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(load_balancer)

BOOST_AUTO_TEST_CASE(round_robin_equal_weights_visits_each_host_equally) {
  HostSet set = hostsNamed(3);
  Picker p(Policy::RoundRobin);
  // Every window of three consecutive picks holds each host once.
  std::vector<Host*> picks;
  for (int i = 0; i < 300; ++i) picks.push_back(p.pick(set));
  for (size_t i = 0; i + 3 <= picks.size(); i += 3) {
    std::set<Host*> window(picks.begin() + long(i), picks.begin() + long(i) + 3);
    BOOST_TEST(window.size() == 3u);
  }
  std::map<Host*, int> counts;
  for (Host* h : picks) ++counts[h];
  BOOST_TEST(counts.size() == 3u);
  for (const auto& [h, n] : counts) BOOST_TEST(n == 100);
}

BOOST_AUTO_TEST_CASE(smooth_weighted_round_robin_exact_proportions) {
  HostSet set = makeSet({makeHost("10.0.0.1", 80, 5), makeHost("10.0.0.2", 80, 1), makeHost("10.0.0.3", 80, 1)});
  Picker p(Policy::RoundRobin);
  for (int cycle = 0; cycle < 10; ++cycle) {
    BOOST_TEST_CONTEXT("cycle " << cycle) {
      std::map<const Host*, int> counts = p.count(set, 7);
      BOOST_TEST(counts[set.hosts[0].get()] == 5);
      BOOST_TEST(counts[set.hosts[1].get()] == 1);
      BOOST_TEST(counts[set.hosts[2].get()] == 1);
    }
  }
  // Smooth: the heavy host never takes more than three picks in a row within a cycle
  // (nginx's sequence for 5,1,1 is a a b a c a a).
  Picker q(Policy::RoundRobin);
  std::vector<Host*> seq;
  for (int i = 0; i < 7; ++i) seq.push_back(q.pick(set));
  int run = 0, longest = 0;
  for (Host* h : seq) {
    run = h == set.hosts[0].get() ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  BOOST_TEST(longest <= 2);
}

BOOST_AUTO_TEST_CASE(weighted_round_robin_two_to_one) {
  HostSet set = makeSet({makeHost("10.0.0.1", 80, 2), makeHost("10.0.0.2", 80, 1)});
  Picker p(Policy::RoundRobin);
  auto counts = p.count(set, 300);
  BOOST_TEST(counts[set.hosts[0].get()] == 200);
  BOOST_TEST(counts[set.hosts[1].get()] == 100);
}

BOOST_AUTO_TEST_CASE(random_covers_all_hosts) {
  HostSet set = hostsNamed(4);
  Picker p(Policy::Random);
  auto counts = p.count(set, 4000);
  BOOST_TEST(counts.size() == 4u);
  for (const auto& h : set.hosts) BOOST_TEST(counts[h.get()] > 800, h->str() << " chosen " << counts[h.get()]);
}

BOOST_AUTO_TEST_CASE(least_request_prefers_the_less_busy_host) {
  HostSet set = hostsNamed(2);
  set.hosts[0]->active_requests = 10;
  set.hosts[1]->active_requests = 0;
  Picker p(Policy::LeastRequest);
  auto counts = p.count(set, 4000);
  // Two random choices, the less busy wins: 3/4 of the picks go to the idle host.
  int idle = counts[set.hosts[1].get()], busy = counts[set.hosts[0].get()];
  BOOST_TEST(idle > 2700, "idle host chosen " << idle);
  BOOST_TEST(busy > 0);
  BOOST_TEST(idle + busy == 4000);
  // With three hosts, the idle one is chosen the most and the busiest the least.
  HostSet three = hostsNamed(3);
  three.hosts[0]->active_requests = 50;
  three.hosts[1]->active_requests = 5;
  three.hosts[2]->active_requests = 0;
  auto c3 = p.count(three, 3000);
  BOOST_TEST(c3[three.hosts[2].get()] > c3[three.hosts[1].get()]);
  BOOST_TEST(c3[three.hosts[1].get()] > c3[three.hosts[0].get()]);
}

BOOST_AUTO_TEST_CASE(least_request_with_a_single_host) {
  HostSet set = hostsNamed(1);
  set.hosts[0]->active_requests = 100;
  Picker p(Policy::LeastRequest);
  for (int i = 0; i < 10; ++i) BOOST_TEST(p.pick(set) == set.hosts[0].get());
}

BOOST_AUTO_TEST_CASE(ring_hash_same_key_same_host_on_every_worker) {
  HostSet set = hostsNamed(4);
  Picker a(Policy::RingHash), b(Policy::RingHash);
  for (int i = 0; i < 200; ++i) {
    uint64_t key = hashKey("user-" + std::to_string(i));
    Host* first = a.pick(set, key);
    BOOST_TEST_REQUIRE(first != nullptr);
    BOOST_TEST(a.pick(set, key) == first);
    BOOST_TEST(b.pick(set, key) == first);  // another worker's balancer agrees
  }
  BOOST_TEST(hashKey("abc") == hashKey("abc"));
  BOOST_TEST(hashKey("abc") != hashKey("abd"));
}

BOOST_AUTO_TEST_CASE(ring_hash_spreads_keys_over_hosts) {
  HostSet set = hostsNamed(4);
  Picker p(Policy::RingHash);
  std::map<const Host*, int> counts;
  for (int i = 0; i < 4000; ++i) ++counts[p.pick(set, hashKey("key-" + std::to_string(i)))];
  BOOST_TEST(counts.size() == 4u);
  for (const auto& h : set.hosts) BOOST_TEST(counts[h.get()] > 500, h->str() << " got " << counts[h.get()]);
}

BOOST_AUTO_TEST_CASE(ring_hash_removing_a_host_moves_mostly_its_keys) {
  HostSet before = hostsNamed(4, 1);
  HostSet after = makeSet({before.hosts[0], before.hosts[1], before.hosts[2]}, 2);
  Picker p(Policy::RingHash);
  int others = 0, stayed = 0;
  for (int i = 0; i < 4000; ++i) {
    uint64_t key = hashKey("key-" + std::to_string(i));
    Host* was = p.pick(before, key);
    Host* now = p.pick(after, key);
    BOOST_TEST_REQUIRE(now != nullptr);
    BOOST_TEST(now != before.hosts[3].get());
    if (was == before.hosts[3].get()) continue;
    ++others;
    if (now == was) ++stayed;
  }
  // The ring is re-scaled to keep its minimum size, so a few other keys move too.
  BOOST_TEST(stayed * 100 >= others * 75, stayed << " of " << others << " keys stayed");
}

BOOST_AUTO_TEST_CASE(ring_hash_honours_weights) {
  HostSet set = makeSet({makeHost("10.0.0.1", 80, 3), makeHost("10.0.0.2", 80, 1)});
  Picker p(Policy::RingHash);
  int heavy = 0;
  for (int i = 0; i < 4000; ++i) heavy += p.pick(set, hashKey("k" + std::to_string(i))) == set.hosts[0].get();
  BOOST_TEST(heavy > 2600, heavy);
  BOOST_TEST(heavy < 3400, heavy);
}

BOOST_AUTO_TEST_CASE(maglev_same_key_same_host) {
  HostSet set = hostsNamed(5);
  Picker a(Policy::Maglev), b(Policy::Maglev);
  for (int i = 0; i < 200; ++i) {
    uint64_t key = hashKey("session-" + std::to_string(i));
    Host* first = a.pick(set, key);
    BOOST_TEST_REQUIRE(first != nullptr);
    BOOST_TEST(a.pick(set, key) == first);
    BOOST_TEST(b.pick(set, key) == first);
  }
}

BOOST_AUTO_TEST_CASE(maglev_table_is_roughly_balanced) {
  HostSet set = hostsNamed(4);
  Picker p(Policy::Maglev);
  // Every table slot once: slot c is chosen by hash c.
  std::map<const Host*, int> counts;
  for (uint64_t c = 0; c < 65537; ++c) ++counts[p.pick(set, c)];
  BOOST_TEST(counts.size() == 4u);
  for (const auto& h : set.hosts) {
    int n = counts[h.get()];
    BOOST_TEST((n >= 16384 - 2 && n <= 16385 + 2), h->str() << " owns " << n << " slots");
  }
}

BOOST_AUTO_TEST_CASE(maglev_removing_a_host_keeps_most_keys) {
  HostSet before = hostsNamed(5, 1);
  HostSet after = makeSet({before.hosts[0], before.hosts[1], before.hosts[2], before.hosts[3]}, 2);
  Picker p(Policy::Maglev);
  int others = 0, stayed = 0;
  for (int i = 0; i < 5000; ++i) {
    uint64_t key = hashKey("m-" + std::to_string(i));
    Host* was = p.pick(before, key);
    Host* now = p.pick(after, key);
    if (was == before.hosts[4].get()) continue;
    ++others;
    stayed += now == was;
  }
  BOOST_TEST(stayed * 100 >= others * 80, stayed << " of " << others);
}

// Envoy's Maglev honours load_balancing_weight (a 3:1 weight gives 3/4 of the table).
BOOST_AUTO_TEST_CASE(maglev_honours_weights) {
  HostSet set = makeSet({makeHost("10.0.0.1", 80, 3), makeHost("10.0.0.2", 80, 1)});
  Picker p(Policy::Maglev);
  int heavy = 0;
  for (uint64_t c = 0; c < 65537; ++c) heavy += p.pick(set, c) == set.hosts[0].get();
  BOOST_TEST(heavy > 65537 * 70 / 100, heavy << " of 65537 slots for the weight-3 host");
}

BOOST_AUTO_TEST_CASE(hashing_without_a_key_still_picks) {
  HostSet set = hostsNamed(3);
  for (Policy policy : {Policy::RingHash, Policy::Maglev}) {
    Picker p(policy);
    auto counts = p.count(set, 300);
    BOOST_TEST(counts.size() == 3u);  // a random key per request
  }
}

BOOST_AUTO_TEST_CASE(priority_failover) {
  HostSet set = makeSet({makeHost("10.0.0.1", 80, 1, 0), makeHost("10.0.0.2", 80, 1, 0), makeHost("10.0.1.1", 80, 1, 1),
                         makeHost("10.0.2.1", 80, 1, 2)});
  for (Policy policy : {Policy::RoundRobin, Policy::Random, Policy::LeastRequest, Policy::RingHash, Policy::Maglev}) {
    BOOST_TEST_CONTEXT("policy " << int(policy)) {
      Picker p(policy);
      // Priority 0 is used while it has a usable host.
      for (int i = 0; i < 20; ++i) BOOST_TEST(p.pick(set)->priority == 0u);
      // Priority 0 down (one unhealthy, one ejected): priority 1 takes the traffic.
      set.hosts[0]->healthy = false;
      eject(*set.hosts[1], p.now);
      for (int i = 0; i < 20; ++i) BOOST_TEST(p.pick(set) == set.hosts[2].get());
      set.hosts[0]->healthy = true;
      set.hosts[1]->ejected_until_ns = 0;
    }
  }
}

BOOST_AUTO_TEST_CASE(ejected_hosts_are_skipped) {
  HostSet set = hostsNamed(3);
  for (Policy policy : {Policy::RoundRobin, Policy::Random, Policy::LeastRequest, Policy::RingHash, Policy::Maglev}) {
    BOOST_TEST_CONTEXT("policy " << int(policy)) {
      Picker p(policy);
      eject(*set.hosts[1], p.now);
      auto counts = p.count(set, 300);
      BOOST_TEST(counts.count(set.hosts[1].get()) == 0u);
      BOOST_TEST(counts[set.hosts[0].get()] > 0);
      BOOST_TEST(counts[set.hosts[2].get()] > 0);
      // An ejection that has expired no longer counts.
      p.now += 31s;
      auto later = p.count(set, 300);
      BOOST_TEST(later[set.hosts[1].get()] > 0);
      set.hosts[1]->ejected_until_ns = 0;
    }
  }
}

BOOST_AUTO_TEST_CASE(unhealthy_hosts_are_skipped) {
  HostSet set = hostsNamed(3);
  set.hosts[0]->healthy = false;
  Picker p(Policy::RoundRobin);
  auto counts = p.count(set, 100);
  BOOST_TEST(counts.count(set.hosts[0].get()) == 0u);
  BOOST_TEST(counts[set.hosts[1].get()] == 50);
}

BOOST_AUTO_TEST_CASE(all_hosts_ejected_panic_mode_still_returns_a_host) {
  HostSet set = hostsNamed(3);
  for (Policy policy : {Policy::RoundRobin, Policy::Random, Policy::LeastRequest, Policy::RingHash, Policy::Maglev}) {
    BOOST_TEST_CONTEXT("policy " << int(policy)) {
      Picker p(policy);
      for (auto& h : set.hosts) eject(*h, p.now);
      auto counts = p.count(set, 300);
      BOOST_TEST(counts.count(nullptr) == 0u);
      BOOST_TEST(counts.size() == 3u);  // spread over every host
      for (auto& h : set.hosts) h->ejected_until_ns = 0;
    }
  }
}

// Envoy's panic mode disregards health when too few hosts are healthy: with every host
// unhealthy (EDS health status) requests are still spread over all of them.
BOOST_AUTO_TEST_CASE(all_hosts_unhealthy_panic_mode_still_returns_a_host) {
  HostSet set = hostsNamed(2);
  for (auto& h : set.hosts) h->healthy = false;
  Picker p(Policy::RoundRobin);
  BOOST_TEST(p.pick(set) != nullptr);
}

BOOST_AUTO_TEST_CASE(empty_host_set_gives_nullptr) {
  HostSet set = makeSet({});
  for (Policy policy : {Policy::RoundRobin, Policy::Random, Policy::LeastRequest, Policy::RingHash, Policy::Maglev}) {
    Picker p(policy);
    BOOST_TEST(p.pick(set, 42) == nullptr);
  }
}

BOOST_AUTO_TEST_CASE(avoid_list_respected_when_alternatives_exist) {
  HostSet set = hostsNamed(3);
  std::vector<const Host*> avoid{set.hosts[0].get(), set.hosts[1].get()};
  for (Policy policy : {Policy::RoundRobin, Policy::Random, Policy::LeastRequest, Policy::RingHash, Policy::Maglev}) {
    BOOST_TEST_CONTEXT("policy " << int(policy)) {
      Picker p(policy);
      for (int i = 0; i < 50; ++i) {
        BOOST_TEST(p.pick(set, std::nullopt, avoid) == set.hosts[2].get());
        BOOST_TEST(p.pick(set, hashKey("k" + std::to_string(i)), avoid) == set.hosts[2].get());
      }
      // Avoiding one host spreads over the other two.
      auto counts = p.count(set, 200, {set.hosts[0].get()});
      BOOST_TEST(counts.count(set.hosts[0].get()) == 0u);
      BOOST_TEST(counts.size() == 2u);
    }
  }
}

BOOST_AUTO_TEST_CASE(avoid_list_ignored_without_alternatives) {
  HostSet one = hostsNamed(1);
  HostSet two = hostsNamed(2);
  Picker p(Policy::RoundRobin);
  BOOST_TEST(p.pick(one, std::nullopt, {one.hosts[0].get()}) == one.hosts[0].get());
  std::vector<const Host*> all{two.hosts[0].get(), two.hosts[1].get()};
  BOOST_TEST(p.pick(two, std::nullopt, all) != nullptr);
}

BOOST_AUTO_TEST_CASE(host_str_and_ejection_clock) {
  auto h = makeHost("10.1.2.3", 8080);
  BOOST_TEST(h->str() == "10.1.2.3:8080");
  auto now = Clock::now();
  BOOST_TEST(!h->ejected(now));
  eject(*h, now);
  BOOST_TEST(h->ejected(now));
  BOOST_TEST(!h->ejected(now + 31s));
}

// Envoy's locality weighted balancing: a locality is picked by load_balancing_weight times
// min(1, 1.4 x usable/total), then a host inside it by the policy. The expected shares are the
// table of Envoy's documentation (X weight 1, Y weight 2, Y fully available).
BOOST_AUTO_TEST_CASE(locality_weights_share_traffic_as_envoy_documents) {
  struct Case {
    int x_usable;  // of 100 hosts in X
    double x_share;
  };
  for (Case c : {Case{100, 1.0 / 3}, Case{70, 1.0 / 3}, Case{50, 0.7 / 2.7}, Case{25, 0.35 / 2.35}, Case{0, 0.0}}) {
    for (Policy policy : {Policy::RoundRobin, Policy::Random, Policy::LeastRequest}) {
      BOOST_TEST_CONTEXT("X usable " << c.x_usable << "%, policy " << int(policy)) {
        HostSet set = joined({locality("r/x/", 1, 100, 1), locality("r/y/", 2, 100, 2)});
        for (int i = c.x_usable; i < 100; ++i) set.hosts[size_t(i)]->healthy = false;
        LoadBalancer lb(policy, 1024, true);
        std::mt19937_64 random(7);
        double share = localityShare(lb, set, "r/x/", 30000, Clock::now(), random);
        BOOST_TEST(std::abs(share - c.x_share) < 0.02, "share of X " << share << ", want " << c.x_share);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(locality_weights_ignored_unless_the_cluster_asks_for_them) {
  // Without locality_weighted_lb_config hosts share evenly whatever their localities weigh.
  HostSet set = joined({locality("r/x/", 1, 2, 1), locality("r/y/", 9, 2, 2)});
  LoadBalancer lb(Policy::RoundRobin, 1024, false);
  std::mt19937_64 random(7);
  BOOST_TEST(localityShare(lb, set, "r/x/", 1000, Clock::now(), random) == 0.5);
}

BOOST_AUTO_TEST_CASE(round_robin_inside_a_locality_visits_each_of_its_hosts) {
  // X and Y alternate; each keeps its own round robin position, so X's three hosts all serve.
  HostSet set = joined({locality("r/x/", 1, 3, 1), locality("r/y/", 1, 3, 2)});
  Picker p(Policy::RoundRobin);
  p.lb = LoadBalancer(Policy::RoundRobin, 1024, true);
  auto counts = p.count(set, 600);
  BOOST_TEST(counts.size() == 6u);
  for (const auto& [h, n] : counts) BOOST_TEST(n == 100);
}

BOOST_AUTO_TEST_CASE(weighted_hosts_inside_a_weighted_locality) {
  // X (weight 3) has hosts weighing 1 and 2; Y (weight 1) one host: 25% / 50% / 25%.
  auto x = locality("r/x/", 3, 2, 1);
  x[1]->weight = 2;
  HostSet set = joined({x, locality("r/y/", 1, 1, 2)});
  Picker p(Policy::RoundRobin);
  p.lb = LoadBalancer(Policy::RoundRobin, 1024, true);
  auto counts = p.count(set, 4000);
  BOOST_TEST(counts[set.hosts[0].get()] == 1000);
  BOOST_TEST(counts[set.hosts[1].get()] == 2000);
  BOOST_TEST(counts[set.hosts[2].get()] == 1000);
}

BOOST_AUTO_TEST_CASE(localities_without_weight_take_no_traffic) {
  HostSet set = joined({locality("r/x/", 0, 2, 1), locality("r/y/", 5, 2, 2)});
  LoadBalancer lb(Policy::Random, 1024, true);
  std::mt19937_64 random(7);
  BOOST_TEST(localityShare(lb, set, "r/x/", 2000, Clock::now(), random) == 0.0);
  // Y gone: with no weighted locality left, the usable hosts serve rather than nobody.
  for (size_t i = 2; i < 4; ++i) set.hosts[i]->healthy = false;
  BOOST_TEST(localityShare(lb, set, "r/x/", 200, Clock::now(), random) == 1.0);
}

BOOST_AUTO_TEST_CASE(locality_weights_apply_within_the_chosen_priority) {
  // Priority 0 (X weight 1, Y weight 3) serves while usable; Z in priority 1 only on failover.
  HostSet set = joined({locality("r/x/", 1, 2, 1), locality("r/y/", 3, 2, 2), locality("r/z/", 100, 2, 3, 1)});
  LoadBalancer lb(Policy::RoundRobin, 1024, true);
  std::mt19937_64 random(7);
  auto now = Clock::now();
  BOOST_TEST(localityShare(lb, set, "r/x/", 4000, now, random) == 0.25);
  BOOST_TEST(localityShare(lb, set, "r/z/", 1000, now, random) == 0.0);
  for (size_t i = 0; i < 4; ++i) eject(*set.hosts[i], now);
  BOOST_TEST(localityShare(lb, set, "r/z/", 100, now, random) == 1.0);
}

BOOST_AUTO_TEST_CASE(a_new_host_set_regroups_its_localities) {
  LoadBalancer lb(Policy::RoundRobin, 1024, true);
  std::mt19937_64 random(7);
  HostSet first = joined({locality("r/x/", 1, 1, 1), locality("r/y/", 1, 1, 2)}, 1);
  BOOST_TEST(localityShare(lb, first, "r/x/", 1000, Clock::now(), random) == 0.5);
  HostSet second = joined({locality("r/x/", 4, 1, 1), locality("r/y/", 1, 1, 2)}, 2);
  BOOST_TEST(localityShare(lb, second, "r/x/", 1000, Clock::now(), random) == 0.8);
}

BOOST_AUTO_TEST_CASE(hashing_balancers_fold_locality_weights_into_one_table) {
  // X weighs 3, Y 1, two hosts each: keys spread 3:1, and a key keeps its host.
  for (Policy policy : {Policy::RingHash, Policy::Maglev}) {
    BOOST_TEST_CONTEXT("policy " << int(policy)) {
      HostSet set = joined({locality("r/x/", 3, 2, 1), locality("r/y/", 1, 2, 2)});
      LoadBalancer lb(policy, 1024, true);
      std::mt19937_64 random(7);
      auto now = Clock::now();
      int x = 0;
      const int keys = 20000;
      for (int k = 0; k < keys; ++k) {
        uint64_t key = hashKey("key-" + std::to_string(k));
        Host* h = lb.choose(set, key, {}, now, random);
        x += h->locality == "r/x/";
        BOOST_TEST(lb.choose(set, key, {}, now, random) == h);
      }
      BOOST_TEST(std::abs(double(x) / keys - 0.75) < 0.05, "share of X " << double(x) / keys);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
