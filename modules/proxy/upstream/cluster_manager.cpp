#include "proxy/upstream/cluster_manager.h"

#include <boost/asio/ip/address.hpp>
#include <set>

#include "observe/log.h"
#include "proxy/config/resource_diff.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

ClusterManager::ClusterManager(runtime::Runtime& runtime) : runtime_(runtime), slot_(runtime) {}

ClusterManager::~ClusterManager() {
  stopped_ = true;
  for (auto& [name, m] : clusters_) {
    if (m.dns_timer) m.dns_timer->cancel();
    if (m.resolver) m.resolver->cancel();
  }
}

void ClusterManager::setClusters(std::vector<std::shared_ptr<ClusterInfo>> clusters, std::function<void()> ready) {
  std::map<std::string, Managed> next;
  for (auto& info : clusters) {
    auto old = clusters_.find(info->name);
    if (old != clusters_.end() &&
        (old->second.info == info || canonicalBytes(old->second.info->config) == canonicalBytes(info->config))) {
      Managed kept = std::move(old->second);  // unchanged: keep hosts, DNS, breakers, stats
      clusters_.erase(old);
      if (kept.info->tls && kept.info->tls_generation != info->tls_generation) {
        // The same cluster with renewed certificates: new TLS context, everything else kept.
        info->breakers = kept.info->breakers;
        info->stats = kept.info->stats;
        kept.info = info;
      }
      next.emplace(info->name, std::move(kept));
      continue;
    }
    Managed m;
    m.info = info;
    m.hosts = std::make_shared<HostSet>();
    next.emplace(info->name, std::move(m));
  }
  for (auto& [name, m] : clusters_) {
    if (m.dns_timer) m.dns_timer->cancel();
    if (m.resolver) m.resolver->cancel();
  }
  clusters_ = std::move(next);
  if (ready) ready_ = std::move(ready);  // else a pending one (start-up) still waits, now for these too
  for (auto& [name, m] : clusters_) {
    if (m.hosts->version != 0) continue;  // kept from before
    switch (m.info->type) {
      case ClusterInfo::Type::Static:
        updateHosts(m, m.info->targets, {});
        m.resolved_once = true;
        break;
      case ClusterInfo::Type::StrictDns:
      case ClusterInfo::Type::LogicalDns:
        m.resolver = std::make_unique<tcp::resolver>(runtime_.main());
        m.dns_timer = std::make_unique<asio::steady_timer>(runtime_.main());
        resolve(name);
        break;
      case ClusterInfo::Type::Eds:
        updateHosts(m, m.info->targets, {});  // until the control plane sends endpoints
        m.resolved_once = true;
        break;
      case ClusterInfo::Type::OriginalDst:
        m.resolved_once = true;  // hosts come from each connection's original destination
        break;
    }
  }
  publish();
  checkReady();
}

void ClusterManager::setHosts(const std::string& cluster, std::vector<ClusterInfo::Target> targets) {
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return;
  if (updateHosts(it->second, targets, {})) publish();
}

void ClusterManager::resolve(const std::string& name) {
  auto it = clusters_.find(name);
  if (it == clusters_.end() || stopped_) return;
  Managed& m = it->second;
  // Resolve every target; combine the answers into one host set when the last one returns.
  auto targets = std::make_shared<std::vector<ClusterInfo::Target>>(m.info->targets);
  auto answers = std::make_shared<std::vector<std::vector<tcp::endpoint>>>(targets->size());
  auto remaining = std::make_shared<size_t>(targets->size());
  auto info = m.info;
  for (size_t i = 0; i < targets->size(); ++i) {
    const auto& t = (*targets)[i];
    m.resolver->async_resolve(
        t.address, std::to_string(t.port),
        [this, name, info, i, targets, answers, remaining](boost::system::error_code ec, tcp::resolver::results_type results) {
          if (stopped_ || ec == asio::error::operation_aborted) return;
          auto it = clusters_.find(name);
          if (it == clusters_.end() || it->second.info != info) return;  // cluster replaced meanwhile
          if (ec) {
            observe::logScope("upstream").warn("cluster {}: DNS resolution of {} failed: {}", name, (*targets)[i].address,
                                               ec.message());
          } else {
            for (const auto& r : results) {
              (*answers)[i].push_back(r.endpoint());
              if (info->type == ClusterInfo::Type::LogicalDns) break;  // LOGICAL_DNS uses the first answer
            }
          }
          if (--*remaining != 0) return;
          Managed& m = it->second;
          std::vector<ClusterInfo::Target> expanded;
          std::vector<tcp::endpoint> endpoints;
          for (size_t k = 0; k < targets->size(); ++k) {
            for (const auto& e : (*answers)[k]) {
              expanded.push_back((*targets)[k]);
              endpoints.push_back(e);
            }
          }
          if (updateHosts(m, expanded, endpoints)) publish();
          m.resolved_once = true;
          checkReady();
          m.dns_timer->expires_after(info->dns_refresh);
          m.dns_timer->async_wait([this, name](boost::system::error_code wec) {
            if (!wec) resolve(name);
          });
        });
  }
}

bool ClusterManager::updateHosts(Managed& m, const std::vector<ClusterInfo::Target>& targets,
                                 const std::vector<tcp::endpoint>& resolved) {
  // Hosts whose address and settings are unchanged keep their object (outlier state, pools).
  std::map<std::string, HostPtr> previous;
  for (const auto& h : m.hosts->hosts) previous[h->str()] = h;
  auto next = std::make_shared<HostSet>();
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    tcp::endpoint endpoint;
    if (i < resolved.size()) {
      endpoint = resolved[i];
    } else {
      boost::system::error_code ec;
      auto address = asio::ip::make_address(t.address, ec);
      if (ec) continue;
      endpoint = tcp::endpoint(address, t.port);
    }
    std::string key = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    auto old = previous.find(key);
    if (old != previous.end() && old->second->weight == t.weight && old->second->priority == t.priority &&
        old->second->healthy == t.healthy && old->second->locality == t.locality &&
        old->second->locality_weight == t.locality_weight) {
      next->hosts.push_back(old->second);
      continue;
    }
    auto host = std::make_shared<Host>();
    host->address = endpoint;
    host->hostname = t.address;
    host->weight = std::max<uint32_t>(1, t.weight);
    host->priority = t.priority;
    host->locality = t.locality;
    host->locality_weight = t.locality_weight;
    host->healthy = t.healthy;
    next->hosts.push_back(std::move(host));
  }
  bool same = next->hosts == m.hosts->hosts;
  if (same && m.hosts->version != 0) return false;
  next->version = next_version_++;
  size_t healthy = 0;
  for (const auto& h : next->hosts) healthy += h->healthy;
  m.info->stats->membership_total->set(int64_t(next->hosts.size()));
  m.info->stats->membership_healthy->set(int64_t(healthy));
  m.info->stats->membership_change->inc();
  m.hosts = std::move(next);
  return true;
}

void ClusterManager::publish() {
  auto snapshot = std::make_shared<UpstreamSnapshot>();
  for (const auto& [name, m] : clusters_) snapshot->clusters.emplace(name, ClusterEntry{m.info, m.hosts});
  slot_.publish(std::move(snapshot));
}

void ClusterManager::checkReady() {
  if (!ready_) return;
  for (const auto& [name, m] : clusters_)
    if (!m.resolved_once) return;
  auto ready = std::move(ready_);
  ready_ = nullptr;
  ready();
}

}  // namespace monomesh::proxy
