#include "proxy/http/request_mirror.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include "proxy/http/request_support.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Fire and forget: the shadow request's answer is read and dropped. (A named coroutine, not a
// capturing lambda: GCC 12 may destroy co_spawned lambda captures twice.)
asio::awaitable<void> sendMirror(std::shared_ptr<http::request<http::string_body>> copy, ClusterEntry target,
                                 ProxyWorker& worker) {
  Host* h = worker.balancer(*target.info).choose(*target.hosts, std::nullopt, {}, Clock::now(), worker.random);
  if (h == nullptr) co_return;
  HostPtr host_ptr;
  for (const auto& candidate : target.hosts->hosts)
    if (candidate.get() == h) host_ptr = candidate;
  auto acquired = co_await worker.pool.acquire(target.info, host_ptr, true, false, Clock::now() + std::chrono::seconds(15));
  if (!acquired.connection) co_return;
  auto& up = *acquired.connection;
  up.stream.tcp().expires_after(std::chrono::seconds(15));
  auto [wec, wn] = co_await http::async_write(up.stream, *copy, nothrow);
  if (wec) co_return;
  http::response_parser<http::string_body> rp;
  rp.body_limit(1024 * 1024);
  if (copy->method() == http::verb::head) rp.skip(true);
  auto [rec, rn] = co_await http::async_read(up.stream, up.buffer, rp, nothrow);
  if (rec) co_return;
  countUpstreamStatus(*target.info->stats, rp.get().result_int());
  ++up.requests;
  worker.pool.release(std::move(acquired.connection), rp.keep_alive());
}

}  // namespace

void mirrorRequest(const MirrorPolicy& policy, const http::request<http::string_body>& request, ProxyWorker& worker,
                   asio::any_io_executor executor) {
  auto clusters = worker.clusters();
  std::string_view name = policy.cluster;
  if (!policy.cluster_header.empty()) {
    auto it = request.find(policy.cluster_header);
    if (it == request.end()) return;
    name = it->value();
  }
  const ClusterEntry* entry = clusters ? clusters->find(name) : nullptr;
  if (entry == nullptr) return;
  auto copy = std::make_shared<http::request<http::string_body>>(request);
  // Envoy marks shadow traffic by suffixing the authority with "-shadow".
  std::string host(copy->base()[http::field::host]);
  if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos)
    host.insert(colon, "-shadow");
  else
    host += "-shadow";
  copy->set(http::field::host, host);
  asio::co_spawn(executor, sendMirror(std::move(copy), *entry, worker), asio::detached);
}

}  // namespace monomesh::proxy
