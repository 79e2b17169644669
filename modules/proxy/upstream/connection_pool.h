// HTTP/1.1 upstream connections of one worker: keep-alive reuse per host (most recently used
// first), connect with the cluster's connect timeout, and the cluster's max_connections circuit
// breaker. Connections never move between workers.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "net/maybe_tls_stream.h"
#include "net/stream_io.h"
#include "proxy/upstream/cluster.h"

namespace monomesh::proxy {

class ConnectionPool;

struct UpstreamConnection {
  UpstreamConnection(boost::asio::any_io_executor executor, HostPtr h, std::shared_ptr<const ClusterInfo> c);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;

  net::MaybeTlsStream stream;  // TLS when the cluster has an UpstreamTlsContext
  // Requests' I/O and deadlines (the stream's own Beast timer bounds the connect and the TLS
  // handshake; tunnels keep their own idle timer).
  net::StreamIo io;
  boost::beast::flat_buffer buffer;
  HostPtr host;
  std::shared_ptr<const ClusterInfo> cluster;
  boost::asio::ip::tcp::endpoint local;  // our end, read once at connect (%UPSTREAM_LOCAL_ADDRESS%)
  uint32_t requests = 0;
  Clock::time_point idle_since;
  ConnectionPool* pool = nullptr;  // told when this connection closes (frees a slot for waiters)
};

using ConnectionPtr = std::unique_ptr<UpstreamConnection>;

enum class ConnectError { None, Overflow, Failed, Timeout, PendingTimeout };

class ConnectionPool {
 public:
  struct Acquired {
    ConnectError error = ConnectError::None;
    ConnectionPtr connection;
    bool reused = false;
    std::string failure_reason;  // why TLS failed (%UPSTREAM_TRANSPORT_FAILURE_REASON%)
  };

  // An idle connection to `host` that may carry a request now, else null: acquire()'s first step,
  // without a coroutine (which most requests, on a keep-alive connection, need nothing more of).
  ConnectionPtr takeIdle(const ClusterInfo& cluster, const Host* host, bool verify);

  // Reuses an idle connection to `host` (when `reuse`), else connects. `verify` first checks
  // without consuming that the server has not closed the idle connection: worth a syscall only
  // when the request could not be retried on a fresh connection. At the cluster's
  // max_connections the request waits as a pending request (up to max_pending_requests across
  // the proxy) for a connection this worker releases, until `wait_until`.
  boost::asio::awaitable<Acquired> acquire(std::shared_ptr<const ClusterInfo> cluster, HostPtr host, bool reuse = true,
                                           bool verify = true, Clock::time_point wait_until = Clock::time_point::max());

  // Returns a connection after a complete exchange; it is kept only when `reusable`.
  void release(ConnectionPtr connection, bool reusable);

  size_t idleCount() const;

  // A connection of this pool closed: a request waiting for `host` may now connect.
  void connectionClosed(const Host* host);

  // Closes every idle connection that has expired or whose host is gone from `current` (a
  // worker calls it periodically), so stale connections neither linger nor hold breaker slots.
  void sweep(Clock::time_point now, const std::function<bool(const Host*)>& current);

  // Before the worker's io_context goes away: closes idle connections, stops waking waiters.
  void shutdown();

 private:
  static constexpr size_t kMaxIdlePerHost = 128;
  struct Waiter;
  std::unordered_map<const Host*, std::vector<ConnectionPtr>> idle_;
  std::unordered_map<const Host*, std::deque<Waiter*>> waiters_;
  bool shut_down_ = false;
};

}  // namespace monomesh::proxy
