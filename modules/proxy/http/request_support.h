// What the HTTP/1 and HTTP/2 connection managers share once a request is parsed: hop-by-hop
// header rules, x-request-id generation, the status counters of the HCM and of clusters, outlier
// detection's bookkeeping, and the headers of an overflow answer.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <array>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "net/h2/h2_stream.h"
#include "proxy/http/hcm_config.h"
#include "proxy/http/route_table.h"
#include "proxy/upstream/cluster.h"

namespace monomesh::proxy {

bool isHopByHop(boost::beast::http::field f);
// Drops hop-by-hop headers, including any the Connection header names.
void stripHopByHop(Fields& fields, bool keep_upgrade);
// A random (version 4) UUID for x-request-id; the first form writes it into `out` (no allocation).
std::string_view uuid4(std::mt19937_64& random, std::array<char, 36>& out);
std::string uuid4(std::mt19937_64& random);
void countStatus(const HcmStats& s, unsigned status);
void countUpstreamStatus(const ClusterStats& s, unsigned status);
// Outlier detection: consecutive 5xx / gateway failures eject a host for base * times ejected.
void recordOutcome(const ClusterInfo& cluster, Host& host, unsigned status, const HostSet& set);
// "1.2.3.4:80", "[::1]:80"
std::string endpointText(const boost::asio::ip::tcp::endpoint& e);
// The route's cluster: its own, the one a header names, or a weighted pick (then also returned).
// The name is a view into the route or the fields, which the caller holds for the request.
std::pair<std::string_view, const WeightedTarget*> chooseCluster(const Route& route, const Fields& fields,
                                                                 uint64_t random);
// Route rewrites before forwarding: `path` in place (x-envoy-original-path set when it changed),
// host, and request headers (route, then weighted cluster, virtual host, table).
void applyRequestRewrites(const RouteTable& table, const VirtualHost& vh, const Route& route,
                          const WeightedTarget* weighted, std::string& path, Fields& fields);
// Response headers to add/remove: route, weighted cluster, virtual host, table.
void applyResponseRewrites(const RouteTable& table, const VirtualHost& vh, const Route& route,
                           const WeightedTarget* weighted, Fields& fields);
// A redirect route's Location for a request to `host` + `target` that arrived over `current_scheme`.
std::string redirectLocation(const Route& route, std::string_view host, std::string_view target,
                             std::string_view current_scheme);
// A direct response's extra headers (route, virtual host, table response_headers_to_add).
std::vector<std::pair<std::string, std::string>> directResponseHeaders(const RouteTable& table, const VirtualHost& vh,
                                                                       const Route& route);
// The route's hash policies over a request (consistent-hash balancers), if any applies.
std::optional<uint64_t> requestHash(const Route& route, const Fields& fields,
                                    const boost::asio::ip::tcp::endpoint& remote);
// The request's timeout (0: none), as Envoy's router works it out: the route's timeout, or for a
// gRPC request on a route with max_grpc_timeout the client's grpc-timeout (none when absent or
// unreadable) less grpc_timeout_offset when that leaves some, capped by max_grpc_timeout unless
// it is 0. The upstream request is told what it has (per-try timeout when shorter, else this):
// x-envoy-expected-rq-timeout-ms unless `envoy_headers` is off (the router's
// suppress_envoy_headers), and grpc-timeout when the route sets max_grpc_timeout.
std::chrono::milliseconds requestTimeout(const Route& route, const RetryPolicy* retry, Fields& fields,
                                         bool envoy_headers);
// Before retry `attempt` (1, 2, ...): the retry budget (max_retries breaker) and the jittered
// exponential backoff. False when the budget is spent (counted as upstream_rq_retry_overflow).
boost::asio::awaitable<bool> retryBackoff(const ClusterInfo& cluster, const RetryPolicy& retry, uint32_t attempt,
                                          std::mt19937_64& random);
// Whether a failed connect (or a connection lost before the response) may be retried.
inline bool retriesConnectFailure(const RetryPolicy* retry, bool last) {
  return !last && retry && (retry->on_connect_failure || retry->on_5xx || retry->on_gateway_error || retry->on_reset);
}
// Whether an exchange that failed with `ec` on a connection taken from the pool (`reused`) before
// any response byte arrived (`received` bytes) found it closed by the server while idle: the
// request never reached the application and may go again on a fresh connection, as Envoy's pool
// does, whatever the retry policy says.
bool staleReusedConnection(bool reused, size_t received, const boost::system::error_code& ec);
// A request in flight to a host: counted against the cluster's max_requests breaker, the host's
// active requests (least-request balancing) and upstream_rq_active, for the guard's lifetime.
class ActiveUpstreamRequest {
 public:
  ActiveUpstreamRequest(const ClusterInfo& cluster, Host& host);
  ~ActiveUpstreamRequest();
  ActiveUpstreamRequest(const ActiveUpstreamRequest&) = delete;
  ActiveUpstreamRequest& operator=(const ActiveUpstreamRequest&) = delete;

 private:
  const ClusterInfo& cluster_;
  Host& host_;
};
// Resets an upstream HTTP/2 stream when `deadline` passes, which wakes whatever waits on it (the
// route or per-try timeout); the guard's end cancels it.
class StreamDeadline {
 public:
  StreamDeadline(boost::asio::any_io_executor executor, const std::shared_ptr<net::h2::Stream>& stream,
                 std::chrono::steady_clock::time_point deadline);
  ~StreamDeadline() { timer_.cancel(); }
  StreamDeadline(const StreamDeadline&) = delete;
  StreamDeadline& operator=(const StreamDeadline&) = delete;
  bool expired() const noexcept { return *expired_; }

 private:
  boost::asio::steady_timer timer_;
  std::shared_ptr<bool> expired_ = std::make_shared<bool>(false);
};
// x-envoy-overloaded: true, for answers to circuit-breaker overflows.
std::vector<std::pair<std::string, std::string>> overloaded();

}  // namespace monomesh::proxy
