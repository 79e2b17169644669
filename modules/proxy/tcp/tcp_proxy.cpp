#include "proxy/tcp/tcp_proxy.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <stdexcept>

#include "proxy/config/proto_values.h"
#include "proxy/tcp/byte_pump.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::shared_ptr<const TcpProxyConfig> TcpProxyConfig::compile(
    const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& p, observe::StatsStore& stats,
    AccessLogManager* access_log_files) {
  auto c = std::make_shared<TcpProxyConfig>();
  c->stat_prefix = p.stat_prefix();
  if (c->stat_prefix.empty()) throw std::invalid_argument("stat_prefix: required");
  if (p.has_weighted_clusters()) {
    for (const auto& w : p.weighted_clusters().clusters()) {
      c->clusters.emplace_back(w.name(), w.weight());
      c->total_weight += w.weight();
    }
    if (c->total_weight == 0) throw std::invalid_argument("weighted_clusters: weights sum to 0");
  } else if (!p.cluster().empty()) {
    c->clusters.emplace_back(p.cluster(), 1);
    c->total_weight = 1;
  } else {
    throw std::invalid_argument("cluster_specifier: cluster or weighted_clusters is required");
  }
  if (p.has_idle_timeout()) c->idle_timeout = toMillis(p.idle_timeout());
  if (p.has_max_connect_attempts()) c->max_connect_attempts = std::max(1u, p.max_connect_attempts().value());
  for (int i = 0; i < p.access_log_size(); ++i) {
    try {
      c->access_logs.push_back(AccessLogger::create(p.access_log(i), access_log_files));
    } catch (const std::exception& e) {
      throw std::invalid_argument("access_log[" + std::to_string(i) + "]: " + e.what());
    }
  }
  auto n = [&](const char* stat) { return "tcp." + c->stat_prefix + "." + stat; };
  c->cx_total = &stats.counter(n("downstream_cx_total"));
  c->cx_no_route = &stats.counter(n("downstream_cx_no_route"));
  c->rx_bytes = &stats.counter(n("downstream_cx_rx_bytes_total"));
  c->tx_bytes = &stats.counter(n("downstream_cx_tx_bytes_total"));
  c->idle_timeout_count = &stats.counter(n("idle_timeout"));
  c->connect_fail = &stats.counter(n("upstream_connect_fail"));
  c->cx_active = &stats.gauge(n("downstream_cx_active"));
  return c;
}

asio::awaitable<void> serveTcpProxy(net::MaybeTlsStream down, std::shared_ptr<const TcpProxyConfig> config, ProxyWorker& worker,
                                    std::optional<tcp::endpoint> original_dst, std::string server_name) {
  auto start = std::chrono::system_clock::now();
  auto start_steady = Clock::now();
  config->cx_total->inc();
  config->cx_active->inc();
  ++worker.connections;  // a drain waits for TCP connections too
  std::string flags, upstream_host, cluster_name, transport_failure;
  tcp::endpoint upstream_local, remote, local;  // read only for a log
  if (!config->access_logs.empty()) {
    boost::system::error_code ec;
    remote = down.socket().remote_endpoint(ec);
    local = down.socket().local_endpoint(ec);
    if (server_name.empty()) server_name = down.serverName();
  }
  uint64_t rx = 0, tx = 0;
  do {
    uint64_t pick = worker.random() % config->total_weight;
    for (const auto& [name, weight] : config->clusters) {
      if (pick < weight) {
        cluster_name = name;
        break;
      }
      pick -= weight;
    }
    auto clusters = worker.clusters();  // held for the connection's life
    const ClusterEntry* entry = clusters ? clusters->find(cluster_name) : nullptr;
    if (entry == nullptr) {
      config->cx_no_route->inc();
      flags = "NR";
      break;
    }
    std::unique_ptr<UpstreamConnection> up;
    for (uint32_t attempt = 0; attempt < config->max_connect_attempts && !up; ++attempt) {
      HostPtr host;
      if (entry->info->type == ClusterInfo::Type::OriginalDst) {
        if (!original_dst) break;
        host = std::make_shared<Host>();
        host->address = *original_dst;
      } else {
        Host* chosen = worker.balancer(*entry->info).choose(*entry->hosts, std::nullopt, {}, Clock::now(), worker.random);
        for (const auto& h : entry->hosts->hosts)
          if (h.get() == chosen) host = h;
      }
      if (!host) {
        flags = "UH";
        break;
      }
      upstream_host = host->str();
      // TCP connections are never pooled: each gets its own, counted against max_connections.
      auto acquired = co_await worker.pool.acquire(entry->info, host, /*reuse=*/false, false,
                                                   Clock::now() + entry->info->connect_timeout);
      if (acquired.error == ConnectError::Overflow || acquired.error == ConnectError::PendingTimeout) {
        flags = "UO";
        break;
      }
      up = std::move(acquired.connection);
      if (!up) {
        transport_failure = std::move(acquired.failure_reason);
        flags = "UF";
        config->connect_fail->inc();
      }
    }
    if (!up) break;
    flags.clear();
    upstream_local = up->local;
    ProxyWorker::ScopedTunnel registered(worker, down.socket(), config.get(), up->stream.socket());
    beast::flat_buffer none_down, none_up;
    auto moved = co_await pumpBothWays(down, none_down, up->stream, none_up,
                                       config->idle_timeout.count() > 0 ? config->idle_timeout : kNoTimeout);
    rx = moved.a_to_b;
    tx = moved.b_to_a;
    config->rx_bytes->inc(rx);
    config->tx_bytes->inc(tx);
    if (moved.idle_timeout) config->idle_timeout_count->inc();
  } while (false);
  boost::system::error_code ignored;
  down.socket().close(ignored);
  config->cx_active->dec();
  --worker.connections;
  if (!config->access_logs.empty()) {
    AccessLogEntry e;
    e.downstream_remote = remote;
    e.downstream_local = local;
    e.upstream_local = upstream_local;
    e.requested_server_name = server_name;
    e.upstream_transport_failure_reason = transport_failure;
    auto runtime = worker.runtimeValues();
    e.runtime = runtime.get();
    e.random = worker.random();
    e.start = start;
    e.protocol = "";
    e.response_flags = flags;
    e.bytes_received = rx;
    e.bytes_sent = tx;
    e.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_steady);
    e.upstream_host = upstream_host;
    e.upstream_cluster = cluster_name;
    for (const auto& logger : config->access_logs) logger->log(e);
  }
}

}  // namespace monomesh::proxy
