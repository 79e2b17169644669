#include "proxy/http/request_mirror.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/http/error.hpp>

#include <array>
#include <memory>

#include "net/stream_io.h"
#include "proxy/http/http1_writer.h"
#include "proxy/http/request_support.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr auto kMirrorTimeout = std::chrono::seconds(15);
constexpr size_t kMirrorBodyLimit = 1024 * 1024;  // of the shadow's answer, which is read and dropped

// Fire and forget: the shadow request's answer is read and dropped. (A named coroutine, not a
// capturing lambda: GCC 12 may destroy co_spawned lambda captures twice.)
asio::awaitable<void> sendMirror(std::shared_ptr<const std::string> request, bool head_method, ClusterEntry target,
                                 ProxyWorker& worker) {
  Host* h = worker.balancer(*target.info).choose(*target.hosts, std::nullopt, {}, Clock::now(), worker.random);
  if (h == nullptr) co_return;
  HostPtr host_ptr;
  for (const auto& candidate : target.hosts->hosts)
    if (candidate.get() == h) host_ptr = candidate;
  auto acquired = co_await worker.pool.acquire(target.info, host_ptr, true, false, Clock::now() + kMirrorTimeout);
  if (!acquired.connection) co_return;
  auto& up = *acquired.connection;
  up.io.deadline().expiresAfter(kMirrorTimeout);
  std::array<asio::const_buffer, 1> out{asio::buffer(*request)};
  auto [wec, wn] = co_await up.io.write(out);
  if (wec) co_return;
  ResponseHead response;
  ResponseParser rp(response);
  rp.body_limit(kMirrorBodyLimit);
  if (head_method) rp.skip(true);
  auto [rec, rn] = co_await net::readHeader(up.io, up.buffer, rp);
  if (rec) co_return;
  std::unique_ptr<char[]> scratch;
  if (!rp.is_done()) scratch = std::make_unique_for_overwrite<char[]>(16 * 1024);
  while (!rp.is_done()) {
    rp.bodyWindow(scratch.get(), 16 * 1024);
    auto [bec, bn] = co_await net::read(up.io, up.buffer, rp);
    if (bec && bec != http::error::need_buffer) co_return;
  }
  countUpstreamStatus(*target.info->stats, response.status);
  ++up.requests;
  worker.pool.release(std::move(acquired.connection), rp.keep_alive());
}

}  // namespace

void mirrorRequest(const MirrorPolicy& policy, const RequestHead& head, const std::string& body, ProxyWorker& worker,
                   asio::any_io_executor executor) {
  auto clusters = worker.clusters();
  std::string_view name = policy.cluster;
  if (!policy.cluster_header.empty()) {
    auto it = head.fields.find(policy.cluster_header);
    if (it == head.fields.end()) return;
    name = it->value();
  }
  const ClusterEntry* entry = clusters ? clusters->find(name) : nullptr;
  if (entry == nullptr) return;
  RequestHead shadow = head;
  // Envoy marks shadow traffic by suffixing the authority with "-shadow".
  std::string host(shadow.fields[http::field::host]);
  if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos)
    host.insert(colon, "-shadow");
  else
    host += "-shadow";
  shadow.fields.set(http::field::host, host);
  auto request = std::make_shared<std::string>();
  appendRequestHead(shadow, *request);
  request->append(body);
  asio::co_spawn(executor, sendMirror(std::move(request), head.method == http::verb::head, *entry, worker), asio::detached);
}

}  // namespace monomesh::proxy
