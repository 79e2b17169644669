#include "proxy/http/request_support.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <algorithm>
#include <charconv>

#include <re2/re2.h>

#include "net/grpc/grpc_framing.h"
#include "observe/log.h"
#include "proxy/config/proto_values.h"
#include "proxy/upstream/load_balancer.h"

namespace monomesh::proxy {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

bool isHopByHop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::transfer_encoding:
    case http::field::te:
    case http::field::trailer:
    case http::field::upgrade: return true;
    default: return false;
  }
}

void stripHopByHop(Fields& fields, bool keep_upgrade) {
  // Tokens of Connection other than close/keep-alive/upgrade name extra hop-by-hop headers.
  // (Views into the fields' own bytes, which erasing a field does not free.)
  std::vector<std::string_view> named;
  for (const auto& f : fields) {
    if (f.name() != http::field::connection) continue;
    forEachListToken(f.value(), [&named](std::string_view token) {
      // Framing and Host are never hop-by-hop, whatever Connection says (else: smuggling).
      if (!beast::iequals(token, "close") && !beast::iequals(token, "keep-alive") && !beast::iequals(token, "upgrade") &&
          !beast::iequals(token, "content-length") && !beast::iequals(token, "transfer-encoding") &&
          !beast::iequals(token, "host"))
        named.push_back(token);
    });
  }
  for (auto it = fields.begin(); it != fields.end();) {
    http::field f = it->name();
    bool drop = isHopByHop(f) && !(keep_upgrade && (f == http::field::upgrade || f == http::field::connection));
    for (const auto& n : named) drop |= beast::iequals(it->name_string(), n);
    it = drop ? fields.erase(it) : std::next(it);
  }
}

std::string_view uuid4(std::mt19937_64& random, std::array<char, 36>& out) {
  // Version 4, variant 1, written without printf (it showed in profiles).
  uint64_t a = (random() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  uint64_t b = (random() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  out.fill('-');
  size_t pos = 0;
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) out[pos++] = kHex[(v >> (i * 4)) & 0xF];
  };
  put(a >> 32, 8);
  ++pos;
  put((a >> 16) & 0xffff, 4);
  ++pos;
  put(a & 0xffff, 4);
  ++pos;
  put(b >> 48, 4);
  ++pos;
  put(b & 0xffffffffffffULL, 12);
  return std::string_view(out.data(), out.size());
}

std::string uuid4(std::mt19937_64& random) {
  std::array<char, 36> text;
  return std::string(uuid4(random, text));
}

void countStatus(const HcmStats& s, unsigned status) {
  s.rq_total->inc();
  if (status < 200) s.rq_1xx->inc();
  else if (status < 300) s.rq_2xx->inc();
  else if (status < 400) s.rq_3xx->inc();
  else if (status < 500) s.rq_4xx->inc();
  else s.rq_5xx->inc();
}

void countUpstreamStatus(const ClusterStats& s, unsigned status) {
  s.rq_total->inc();
  if (status >= 200 && status < 300) s.rq_2xx->inc();
  else if (status >= 300 && status < 400) s.rq_3xx->inc();
  else if (status >= 400 && status < 500) s.rq_4xx->inc();
  else if (status >= 500) s.rq_5xx->inc();
}

void recordOutcome(const ClusterInfo& cluster, Host& host, unsigned status, const HostSet& set) {
  const auto& o = cluster.outlier;
  if (!o.enabled) return;
  if (status < 500) {
    host.consecutive_5xx.store(0, std::memory_order_relaxed);
    host.consecutive_gateway.store(0, std::memory_order_relaxed);
    return;
  }
  bool gateway = status == 502 || status == 503 || status == 504;
  uint32_t n5 = host.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1;
  uint32_t ng = gateway ? host.consecutive_gateway.fetch_add(1, std::memory_order_relaxed) + 1 : 0;
  bool eject = (o.enforce_5xx && n5 >= o.consecutive_5xx) || (o.enforce_gateway_failure && gateway && ng >= o.consecutive_gateway_failure);
  if (!eject) return;
  auto now = Clock::now();
  size_t ejected = 0;
  for (const auto& h : set.hosts) ejected += h->ejected(now);
  if (set.hosts.empty() || (ejected + 1) * 100 > size_t(o.max_ejection_percent) * set.hosts.size()) {
    // Envoy always allows at least one ejection when the percentage rounds to zero hosts.
    if (!(ejected == 0 && o.max_ejection_percent > 0)) return;
  }
  // Workers race to eject the same host: the compare-and-swap lets exactly one of them do it.
  int64_t current = host.ejected_until_ns.load(std::memory_order_relaxed);
  if (current > now.time_since_epoch().count()) return;
  uint32_t times = host.times_ejected.load(std::memory_order_relaxed) + 1;
  auto until = now + o.base_ejection_time * times;
  if (!host.ejected_until_ns.compare_exchange_strong(current, until.time_since_epoch().count(), std::memory_order_relaxed))
    return;
  host.times_ejected.fetch_add(1, std::memory_order_relaxed);
  host.consecutive_5xx.store(0, std::memory_order_relaxed);
  host.consecutive_gateway.store(0, std::memory_order_relaxed);
  cluster.stats->outlier_ejections_total->inc();
  cluster.stats->outlier_ejections_consecutive_5xx->inc();
  observe::logScope("upstream").info("cluster {}: ejected {} for {} ms", cluster.name, host.str(),
                                     (o.base_ejection_time * times).count());
}

std::string endpointText(const tcp::endpoint& e) {
  std::string a = e.address().to_string();
  return (e.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(e.port());
}

std::vector<std::pair<std::string, std::string>> overloaded() {
  std::vector<std::pair<std::string, std::string>> h;
  h.emplace_back("x-envoy-overloaded", "true");
  return h;
}

std::pair<std::string_view, const WeightedTarget*> chooseCluster(const Route& route, const Fields& fields,
                                                                 uint64_t random) {
  if (route.action == Route::Action::ClusterHeader) {
    auto it = fields.find(route.cluster);
    return {it == fields.end() ? std::string_view() : it->value(), nullptr};
  }
  if (route.action == Route::Action::Weighted) {
    uint64_t pick = (random >> 20) % route.total_weight;
    for (const auto& t : route.weighted) {
      if (pick < t.weight) return {t.cluster, &t};
      pick -= t.weight;
    }
  }
  return {route.cluster, nullptr};
}

void applyRequestRewrites(const RouteTable& table, const VirtualHost& vh, const Route& route,
                          const WeightedTarget* weighted, std::string& path, Fields& fields) {
  if (route.rewritesPath()) {  // (most routes do not: no copy of the path for them)
    std::string rewritten = route.rewritePath(path);
    if (rewritten != path) {
      fields.set("x-envoy-original-path", path);
      path = std::move(rewritten);
    }
  }
  if (!route.host_rewrite.empty()) fields.set(http::field::host, route.host_rewrite);
  route.request_headers.apply(fields);
  if (weighted) weighted->request_headers.apply(fields);
  vh.request_headers.apply(fields);
  table.requestHeaders().apply(fields);
}

void applyResponseRewrites(const RouteTable& table, const VirtualHost& vh, const Route& route,
                           const WeightedTarget* weighted, Fields& fields) {
  route.response_headers.apply(fields);
  if (weighted) weighted->response_headers.apply(fields);
  vh.response_headers.apply(fields);
  table.responseHeaders().apply(fields);
}

std::string redirectLocation(const Route& route, std::string_view host, std::string_view target,
                             std::string_view current_scheme) {
  std::string scheme = route.redirect_scheme.empty() ? std::string(current_scheme) : route.redirect_scheme;
  std::string h = route.redirect_host.empty() ? std::string(host) : route.redirect_host;
  if (route.redirect_port != 0) {
    if (auto colon = h.rfind(':'); colon != std::string::npos && h.find(']') == std::string::npos) h = h.substr(0, colon);
    h += ":" + std::to_string(route.redirect_port);
  } else if (!route.redirect_scheme.empty()) {
    // A scheme change drops a default port (80/443), as Envoy does; other ports stay.
    if (auto colon = h.rfind(':'); colon != std::string::npos && h.find(']') == std::string::npos) {
      std::string_view port = std::string_view(h).substr(colon + 1);
      if (port == "80" || port == "443") h = h.substr(0, colon);
    }
  }
  std::string path(target);
  std::string query;
  if (auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q);
    path = path.substr(0, q);
  }
  if (!route.redirect_path.empty()) {
    path = route.redirect_path;
    if (auto q = path.find('?'); q != std::string::npos) {
      query = path.substr(q);
      path = path.substr(0, q);
    }
  } else if (!route.redirect_prefix.empty()) {
    path = route.redirect_prefix + path.substr(std::min(route.path.size(), path.size()));
  } else if (route.regex_rewrite) {
    re2::RE2::GlobalReplace(&path, *route.regex_rewrite, route.regex_rewrite_substitution);
  }
  if (route.strip_query) query.clear();
  return scheme + "://" + h + path + query;
}

std::vector<std::pair<std::string, std::string>> directResponseHeaders(const RouteTable& table, const VirtualHost& vh,
                                                                       const Route& route) {
  Fields extra;
  route.response_headers.apply(extra);
  vh.response_headers.apply(extra);
  table.responseHeaders().apply(extra);
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& f : extra) headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return headers;
}

std::optional<uint64_t> requestHash(const Route& route, const Fields& fields, const tcp::endpoint& remote) {
  std::optional<uint64_t> hash;
  for (const auto& hp : route.hash) {
    std::optional<std::string> key;
    if (hp.kind == HashPolicy::Kind::Header) {
      if (auto it = fields.find(hp.name); it != fields.end()) key = std::string(it->value());
    } else if (hp.kind == HashPolicy::Kind::SourceIp) {
      key = remote.address().to_string();
    }
    if (key) {
      hash = hashKey(*key);
      if (hp.terminal) break;
    }
  }
  return hash;
}

namespace {

const HeaderName kExpectedTimeout("x-envoy-expected-rq-timeout-ms");
const HeaderName kGrpcTimeout("grpc-timeout");

// Envoy's test: application/grpc, or application/grpc+<codec> (not grpc-web).
bool isGrpc(const Fields& fields) {
  std::string_view type = fields[http::field::content_type];
  constexpr std::string_view kGrpc = "application/grpc";
  return type.starts_with(kGrpc) && (type.size() == kGrpc.size() || type[kGrpc.size()] == '+');
}

}  // namespace

std::chrono::milliseconds requestTimeout(const Route& route, const RetryPolicy* retry, Fields& fields,
                                         bool envoy_headers) {
  using std::chrono::milliseconds;
  bool grpc_deadline = route.max_grpc_timeout && isGrpc(fields);
  milliseconds timeout = route.timeout;
  if (grpc_deadline) {
    timeout = milliseconds(0);  // no grpc-timeout: none (then the cap, if any)
    auto value = fields.find(kGrpcTimeout);
    if (value != fields.end())
      if (auto parsed = net::grpc::parseGrpcTimeout(value->value()))
        timeout = std::min(std::chrono::ceil<milliseconds>(*parsed), kNoTimeout);
    if (route.grpc_timeout_offset < timeout) timeout -= route.grpc_timeout_offset;
    milliseconds cap = *route.max_grpc_timeout;
    if (cap.count() != 0 && (timeout.count() == 0 || timeout > cap)) timeout = cap;
  }
  milliseconds expected = retry ? retry->per_try_timeout : milliseconds(0);
  if (timeout.count() != 0 && expected >= timeout) expected = milliseconds(0);
  if (expected.count() == 0) expected = timeout;
  if (expected.count() > 0) {
    if (envoy_headers) {
      std::array<char, 24> digits;
      auto end = std::to_chars(digits.data(), digits.data() + digits.size(), expected.count()).ptr;
      fields.set(kExpectedTimeout, std::string_view(digits.data(), size_t(end - digits.data())));
    }
    if (grpc_deadline) fields.set(kGrpcTimeout, net::grpc::formatGrpcTimeout(expected));
  }
  return timeout;
}

boost::asio::awaitable<bool> retryBackoff(const ClusterInfo& cluster, const RetryPolicy& retry, uint32_t attempt,
                                          std::mt19937_64& random) {
  if (cluster.breakers->retries.load(std::memory_order_relaxed) >= cluster.limits.max_retries) {
    cluster.stats->rq_retry_overflow->inc();
    co_return false;
  }
  cluster.breakers->retries.fetch_add(1, std::memory_order_relaxed);
  cluster.stats->rq_retry->inc();
  auto cap = std::min(retry.backoff_max, retry.backoff_base * (1u << std::min<uint32_t>(attempt - 1, 10)));
  boost::asio::steady_timer backoff(co_await boost::asio::this_coro::executor,
                                    std::chrono::milliseconds(cap.count() > 0 ? random() % uint64_t(cap.count() + 1) : 0));
  co_await backoff.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  cluster.breakers->retries.fetch_sub(1, std::memory_order_relaxed);
  co_return true;
}

bool staleReusedConnection(bool reused, size_t received, const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  if (!reused || received != 0 || !ec) return false;
  // A write fails with a broken pipe or reset; a read sees the close or the reset.
  return ec == error::eof || ec == boost::beast::http::error::end_of_stream || ec == error::connection_reset ||
         ec == error::broken_pipe || ec == error::connection_aborted;
}

StreamDeadline::StreamDeadline(boost::asio::any_io_executor executor, const std::shared_ptr<net::h2::Stream>& stream,
                               std::chrono::steady_clock::time_point deadline)
    : timer_(std::move(executor), deadline) {
  if (deadline == std::chrono::steady_clock::time_point::max()) return;
  timer_.async_wait([weak = std::weak_ptr<net::h2::Stream>(stream), expired = expired_](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto s = weak.lock(); s && !s->closed()) {
      *expired = true;
      s->reset();
    }
  });
}

ActiveUpstreamRequest::ActiveUpstreamRequest(const ClusterInfo& cluster, Host& host) : cluster_(cluster), host_(host) {
  cluster_.breakers->requests.fetch_add(1, std::memory_order_relaxed);
  host_.active_requests.fetch_add(1, std::memory_order_relaxed);
  cluster_.stats->rq_active->inc();
}

ActiveUpstreamRequest::~ActiveUpstreamRequest() {
  cluster_.breakers->requests.fetch_sub(1, std::memory_order_relaxed);
  host_.active_requests.fetch_sub(1, std::memory_order_relaxed);
  cluster_.stats->rq_active->dec();
}

}  // namespace monomesh::proxy
