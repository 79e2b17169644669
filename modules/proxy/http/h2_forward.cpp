// The upstream legs of an HTTP/2 downstream request (see h2_exchange.h).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <charconv>
#include <utility>

#include "net/h2/h2_session.h"
#include "net/stream_io.h"
#include "proxy/http/h2_exchange.h"
#include "proxy/http/http1_writer.h"
#include "proxy/http/request_mirror.h"
#include "proxy/http/request_support.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace h2 = net::h2;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kBufferedBodyLimit = 64 * 1024;  // bodies up to this are buffered, so they can be retried
constexpr size_t kChunk = 16 * 1024;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

int grpcStatusOf(const h2::Headers& headers) {
  const std::string* v = h2::findHeader(headers, "grpc-status");
  int code = -1;
  if (v) std::from_chars(v->data(), v->data() + v->size(), code);
  return code;
}

enum class RelayEnd { ended, source_reset, sink_failed };

// Copies one HTTP/2 stream's body to another, trailers included, until the source ends.
asio::awaitable<RelayEnd> relay(h2::Stream& from, h2::Stream& to, uint64_t& bytes) {
  for (;;) {
    auto r = co_await from.read();
    if (r.status == h2::Stream::ReadStatus::reset) co_return RelayEnd::source_reset;
    if (r.status == h2::Stream::ReadStatus::end) {
      // (No co_await inside ?: or a switch condition: GCC 12 miscompiles those.)
      bool ok = true;
      if (from.trailers().empty()) {
        ok = co_await to.write(std::string(), true);
      } else {
        ok = to.finishWithTrailers(from.trailers());
      }
      co_return ok ? RelayEnd::ended : RelayEnd::sink_failed;
    }
    bytes += r.data.size();
    if (!co_await to.write(std::move(r.data), false)) co_return RelayEnd::sink_failed;
  }
}

// The client's body to an upstream HTTP/2 stream; a client that gives up resets the upstream.
asio::awaitable<void> pumpToHttp2(std::shared_ptr<h2::Stream> from, std::shared_ptr<h2::Stream> to, uint64_t& bytes) {
  RelayEnd end = co_await relay(*from, *to, bytes);
  if (end == RelayEnd::source_reset) to->reset();
}

}  // namespace

asio::awaitable<void> H2Exchange::forward(const VirtualHost& vh, const Route& route, RequestContext& ctx) {
  const HcmStats& stats = *conn_->config->stats;
  ProxyWorker& worker = conn_->worker;
  auto [cluster_name, weighted] = chooseCluster(route, fields_, ctx.random);
  weighted_ = weighted;
  if (!conn_->config->access_logs.empty()) cluster_ = cluster_name;  // text only for a log
  auto clusters = worker.clusters();  // held for the whole exchange
  const ClusterEntry* entry = clusters ? clusters->find(cluster_name) : nullptr;
  if (entry == nullptr) {
    stats.no_cluster->inc();
    co_return co_await localReply(503, "", "NC");
  }
  const ClusterInfo& cluster = *entry->info;
  const ClusterStats& cstats = *cluster.stats;
  rewritten_ = path_;
  applyRequestRewrites(*routes_, vh, route, weighted, rewritten_, fields_);

  // Small bodies are read first, so that the request can be retried.
  std::string body;
  bool buffered = down_->inputEnded();
  auto length = fields_.find(http::field::content_length);
  size_t declared = 0;
  bool small = length != fields_.end() &&
               std::from_chars(length->value().data(), length->value().data() + length->value().size(), declared).ec ==
                   std::errc() &&
               declared <= kBufferedBodyLimit;
  // (A request that has ended without a body, a GET, needs no read and no coroutine frame for one.)
  if ((buffered || small) && !(buffered && down_->buffered() == 0)) {
    body = co_await readBody(kBufferedBodyLimit, buffered);
    if (!buffered) {
      // More than announced, or the client gave up: nothing sensible can be forwarded.
      co_return co_await localReply(400, "request body does not match content-length", "DPE");
    }
  }
  bytes_in_ = body.size();
  if (buffered && !route.mirrors.empty()) {
    // The shadow copy is an HTTP/1.1 request with the rewritten path and the body read above.
    RequestHead copy;
    copy.method = http::string_to_verb(method_);
    copy.method_string = method_;
    copy.target = rewritten_;
    for (const auto& f : fields_)
      if (!isHopByHop(f.name()) && f.name() != http::field::content_length) copy.fields.insert(f.name(), f.name_string(), f.value());
    // Framed as Beast's prepare_payload frames a request.
    if (!body.empty() || copy.method == http::verb::options || copy.method == http::verb::put || copy.method == http::verb::post)
      copy.fields.set(http::field::content_length, std::to_string(body.size()));
    for (const auto& m : route.mirrors)
      if ((ctx.random >> 7) % 1000000 < m.per_million) mirrorRequest(m, copy, body, worker, down_->executor());
  }
  const RetryPolicy* retry = route.retry ? &*route.retry : (vh.retry ? &*vh.retry : nullptr);
  uint32_t attempts = (retry && buffered) ? retry->num_retries + 1 : 1;
  auto timeout = requestTimeout(route, retry, fields_, !conn_->config->suppress_envoy_headers);
  auto deadline = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
  std::optional<uint64_t> hash = requestHash(route, fields_, conn_->remote);
  bool replay = false;  // the last attempt found its pooled connection closed: again, at once
  for (uint32_t attempt = 0; attempt < attempts; ++attempt) {
    bool last = attempt + 1 == attempts;
    bool replaying = std::exchange(replay, false);
    if (attempt > 0 && !replaying && !co_await retryBackoff(cluster, *retry, attempt, worker.random)) break;
    Host* chosen = worker.balancer(cluster).choose(*entry->hosts, hash,
                                                   retry && retry->previous_hosts ? tried_ : std::vector<const Host*>{},
                                                   Clock::now(), worker.random);
    if (chosen == nullptr) co_return co_await localReply(503, "no healthy upstream", "UH");
    tried_.push_back(chosen);
    HostPtr host;
    for (const auto& h : entry->hosts->hosts)
      if (h.get() == chosen) host = h;
    if (!conn_->config->access_logs.empty()) upstream_host_ = host->str();  // text only for a log
    if (cluster.breakers->requests.load(std::memory_order_relaxed) >= cluster.limits.max_requests) {
      cstats.rq_pending_overflow->inc();
      co_return co_await localReply(
          503, "upstream connect error or disconnect/reset before headers. reset reason: overflow", "UO", overloaded());
    }
    ActiveUpstreamRequest active(cluster, *host);
    auto try_deadline = deadline;
    if (retry && retry->per_try_timeout.count() > 0) try_deadline = std::min(deadline, Clock::now() + retry->per_try_timeout);
    Outcome outcome;
    if (!upgrade_.empty()) {
      outcome = co_await toUpgrade(*entry, host, try_deadline);  // (h2_upgrade.cpp)
    } else if (cluster.http2) {
      outcome = co_await toHttp2(*entry, host, body, buffered, try_deadline, retry, last);
    } else {
      outcome = co_await toHttp1(*entry, host, body, buffered, try_deadline, retry, last, replaying);
    }
    if (outcome == Outcome::Replay) {
      replay = true;
      ++attempts;
      continue;
    }
    if (outcome != Outcome::Retry) co_return;
  }
  co_await localReply(503, "upstream connect error or disconnect/reset before headers. retries exhausted", "URX");
}

asio::awaitable<H2Exchange::Outcome> H2Exchange::toHttp2(const ClusterEntry& entry, HostPtr host, const std::string& body,
                                                         bool buffered, Clock::time_point deadline,
                                                         const RetryPolicy* retry, bool last) {
  const ClusterInfo& cluster = *entry.info;
  const ClusterStats& cstats = *cluster.stats;
  auto acquired = co_await conn_->worker.h2_pool.acquire(entry.info, host);
  if (!acquired.session) {
    if (acquired.error == ConnectError::Overflow) {
      co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: overflow", "UO",
                          overloaded());
      co_return Outcome::Failed;
    }
    recordOutcome(cluster, *host, 503, *entry.hosts);
    if (retriesConnectFailure(retry, last)) co_return Outcome::Retry;
    co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
                        tried_.size() > 1 ? "URX,UF" : "UF");
    co_return Outcome::Failed;
  }
  // (An HTTP/2 request has no connection-specific headers: nghttp2 refuses them; TE may only be
  // "trailers", which gRPC needs.)
  http2RequestHeaders(out_headers_, method_, cluster.tls != nullptr, rewritten_, fields_, /*keep_te=*/true);
  bool no_body = buffered && body.empty();
  auto up = acquired.session->openStream(out_headers_.refs(), no_body);
  if (!up) {
    if (!last && retry && (retry->on_refused_stream || retry->on_reset)) co_return Outcome::Retry;
    co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: refused stream", "UF");
    co_return Outcome::Failed;
  }
  auto sent_at = Clock::now();
  auto executor = co_await asio::this_coro::executor;
  StreamDeadline timer(executor, up, deadline);
  if (!no_body) {
    if (buffered) {
      co_await up->write(body, true);
    } else {
      asio::co_spawn(executor, pumpToHttp2(down_, up, bytes_in_), asio::detached);
    }
  }
  bool got = co_await up->waitHeaders();
  if (!got) {
    if (timer.expired()) {
      cstats.rq_timeout->inc();
      conn_->config->stats->rq_timeout->inc();
      co_await localReply(504, "upstream request timeout", "UT");
      co_return Outcome::Failed;
    }
    recordOutcome(cluster, *host, 503, *entry.hosts);
    bool refused = up->errorCode() == 0x7;
    if (!last && retry && (retry->on_reset || (refused && retry->on_refused_stream) || retry->on_5xx)) co_return Outcome::Retry;
    co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: remote reset", "UR");
    co_return Outcome::Failed;
  }
  unsigned status = 0;
  if (const std::string* s = h2::findHeader(up->headers(), ":status")) std::from_chars(s->data(), s->data() + s->size(), status);
  recordOutcome(cluster, *host, status, *entry.hosts);
  countUpstreamStatus(cstats, status);
  bool headers_only = up->inputEnded() && up->buffered() == 0;
  if (!last && retry && (retry->retriesStatus(status) || (headers_only && retry->retriesGrpc(grpcStatusOf(up->headers()))))) {
    up->reset();
    co_return Outcome::Retry;
  }
  Fields& response = response_.fields;
  response.clear();
  for (const auto& h : up->headers())
    if (!h.name.empty() && h.name[0] != ':') response.insert(h.name, h.value);
  down_->respond(responseHeaders(status, response, sent_at), headers_only);
  if (headers_only) co_return Outcome::Answered;
  RelayEnd end = co_await relay(*up, *down_, bytes_out_);
  if (!conn_->config->access_logs.empty())
    for (const auto& h : up->trailers()) response_trailers_.insert(h.name, h.value);
  switch (end) {
    case RelayEnd::ended: break;
    case RelayEnd::sink_failed: up->reset(); break;  // the client went away
    case RelayEnd::source_reset:
      // Reset mid-response: the client's stream is reset too (its status is already out).
      flags_ = timer.expired() ? "UT" : "UR";
      down_->reset(0x2);
      break;
  }
  co_return Outcome::Answered;
}

asio::awaitable<H2Exchange::Outcome> H2Exchange::toHttp1(const ClusterEntry& entry, HostPtr host, const std::string& body,
                                                         bool buffered, Clock::time_point deadline,
                                                         const RetryPolicy* retry, bool last, bool fresh) {
  const ClusterInfo& cluster = *entry.info;
  const ClusterStats& cstats = *cluster.stats;
  ProxyWorker& worker = conn_->worker;
  auto wait_until = deadline == Clock::time_point::max() ? Clock::now() + std::chrono::seconds(60) : deadline;
  // A keep-alive connection without acquire()'s coroutine, as most requests find one.
  ConnectionPool::Acquired acquired;
  if (!fresh) acquired.connection = worker.pool.takeIdle(cluster, host.get(), /*verify=*/!buffered);
  acquired.reused = acquired.connection != nullptr;
  if (!acquired.connection)
    acquired = co_await worker.pool.acquire(entry.info, host, /*reuse=*/false, /*verify=*/!buffered, wait_until);
  if (acquired.error == ConnectError::PendingTimeout) {
    cstats.rq_timeout->inc();
    co_await localReply(504, "upstream request timeout", "UT");
    co_return Outcome::Failed;
  }
  if (acquired.error == ConnectError::Overflow) {
    co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: overflow", "UO",
                        overloaded());
    co_return Outcome::Failed;
  }
  if (!acquired.connection) {
    transport_failure_ = std::move(acquired.failure_reason);
    recordOutcome(cluster, *host, 503, *entry.hosts);
    if (retriesConnectFailure(retry, last)) co_return Outcome::Retry;
    co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
                        tried_.size() > 1 ? "URX,UF" : "UF");
    co_return Outcome::Failed;
  }
  UpstreamConnection& up = *acquired.connection;
  upstream_local_ = up.local;
  // The request head, HTTP/1.1, written straight from the request's fields (an HTTP/2 request
  // has no connection-specific headers; TE "trailers" is hop-by-hop here); framing set by us: a
  // body of unknown length goes chunked.
  bool chunked = !buffered;
  std::string& out = request_head_;  // the connection's, kept with its capacity
  out.clear();
  out.reserve(512 + (buffered ? body.size() : 0));
  out.append(method_).append(" ").append(rewritten_).append(" HTTP/1.1\r\n");
  appendFieldLines(
      fields_, [](const Fields::Field& f) { return isHopByHop(f.name()) || f.name() == http::field::content_length; }, out);
  std::string_view method = method_;
  if (buffered && (!body.empty() || (method != "GET" && method != "HEAD"))) {
    out.append("content-length: ").append(std::to_string(body.size())).append("\r\n");
  } else if (chunked) {
    out.append("transfer-encoding: chunked\r\n");
  }
  out.append("\r\n");
  if (buffered) out += body;
  up.io.deadline().expiresAt(wait_until);
  auto sent_at = Clock::now();
  std::array<asio::const_buffer, 1> request{asio::buffer(out)};
  net::IoResult wec_w = up.io.writeNow(request);
  if (wec_w.unfinished()) wec_w = co_await up.io.write(request, wec_w.bytes);
  boost::system::error_code wec = wec_w.ec;
  bool ok = !wec;
  while (ok && chunked) {
    auto r = co_await down_->read();
    std::string frame;
    if (r.status == h2::Stream::ReadStatus::data) {
      if (r.data.empty()) continue;
      bytes_in_ += r.data.size();
      appendChunkSize(r.data.size(), frame);
      frame += r.data;
      frame += kCrlf;
    } else if (r.status == h2::Stream::ReadStatus::end) {
      frame = std::string(kLastChunk);
      chunked = false;
    } else {
      ok = false;  // the client gave up
      break;
    }
    std::array<asio::const_buffer, 1> piece{asio::buffer(frame)};
    net::IoResult bec_w = up.io.writeNow(piece);
    if (bec_w.unfinished()) bec_w = co_await up.io.write(piece, bec_w.bytes);
    boost::system::error_code bec = bec_w.ec;
    ok = !bec;
  }
  ResponseHead& response = response_;
  ResponseParser rp(response);
  rp.header_limit(uint32_t(conn_->config->max_request_headers_bytes));
  rp.body_limit(boost::none);
  if (method == "HEAD") rp.skip(true);
  beast::error_code rec;
  if (ok) {
    // The head read inline: a readHeader() coroutine would be one frame more per request.
    net::MessageRead<false> read(up.io, up.buffer, rp, net::ReadUntil::Header);
    while (!read.done()) {
      auto [hec, hn] = co_await up.io.asyncReadSome(read.space(), nothrow);
      read.received(hec, hn);
    }
    rec = read.result().ec;
  }
  if (buffered && staleReusedConnection(acquired.reused, up.buffer.size(), ok ? rec : wec)) co_return Outcome::Replay;
  if (!ok || rec) {
    bool timeout = rec == beast::error::timeout;
    recordOutcome(cluster, *host, timeout ? 504 : 503, *entry.hosts);
    if (timeout) {
      cstats.rq_timeout->inc();
      co_await localReply(504, "upstream request timeout", "UT");
      co_return Outcome::Failed;
    }
    if (!last && retry && (retry->on_reset || retry->on_5xx || retry->on_gateway_error)) co_return Outcome::Retry;
    co_await localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
                        "UC");
    co_return Outcome::Failed;
  }
  unsigned status = response.status;
  recordOutcome(cluster, *host, status, *entry.hosts);
  countUpstreamStatus(cstats, status);
  ++up.requests;
  if (!last && retry && retry->retriesStatus(status)) co_return Outcome::Retry;
  bool keep = rp.keep_alive();
  down_->respond(responseHeaders(status, response.fields, sent_at), rp.is_done());
  // Each piece is read into the string that goes to the client (no copy), sized to the body when
  // it is small and known (the common case): no 16 KiB buffer per request.
  size_t chunk_size = rp.content_length() && *rp.content_length() > 0 ? std::min<size_t>(*rp.content_length(), kChunk) : kChunk;
  while (!rp.is_done()) {
    std::string piece(chunk_size, '\0');
    rp.bodyWindow(piece.data(), chunk_size);
    // The body is usually buffered already, behind the head: parsed without a read.
    net::MessageRead<false> read(up.io, up.buffer, rp, net::ReadUntil::Progress);
    while (!read.done()) {
      auto [rec2, rn] = co_await up.io.asyncReadSome(read.space(), nothrow);
      read.received(rec2, rn);
    }
    auto bec = read.result().ec;
    size_t got = chunk_size - rp.windowLeft();
    if (bec == http::error::need_buffer) bec = {};
    if (bec) {
      flags_ = bec == beast::error::timeout ? "UT" : "UC";
      down_->reset(0x2);
      keep = false;
      break;
    }
    // Sent without a coroutine; one waits only while the client is slower than the upstream.
    bool sent = true;
    if (got > 0) {
      bytes_out_ += got;
      piece.resize(got);
      sent = down_->send(std::move(piece), rp.is_done());
    } else if (rp.is_done()) {
      sent = down_->send(std::string(), true);
    }
    if (sent && down_->congested()) sent = co_await down_->drained();
    if (!sent) {
      keep = false;
      break;
    }
  }
  worker.pool.release(std::move(acquired.connection), keep && rp.is_done());
  co_return Outcome::Answered;
}

}  // namespace monomesh::proxy
