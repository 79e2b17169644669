#include "proxy/http/http2_connection.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/async_event.h"
#include "net/grpc/grpc_status.h"
#include <charconv>

#include "net/h2/h2_session.h"
#include "observe/log.h"
#include "proxy/http/h2_exchange.h"
#include "proxy/http/request_support.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace h2 = net::h2;
using Clock = std::chrono::steady_clock;

namespace {

// A connection keeps the buffers of at most this many finished exchanges (its busiest moment's).
constexpr size_t kKeptExchanges = 32;
constexpr size_t kKeptRequestHead = 16 * 1024;

// A number as text in `out`, without an allocation.
template <size_t N>
std::string_view decimal(std::array<char, N>& out, uint64_t value) {
  auto end = std::to_chars(out.data(), out.data() + N, value).ptr;
  return std::string_view(out.data(), size_t(end - out.data()));
}

// A finished exchange's buffers, or new ones.

std::unique_ptr<H2ExchangeBuffers> takeBuffers(H2Downstream& conn) {
  if (conn.spare.empty()) return std::make_unique<H2ExchangeBuffers>();
  auto kept = std::move(conn.spare.back());
  conn.spare.pop_back();
  return kept;
}

}  // namespace

H2Exchange::H2Exchange(std::shared_ptr<H2Downstream> conn, std::shared_ptr<h2::Stream> down)
    : conn_(std::move(conn)), down_(std::move(down)), kept_(takeBuffers(*conn_)) {}

H2Exchange::~H2Exchange() {
  if (conn_->spare.size() >= kKeptExchanges) return;
  H2ExchangeBuffers& kept = *kept_;
  kept.fields.clear();
  kept.response_fields.clear();
  kept.response.clear();
  if (kept.request_head.capacity() > kKeptRequestHead) std::string().swap(kept.request_head);
  kept.request_head.clear();
  kept.out_headers.clear();
  kept.tried.clear();
  conn_->spare.push_back(std::move(kept_));
}

asio::awaitable<void> serveHttp2(net::MaybeTlsStream stream, std::string preread, std::shared_ptr<const HcmConfig> config,
                                 ProxyWorker& worker, bool counted) {
  auto conn = std::make_shared<H2Downstream>(H2Downstream{config, worker, {}, {}, stream.isTls()});
  boost::system::error_code ec;
  conn->remote = stream.socket().remote_endpoint(ec);
  conn->local = stream.socket().local_endpoint(ec);
  if (!config->access_logs.empty()) conn->server_name = stream.serverName();
  const HcmStats& stats = *config->stats;
  if (!counted) stats.cx_total->inc();
  stats.cx_active->inc();
  ++worker.connections;
  h2::H2Options options = config->h2;
  options.idle_timeout = config->idle_timeout;  // the HCM's idle_timeout: no stream for this long
  net::AsyncEvent closed;
  bool is_closed = false;
  auto session = h2::Session::create(
      h2::Session::Role::server, net::makeTransport(std::move(stream)), options,
      {[conn](std::shared_ptr<h2::Stream> s) {
         auto exchange = std::make_unique<H2Exchange>(conn, s);
         H2Exchange& served = *exchange;
         asio::co_spawn(s->executor(), served.run(std::move(exchange)), asio::detached);
       },
       [&closed, &is_closed] {
         is_closed = true;
         closed.notify();
       }},
      &worker.h2_downstream);
  worker.h2_sessions.emplace(session.get(), config.get());
  session->start(preread);
  if (worker.draining || config->isDraining()) session->shutdown();
  while (!is_closed) co_await closed.wait();
  worker.h2_sessions.erase(session.get());
  --worker.connections;
  stats.cx_active->dec();
  stats.cx_destroy->inc();
}

asio::awaitable<void> H2Exchange::run(std::unique_ptr<H2Exchange> /*self*/) {
  const HcmConfig& config = *conn_->config;
  const HcmStats& stats = *config.stats;
  stats.rq_active->inc();
  struct ActiveGuard {
    const HcmStats& s;
    ~ActiveGuard() { s.rq_active->dec(); }
  } guard{stats};

  // (Compared as views: std::string == "literal" is a strlen and an out-of-line compare each.)
  for (const auto& h : down_->headers()) {
    std::string_view name = h.name;
    if (name.empty()) continue;
    if (name[0] != ':') {
      fields_.insert(name, h.value);
    } else if (name == ":method") {
      method_ = h.value;
    } else if (name == ":path") {
      path_ = h.value;
    } else if (name == ":scheme") {
      scheme_ = h.value;
    } else if (name == ":authority") {
      authority_ = h.value;
    }
  }
  if (authority_.empty()) authority_ = std::string(fields_[http::field::host]);
  fields_.set(http::field::host, authority_);
  if (std::string_view(method_) == "CONNECT") {
    upgrade_ = extendedConnectToUpgrade();
    if (upgrade_.empty()) {
      co_await localReply(403, "CONNECT is not allowed", "");
      co_return finish();
    }
  }
  if (config.generate_request_id && fields_.find("x-request-id") == fields_.end())
    fields_.set("x-request-id", uuid4(conn_->worker.random, request_id_));
  const char* proto = conn_->tls ? "https" : "http";
  if (config.use_remote_address) {
    if (!config.skip_xff_append) {
      std::string ip = conn_->remote.address().to_string();
      auto xff = fields_.find("x-forwarded-for");
      fields_.set("x-forwarded-for", xff == fields_.end() ? ip : std::string(xff->value()) + "," + ip);
    }
    fields_.set("x-forwarded-proto", proto);
  } else if (fields_.find("x-forwarded-proto") == fields_.end()) {
    fields_.set("x-forwarded-proto", proto);
  }

  RequestContext ctx{fields_, method_, path_};
  ctx.random = conn_->worker.random();
  auto runtime_values = conn_->worker.runtimeValues();  // held for the request
  ctx.runtime = runtime_values.get();
  routes_ = config.routeTable(conn_->worker.index);
  const RouteTable* table = routes_.get();
  vh_ = table ? table->findVirtualHost(authority_) : nullptr;
  route_ = vh_ ? table->findRoute(*vh_, method_, path_, fields_, ctx.random, ctx.runtime) : nullptr;
  ctx.vhost = vh_;
  ctx.route = route_;
  if (vh_ != nullptr && vh_->require_tls && !conn_->tls) {
    HeaderList location;
    location.emplace_back("location", "https://" + authority_ + path_);
    co_await localReply(301, "", "", std::move(location));
    co_return finish();
  }
  for (const auto& filter : config.filters) {
    FilterResult result = filter.on_request(filter.config.get(), ctx);
    if (result.kind == FilterResult::Kind::Delay) {
      asio::steady_timer timer(co_await asio::this_coro::executor, result.delay);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    } else if (result.kind == FilterResult::Kind::LocalReply) {
      extra_response_headers_ = ctx.response_headers;
      co_await localReply(result.status, std::move(result.body), ctx.response_flags);
      co_return finish();
    }
  }
  flags_ = ctx.response_flags;
  extra_response_headers_ = ctx.response_headers;
  if (route_ == nullptr) {
    stats.no_route->inc();
    co_await localReply(404, "", "NR");
    co_return finish();
  }
  if (!config.access_logs.empty()) route_name_ = route_->name;  // text only for a log
  if (route_->action == Route::Action::DirectResponse) {
    stats.rq_direct_response->inc();
    co_await localReply(route_->direct_status, route_->direct_body, "", directResponseHeaders(*table, *vh_, *route_));
  } else if (route_->action == Route::Action::Redirect) {
    stats.rq_redirect->inc();
    HeaderList location;
    location.emplace_back("location", redirectLocation(*route_, authority_, path_, proto));
    co_await localReply(route_->redirect_code, "", "", std::move(location));
  } else if (!upgrade_.empty() && !(beast::iequals(upgrade_, "websocket") && (route_->websocket || config.websocket))) {
    co_await localReply(403, "upgrade not allowed", "");
  } else {
    co_await forward(*vh_, *route_, ctx);
  }
  finish();
}

asio::awaitable<void> H2Exchange::localReply(unsigned status, std::string body, std::string_view flags,
                                             HeaderList headers) {
  status_ = status;
  if (!flags.empty()) flags_ = std::string(flags);
  if (beast::iequals(std::string_view(fields_[http::field::content_type]).substr(0, 16), "application/grpc")) {
    // A gRPC client reads only grpc-status: the answer is trailers-only, as Envoy sends it.
    h2::Headers grpc_out = {{":status", "200"},
                            {"content-type", "application/grpc"},
                            {"grpc-status", std::to_string(static_cast<int>(net::grpc::statusFromHttp(int(status))))},
                            {"server", conn_->config->server_name}};
    if (!body.empty()) grpc_out.push_back({"grpc-message", net::grpc::encodeGrpcMessage(body)});
    for (auto& [k, v] : extra_response_headers_) grpc_out.push_back({k, v});
    for (auto& [k, v] : headers) grpc_out.push_back({std::move(k), std::move(v)});
    down_->respond(grpc_out, true);
    co_return;
  }
  h2::Headers out = {{":status", std::to_string(status)}, {"server", conn_->config->server_name}};
  if (!body.empty()) {
    out.push_back({"content-type", "text/plain"});
    out.push_back({"content-length", std::to_string(body.size())});
  }
  for (auto& [k, v] : extra_response_headers_) out.push_back({k, v});
  for (auto& [k, v] : headers) out.push_back({std::move(k), std::move(v)});
  if (!conn_->config->access_logs.empty())
    for (const auto& h : out)
      if (h.name[0] != ':') response_fields_.insert(h.name, h.value);
  // The client may still be sending: it is told to stop once the answer is complete.
  down_->respond(out, body.empty());
  if (!body.empty()) {
    bytes_out_ = body.size();
    co_await down_->write(std::move(body), true);
  }
}

std::span<const h2::HeaderRef> H2Exchange::responseHeaders(unsigned status, const Fields& upstream,
                                                           Clock::time_point sent_at) {
  status_ = status;
  const HcmConfig& config = *conn_->config;
  if (!config.access_logs.empty()) response_start_ = Clock::now();
  std::string_view service_ms = decimal(
      service_ms_, uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent_at).count()));
  bool rewrites = !route_->response_headers.empty() || (weighted_ && !weighted_->response_headers.empty()) ||
                  !vh_->response_headers.empty() || !routes_->responseHeaders().empty();
  out_headers_.clear();
  out_headers_.add(":status", decimal(status_text_, status));
  if (!rewrites) {
    // The common case: the upstream's headers as they are, viewed straight into the HTTP/2 block.
    for (const auto& h : upstream) {
      if (isHopByHop(h.name()) || h.name() == http::field::server || beast::iequals(h.name_string(), "x-envoy-upstream-service-time"))
        continue;
      out_headers_.add(h);
    }
    out_headers_.add("x-envoy-upstream-service-time", service_ms);
    out_headers_.add("server", config.server_name);
    for (auto& [k, v] : extra_response_headers_) out_headers_.add(k, v);
    auto refs = out_headers_.refs();
    if (!config.access_logs.empty())
      for (const auto& h : refs)
        if (h.name[0] != ':') response_fields_.insert(h.name, h.value);
    return refs;
  }
  // Rewritten in response_fields_, which holds them while they are sent (and for access logs).
  response_fields_ = upstream;
  stripHopByHop(response_fields_, false);
  response_fields_.set("x-envoy-upstream-service-time", service_ms);
  response_fields_.set(http::field::server, config.server_name);
  for (auto& [k, v] : extra_response_headers_) response_fields_.insert(k, v);
  applyResponseRewrites(*routes_, *vh_, *route_, weighted_, response_fields_);
  for (const auto& h : response_fields_) out_headers_.add(h);
  return out_headers_.refs();
}

asio::awaitable<std::string> H2Exchange::readBody(size_t limit, bool& complete) {
  std::string body;
  complete = false;
  for (;;) {
    if (down_->inputEnded() && down_->buffered() == 0) {
      complete = true;
      co_return body;
    }
    if (body.size() + down_->buffered() > limit) co_return body;
    auto r = co_await down_->read();
    if (r.status == h2::Stream::ReadStatus::data) {
      body += r.data;
    } else {
      complete = r.status == h2::Stream::ReadStatus::end;
      co_return body;
    }
  }
}

void H2Exchange::finish() {
  const HcmConfig& config = *conn_->config;
  countStatus(*config.stats, status_);
  if (config.access_logs.empty()) return;
  AccessLogEntry e;
  e.start = start_;
  e.method = method_;
  e.path = path_;
  e.protocol = "HTTP/2";
  e.request_headers = &fields_;
  e.response_headers = &response_fields_;
  e.response_code = status_;
  e.response_flags = flags_;
  e.bytes_received = bytes_in_;
  e.bytes_sent = bytes_out_;
  e.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_steady_);
  e.upstream_host = upstream_host_;
  e.upstream_cluster = cluster_;
  e.route_name = route_name_;
  e.downstream_remote = conn_->remote;
  e.downstream_local = conn_->local;
  e.response_trailers = &response_trailers_;
  if (response_start_) e.response_duration = std::chrono::duration_cast<std::chrono::milliseconds>(*response_start_ - start_steady_);
  e.upstream_local = upstream_local_;
  e.upstream_transport_failure_reason = transport_failure_;
  e.requested_server_name = conn_->server_name;
  auto runtime = conn_->worker.runtimeValues();
  e.runtime = runtime.get();
  e.random = conn_->worker.random();
  for (const auto& logger : config.access_logs) logger->log(e);
}

}  // namespace monomesh::proxy
