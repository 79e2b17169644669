// HTTP/2 upstream connections of one worker: one multiplexed connection per host, a new one when
// it stops taking streams (GOAWAY, stream ids used up, the peer's concurrent-stream limit);
// connected with the cluster's connect timeout, TLS when the cluster has an UpstreamTlsContext,
// and the cluster's max_connections breaker. Connections never move between workers. Swept by
// the worker: a connection without streams for the cluster's idle_timeout, and every connection
// to a host that left its cluster, get a GOAWAY; open streams finish, then the connection closes.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "net/h2/h2_session.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/connection_pool.h"

namespace monomesh::proxy {

class H2Pool {
 public:
  struct Acquired {
    ConnectError error = ConnectError::None;
    std::shared_ptr<net::h2::Session> session;
  };
  boost::asio::awaitable<Acquired> acquire(std::shared_ptr<const ClusterInfo> cluster, HostPtr host);
  // GOAWAY to every connection (drain), or closes them (shutdown).
  void drain();
  void shutdown();
  // Drains connections idle since before `now` - their cluster's idle_timeout and those to hosts
  // `current` no longer knows (asked for every host when `hosts_changed`, else only for hosts
  // connected since the last sweep); forgets closed ones.
  void sweep(std::chrono::steady_clock::time_point now, const std::function<bool(const Host*)>& current,
             bool hosts_changed);
  size_t connectionCount() const;
  const net::h2::H2Counters& counters() const noexcept { return counters_; }

 private:
  struct Entry {
    HostPtr host;  // held, so that the key cannot name another host later
    std::chrono::milliseconds idle_timeout{0};
    bool checked = false;  // against the clusters of the last sweep
    std::vector<std::shared_ptr<net::h2::Session>> sessions;
    std::shared_ptr<boost::asio::steady_timer> connecting;  // cancelled when the connect ends
  };
  std::unordered_map<const Host*, Entry> hosts_;
  // Connections to hosts that left, finishing their streams (closed by shutdown() all the same).
  std::vector<std::shared_ptr<net::h2::Session>> leaving_;
  net::h2::H2Counters counters_;
};

}  // namespace monomesh::proxy
