// What one worker thread of the proxy owns: its upstream connection pools and load-balancer
// state, its random source, and whether it is draining. Lives on its worker; never locked.
#pragma once
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "proxy/config/runtime_values.h"
#include "proxy/upstream/cluster_manager.h"
#include "net/h2/h2_session.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/h2_pool.h"
#include "proxy/upstream/load_balancer.h"

namespace monomesh::proxy {

struct ProxyWorker {
  ProxyWorker(size_t worker_index, const runtime::SnapshotSlot<UpstreamSnapshot>& upstream_slot)
      : index(worker_index), upstream(upstream_slot), random(std::random_device{}() ^ (uint64_t(worker_index) << 32)) {}

  size_t index;
  const runtime::SnapshotSlot<UpstreamSnapshot>& upstream;
  ConnectionPool pool;
  H2Pool h2_pool;  // HTTP/2 upstreams
  // Downstream HTTP/2 connections (a drain sends each a GOAWAY) and their counters.
  std::unordered_set<net::h2::Session*> h2_sessions;
  net::h2::H2Counters h2_downstream;
  // Per cluster name: the balancer and the settings it was built for (rebuilt when they change).
  std::unordered_map<std::string, std::pair<const ClusterInfo*, LoadBalancer>> balancers;
  std::mt19937_64 random;
  const runtime::SnapshotSlot<RuntimeValues>* runtime_values = nullptr;
  bool draining = false;
  size_t connections = 0;
  // Downstream connections waiting for their next request: a drain closes these at once, while
  // connections in the middle of a request finish it and then close.
  std::unordered_set<boost::asio::ip::tcp::socket*> idle;

  // Draining: no more keep-alive. `close_idle` also ends connections waiting for a request; the
  // drain does that after a grace second, so a request already on its way is still served.
  void startDraining(bool close_idle) {
    if (!draining) {
      auto sessions = h2_sessions;  // a shutdown may close (and unregister) a session at once
      for (auto* session : sessions) session->shutdown();  // GOAWAY: open streams finish
      h2_pool.drain();
    }
    draining = true;
    if (!close_idle) return;
    for (auto* socket : idle) {
      boost::system::error_code ignored;
      socket->cancel(ignored);
    }
  }

  // The clusters as this worker sees them now. Hold the pointer for as long as a request uses
  // anything in it: a DNS or EDS update may publish a new snapshot meanwhile.
  std::shared_ptr<const UpstreamSnapshot> clusters() const { return upstream.onWorker(index); }
  std::shared_ptr<const RuntimeValues> runtimeValues() const {
    return runtime_values ? runtime_values->onWorker(index) : nullptr;
  }

  LoadBalancer& balancer(const ClusterInfo& cluster) {
    auto it = balancers.find(cluster.name);
    if (it == balancers.end() || it->second.first != &cluster)
      it = balancers.insert_or_assign(cluster.name, std::pair{&cluster, LoadBalancer(cluster.lb, cluster.ring_min_size)}).first;
    return it->second.second;
  }
};

}  // namespace monomesh::proxy
