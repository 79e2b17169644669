// What one worker thread of the proxy owns: its upstream connection pools and load-balancer
// state, its random source, and whether it is draining. Lives on its worker; never locked.
#pragma once
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "observe/stats_store.h"
#include "proxy/config/runtime_values.h"
#include "proxy/http/hcm_config.h"
#include "proxy/upstream/cluster_manager.h"
#include "net/h2/h2_session.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/h2_pool.h"
#include "proxy/upstream/load_balancer.h"

namespace monomesh::proxy {

// Envoy's http2.* codec stats for the downstream HTTP/2 connections of every worker.
struct Http2Stats {
  observe::Counter *rx_reset, *tx_reset, *header_overflow, *rx_messaging_error, *outbound_control_flood,
      *inbound_empty_frames_flood, *rapid_reset, *header_bomb, *keepalive_timeout, *goaway_sent;
  explicit Http2Stats(observe::StatsStore& s)
      : rx_reset(&s.counter("http2.rx_reset")),
        tx_reset(&s.counter("http2.tx_reset")),
        header_overflow(&s.counter("http2.header_overflow")),
        rx_messaging_error(&s.counter("http2.rx_messaging_error")),
        outbound_control_flood(&s.counter("http2.outbound_control_flood")),
        inbound_empty_frames_flood(&s.counter("http2.inbound_empty_frames_flood")),
        rapid_reset(&s.counter("http2.rx_reset_flood")),
        header_bomb(&s.counter("http2.header_list_flood")),
        keepalive_timeout(&s.counter("http2.keepalive_timeout")),
        goaway_sent(&s.counter("http2.goaway_sent")) {}
};

struct ProxyWorker {
  ProxyWorker(size_t worker_index, const runtime::SnapshotSlot<UpstreamSnapshot>& upstream_slot)
      : index(worker_index), upstream(upstream_slot), random(std::random_device{}() ^ (uint64_t(worker_index) << 32)) {}

  size_t index;
  const runtime::SnapshotSlot<UpstreamSnapshot>& upstream;
  ConnectionPool pool;
  H2Pool h2_pool;  // HTTP/2 upstreams
  // Downstream HTTP/2 connections with their connection manager (a drain sends each a GOAWAY),
  // and their counters.
  std::unordered_map<net::h2::Session*, const HcmConfig*> h2_sessions;
  net::h2::H2Counters h2_downstream;
  net::h2::H2Counters h2_flushed;  // the part of h2_downstream already added to the stats
  const Http2Stats* h2_stats = nullptr;

  // The HTTP/2 sessions count on plain per-worker fields; the stats get the increments since the
  // last flush (the server flushes every second, on this worker).
  void flushHttp2Stats() {
    if (!h2_stats) return;
    const auto& now = h2_downstream;
    auto add = [](observe::Counter* c, uint64_t current, uint64_t flushed) {
      if (current > flushed) c->inc(current - flushed);
    };
    add(h2_stats->rx_reset, now.rx_reset, h2_flushed.rx_reset);
    add(h2_stats->tx_reset, now.tx_reset, h2_flushed.tx_reset);
    add(h2_stats->header_overflow, now.header_overflow, h2_flushed.header_overflow);
    add(h2_stats->rx_messaging_error, now.protocol_error, h2_flushed.protocol_error);
    add(h2_stats->outbound_control_flood, now.control_flood, h2_flushed.control_flood);
    add(h2_stats->inbound_empty_frames_flood, now.empty_frame_flood, h2_flushed.empty_frame_flood);
    add(h2_stats->rapid_reset, now.rapid_reset, h2_flushed.rapid_reset);
    add(h2_stats->header_bomb, now.header_bomb, h2_flushed.header_bomb);
    add(h2_stats->keepalive_timeout, now.keepalive_timeout, h2_flushed.keepalive_timeout);
    add(h2_stats->goaway_sent, now.goaway_sent, h2_flushed.goaway_sent);
    h2_flushed = now;
  }
  // Per cluster name: the balancer and the settings it was built for (rebuilt when they change).
  std::unordered_map<std::string, std::pair<const ClusterInfo*, LoadBalancer>> balancers;
  std::mt19937_64 random;
  const runtime::SnapshotSlot<RuntimeValues>* runtime_values = nullptr;
  bool draining = false;
  size_t connections = 0;
  // Downstream HTTP/1 connections, with their connection manager and whether they wait for their
  // next request: a drain closes those at once, while connections in the middle of a request
  // finish it and then close. (Registered once per connection; the flag flips per request.)
  struct Http1Connection {
    const HcmConfig* hcm;
    const bool* idle;
  };
  std::unordered_map<boost::asio::ip::tcp::socket*, Http1Connection> http1_connections;

  // Draining: no more keep-alive. `close_idle` also ends connections waiting for a request; the
  // drain does that after a grace second, so a request already on its way is still served.
  void startDraining(bool close_idle) {
    if (!draining) {
      auto sessions = h2_sessions;  // a shutdown may close (and unregister) a session at once
      for (auto& [session, hcm] : sessions) session->shutdown();  // GOAWAY: open streams finish
      h2_pool.drain();
    }
    draining = true;
    if (!close_idle) return;
    for (auto& [socket, connection] : http1_connections) {
      if (!*connection.idle) continue;
      boost::system::error_code ignored;
      socket->cancel(ignored);
    }
  }

  // A removed or replaced listener (its HCMs are marked draining): GOAWAY to its HTTP/2
  // connections; with `close_idle`, also close its HTTP/1 connections waiting for a request.
  void drainListener(const std::unordered_set<const HcmConfig*>& hcms, bool close_idle) {
    std::vector<net::h2::Session*> sessions;
    for (auto& [session, hcm] : h2_sessions)
      if (hcms.count(hcm)) sessions.push_back(session);
    for (auto* session : sessions) session->shutdown();
    if (!close_idle) return;
    for (auto& [socket, connection] : http1_connections) {
      if (!*connection.idle || !hcms.count(connection.hcm)) continue;
      boost::system::error_code ignored;
      socket->cancel(ignored);
    }
  }

  // Connections that carry raw bytes once set up (tcp_proxy, HTTP upgrade tunnels), with the
  // filter config they came through and their upstream socket. Nothing in their bytes tells them
  // to end, so when the drain time of their removed or replaced listener ends they are closed, as
  // Envoy closes a drained listener's connections. (Registered once per connection.)
  struct Tunnel {
    const void* owner;  // its TcpProxyConfig or HcmConfig
    boost::asio::ip::tcp::socket* upstream;
  };
  std::unordered_map<boost::asio::ip::tcp::socket*, Tunnel> tunnels;
  // Registers a tunnel for the guard's life.
  struct ScopedTunnel {
    ScopedTunnel(ProxyWorker& w, boost::asio::ip::tcp::socket& down, const void* owner, boost::asio::ip::tcp::socket& up)
        : worker(w), socket(&down) {
      worker.tunnels.emplace(socket, Tunnel{owner, &up});
    }
    ~ScopedTunnel() { worker.tunnels.erase(socket); }
    ScopedTunnel(const ScopedTunnel&) = delete;
    ScopedTunnel& operator=(const ScopedTunnel&) = delete;
    ProxyWorker& worker;
    boost::asio::ip::tcp::socket* socket;
  };
  // The drain time of a removed or replaced listener has ended: its tunnels close (both sides,
  // so the copies waiting on either end at once).
  void closeTunnels(const std::unordered_set<const void*>& owners) {
    for (auto& [down, tunnel] : tunnels) {
      if (!owners.count(tunnel.owner)) continue;
      boost::system::error_code ignored;
      down->close(ignored);
      tunnel.upstream->close(ignored);
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
    if (it == balancers.end() || it->second.first != &cluster) {
      LoadBalancer fresh(cluster.lb, cluster.ring_min_size, cluster.locality_weighted);
      it = balancers.insert_or_assign(cluster.name, std::pair{&cluster, std::move(fresh)}).first;
    }
    return it->second.second;
  }
};

}  // namespace monomesh::proxy
