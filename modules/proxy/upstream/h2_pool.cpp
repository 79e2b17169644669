#include "proxy/upstream/h2_pool.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/maybe_tls_stream.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;

asio::awaitable<H2Pool::Acquired> H2Pool::acquire(std::shared_ptr<const ClusterInfo> cluster, HostPtr host) {
  for (;;) {
    Entry& entry = hosts_[host.get()];
    std::erase_if(entry.sessions, [](const auto& s) { return s->closed(); });
    for (const auto& s : entry.sessions)
      if (s->acceptsStreams()) co_return Acquired{ConnectError::None, s};
    if (!entry.connecting) break;
    // Another request is connecting to this host: its connection will serve us too.
    auto done = entry.connecting;
    co_await done->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  const ClusterStats& stats = *cluster->stats;
  if (cluster->breakers->connections.load(std::memory_order_relaxed) >= cluster->limits.max_connections) {
    stats.cx_overflow->inc();
    co_return Acquired{ConnectError::Overflow, nullptr};
  }
  auto executor = co_await asio::this_coro::executor;
  auto connecting = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  hosts_[host.get()].connecting = connecting;
  struct Done {
    H2Pool& pool;
    const Host* host;
    std::shared_ptr<asio::steady_timer> timer;
    ~Done() {
      if (auto it = pool.hosts_.find(host); it != pool.hosts_.end() && it->second.connecting == timer) it->second.connecting.reset();
      timer->cancel();
    }
  } done{*this, host.get(), connecting};

  stats.cx_total->inc();
  net::MaybeTlsStream stream{beast::tcp_stream(executor)};
  stream.tcp().expires_after(cluster->connect_timeout);
  auto [ec] = co_await stream.tcp().async_connect(host->address, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    bool timeout = ec == beast::error::timeout;
    (timeout ? stats.cx_connect_timeout : stats.cx_connect_fail)->inc();
    co_return Acquired{timeout ? ConnectError::Timeout : ConnectError::Failed, nullptr};
  }
  if (cluster->tls) {
    stream.startTls(cluster->tls->context);
    if (!(co_await stream.handshake()).empty()) {
      stats.cx_connect_fail->inc();
      stats.ssl_connection_error->inc();
      co_return Acquired{ConnectError::Failed, nullptr};
    }
    stats.ssl_handshake->inc();
  }
  cluster->breakers->connections.fetch_add(1, std::memory_order_relaxed);
  stats.cx_active->inc();
  auto session = net::h2::Session::create(
      net::h2::Session::Role::client, net::makeTransport(std::move(stream)), cluster->h2,
      {nullptr, [cluster] {
         cluster->breakers->connections.fetch_sub(1, std::memory_order_relaxed);
         cluster->stats->cx_active->dec();
         cluster->stats->cx_destroy->inc();
       }},
      &counters_);
  session->start();
  Entry& entry = hosts_[host.get()];
  entry.host = host;
  entry.idle_timeout = cluster->idle_timeout;
  entry.sessions.push_back(session);
  co_return Acquired{ConnectError::None, session};
}

void H2Pool::drain() {
  for (auto& [host, entry] : hosts_)
    for (auto& s : entry.sessions) s->shutdown();
}

void H2Pool::sweep(std::chrono::steady_clock::time_point now, const std::function<bool(const Host*)>& current,
                   bool hosts_changed) {
  auto closed = [](const auto& s) { return s->closed(); };
  std::erase_if(leaving_, closed);
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    Entry& entry = it->second;
    std::erase_if(entry.sessions, closed);
    bool check = hosts_changed || !entry.checked;
    entry.checked = true;
    if (check && !current(it->first)) {
      // The host left its cluster: no new streams, the open ones finish.
      for (auto& s : entry.sessions) {
        s->shutdown();
        if (!s->closed()) leaving_.push_back(std::move(s));
      }
      entry.sessions.clear();
    } else {
      for (const auto& s : entry.sessions)
        if (s->activeStreams() == 0 && now - s->idleSince() >= entry.idle_timeout) s->shutdown();
    }
    // An entry with a connect in flight stays for the requests waiting on it.
    it = entry.sessions.empty() && !entry.connecting ? hosts_.erase(it) : std::next(it);
  }
}

size_t H2Pool::connectionCount() const {
  size_t n = 0;
  for (const auto& [host, entry] : hosts_)
    for (const auto& s : entry.sessions) n += s->closed() ? 0 : 1;
  for (const auto& s : leaving_) n += s->closed() ? 0 : 1;
  return n;
}

void H2Pool::shutdown() {
  for (auto& [host, entry] : hosts_)
    for (auto& s : entry.sessions) s->close();
  hosts_.clear();
  for (auto& s : leaving_) s->close();
  leaving_.clear();
}

}  // namespace monomesh::proxy
