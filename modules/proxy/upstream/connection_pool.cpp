#include "proxy/upstream/connection_pool.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/socket.h>

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;

UpstreamConnection::UpstreamConnection(asio::any_io_executor executor, HostPtr h, std::shared_ptr<const ClusterInfo> c)
    : stream(boost::beast::tcp_stream(executor)), io(executor, stream), host(std::move(h)), cluster(std::move(c)) {
  cluster->breakers->connections.fetch_add(1, std::memory_order_relaxed);
  cluster->stats->cx_active->inc();
}

UpstreamConnection::~UpstreamConnection() {
  cluster->breakers->connections.fetch_sub(1, std::memory_order_relaxed);
  cluster->stats->cx_active->dec();
  cluster->stats->cx_destroy->inc();
  if (pool != nullptr) pool->connectionClosed(host.get());
}

namespace {

// An idle keep-alive connection the server has closed (or sent bytes on) must not carry the
// next request: a non-blocking peek tells without consuming anything.
bool stillUsable(UpstreamConnection& c) {
  if (c.buffer.size() != 0) return false;
  char byte;
  ssize_t n = ::recv(c.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

// A request waiting for a connection at max_connections; woken by a release on this worker.
struct ConnectionPool::Waiter {
  explicit Waiter(asio::any_io_executor executor) : timer(executor) {}
  asio::steady_timer timer;
  ConnectionPtr handed;   // a connection released to this waiter
  bool woken = false;
};

ConnectionPtr ConnectionPool::takeIdle(const ClusterInfo& cluster, const Host* host, bool verify) {
  auto it = idle_.find(host);
  if (it == idle_.end()) return nullptr;
  auto now = Clock::now();
  auto& list = it->second;
  while (!list.empty()) {
    ConnectionPtr c = std::move(list.back());
    list.pop_back();
    if (now - c->idle_since < cluster.idle_timeout && c->buffer.size() == 0 && (!verify || stillUsable(*c))) return c;
  }
  return nullptr;
}

asio::awaitable<ConnectionPool::Acquired> ConnectionPool::acquire(std::shared_ptr<const ClusterInfo> cluster,
                                                                  HostPtr host, bool reuse, bool verify,
                                                                  Clock::time_point wait_until) {
  if (reuse) {
    if (ConnectionPtr c = takeIdle(*cluster, host.get(), verify)) co_return Acquired{ConnectError::None, std::move(c), true};
  }
  while (cluster->breakers->connections.load(std::memory_order_relaxed) >= cluster->limits.max_connections) {
    cluster->stats->cx_overflow->inc();
    auto& pending = cluster->breakers->pending;
    if (pending.fetch_add(1, std::memory_order_relaxed) >= cluster->limits.max_pending_requests) {
      pending.fetch_sub(1, std::memory_order_relaxed);
      cluster->stats->rq_pending_overflow->inc();
      co_return Acquired{ConnectError::Overflow, nullptr, false};
    }
    cluster->stats->rq_pending_active->inc();
    Waiter waiter(co_await asio::this_coro::executor);
    waiter.timer.expires_at(wait_until);
    auto& queue = waiters_[host.get()];
    queue.push_back(&waiter);
    co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!waiter.woken) std::erase(queue, &waiter);
    pending.fetch_sub(1, std::memory_order_relaxed);
    cluster->stats->rq_pending_active->dec();
    if (waiter.handed) co_return Acquired{ConnectError::None, std::move(waiter.handed), true};
    if (!waiter.woken) co_return Acquired{ConnectError::PendingTimeout, nullptr, false};
    // Woken because a connection closed: try again to connect.
  }
  auto executor = co_await asio::this_coro::executor;
  auto c = std::make_unique<UpstreamConnection>(executor, host, cluster);
  c->pool = this;
  cluster->stats->cx_total->inc();
  c->stream.tcp().expires_after(cluster->connect_timeout);
  auto [ec] = co_await c->stream.tcp().async_connect(host->address, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    bool timeout = ec == beast::error::timeout;
    (timeout ? cluster->stats->cx_connect_timeout : cluster->stats->cx_connect_fail)->inc();
    co_return Acquired{timeout ? ConnectError::Timeout : ConnectError::Failed, nullptr, false};
  }
  boost::system::error_code ignored;
  c->stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  c->local = c->stream.socket().local_endpoint(ignored);
  if (cluster->tls) {
    // TLS origination: the handshake shares the connect timeout, as Envoy's does.
    c->stream.startTls(cluster->tls->context);
    std::string error = co_await c->stream.handshake();
    if (!error.empty()) {
      cluster->stats->cx_connect_fail->inc();
      cluster->stats->ssl_connection_error->inc();
      co_return Acquired{ConnectError::Failed, nullptr, false, "TLS error: " + error};
    }
    cluster->stats->ssl_handshake->inc();
  }
  c->stream.tcp().expires_never();
  co_return Acquired{ConnectError::None, std::move(c), false};
}

void ConnectionPool::release(ConnectionPtr c, bool reusable) {
  if (!c) return;
  const ClusterInfo& cluster = *c->cluster;
  bool over_limit = cluster.max_requests_per_connection != 0 && c->requests >= cluster.max_requests_per_connection;
  // Leftover bytes mean the exchange did not end where it should: never reuse such a connection.
  bool clean = reusable && !over_limit && c->buffer.size() == 0;
  if (auto it = waiters_.find(c->host.get()); clean && it != waiters_.end() && !it->second.empty()) {
    // A pending request takes the connection first. (An unusable one is destroyed below, and
    // its destructor wakes a waiter to connect in the freed slot.)
    Waiter* w = it->second.front();
    it->second.pop_front();
    w->woken = true;
    c->stream.tcp().expires_never();
    c->io.deadline().expiresNever();
      w->handed = std::move(c);
    w->timer.cancel();
    return;
  }
  if (!clean) return;  // destroyed here: closes the socket
  auto& list = idle_[c->host.get()];
  if (list.size() >= kMaxIdlePerHost) return;
  c->idle_since = Clock::now();
  c->stream.tcp().expires_never();
  c->io.deadline().expiresNever();
  list.push_back(std::move(c));
}

void ConnectionPool::connectionClosed(const Host* host) {
  if (shut_down_) return;
  auto it = waiters_.find(host);
  if (it == waiters_.end() || it->second.empty()) return;
  Waiter* w = it->second.front();
  it->second.pop_front();
  w->woken = true;
  w->timer.cancel();
}

void ConnectionPool::sweep(Clock::time_point now, const std::function<bool(const Host*)>& current) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    bool host_current = current(it->first);
    std::erase_if(list, [&](const ConnectionPtr& c) {
      return !host_current || now - c->idle_since >= c->cluster->idle_timeout || !stillUsable(*c);
    });
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
}

void ConnectionPool::shutdown() {
  shut_down_ = true;
  idle_.clear();
}

size_t ConnectionPool::idleCount() const {
  size_t n = 0;
  for (const auto& [host, list] : idle_) n += list.size();
  return n;
}

}  // namespace monomesh::proxy
