// The tcp_proxy network filter: one upstream connection per downstream connection to a cluster
// (or one of weighted clusters), bytes copied both ways with half-close, an idle timeout, byte
// counters and access logs. ORIGINAL_DST clusters connect to the connection's original address.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "net/maybe_tls_stream.h"
#include "observe/stats_store.h"
#include "proxy/http/access_log.h"
#include "proxy/worker.h"

namespace monomesh::proxy {

struct TcpProxyConfig {
  std::string stat_prefix;
  std::vector<std::pair<std::string, uint32_t>> clusters;  // name, weight (one entry: plain cluster)
  uint32_t total_weight = 0;
  std::chrono::milliseconds idle_timeout{3600000};  // 0 disables
  uint32_t max_connect_attempts = 1;
  std::vector<std::shared_ptr<const AccessLogger>> access_logs;
  observe::Counter *cx_total, *cx_no_route, *rx_bytes, *tx_bytes, *idle_timeout_count, *connect_fail;
  observe::Gauge* cx_active;

  static std::shared_ptr<const TcpProxyConfig> compile(const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& p,
                                                       observe::StatsStore& stats,
                                                       AccessLogManager* access_log_files = nullptr);
};

// `server_name`: the SNI tls_inspector read (TLS passed through), for access logs.
boost::asio::awaitable<void> serveTcpProxy(net::MaybeTlsStream down, std::shared_ptr<const TcpProxyConfig> config,
                                           ProxyWorker& worker, std::optional<boost::asio::ip::tcp::endpoint> original_dst,
                                           std::string server_name = {});

}  // namespace monomesh::proxy
