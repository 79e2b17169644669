#include "proxy/http/http1_connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <charconv>
#include <utility>

#include "observe/log.h"
#include "proxy/config/proto_values.h"
#include "proxy/http/h2_header_list.h"
#include "proxy/http/http1_message.h"
#include "proxy/http/http1_writer.h"
#include "proxy/http/http2_connection.h"
#include "net/h2/h2_session.h"
#include "net/stream_io.h"
#include "proxy/http/request_mirror.h"
#include "proxy/http/request_support.h"
#include "proxy/tcp/byte_pump.h"

namespace monomesh::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunk = 16 * 1024;
constexpr size_t kBufferedBodyLimit = 64 * 1024;  // bodies up to this are buffered, so they can be retried
// A closing connection reads (and drops) what the client still sends for this long, this much.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 256 * 1024;

// Headers the proxy sets, their ids looked up once.
const HeaderName kRequestId("x-request-id");
const HeaderName kForwardedFor("x-forwarded-for");
const HeaderName kForwardedProto("x-forwarded-proto");
const HeaderName kUpstreamServiceTime("x-envoy-upstream-service-time");

// A number as header text, without a heap string (SSO).
std::string decimal(uint64_t value) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), value);
  (void)ec;
  return std::string(text, end);
}


class Http1Session {
 public:
  Http1Session(net::MaybeTlsStream stream, std::shared_ptr<const HcmConfig> config, ProxyWorker& worker)
      : down_(std::move(stream)), config_(std::move(config)), worker_(worker), chunk_(new char[kChunk]) {
    boost::system::error_code ec;
    remote_ = down_.socket().remote_endpoint(ec);
    local_ = down_.socket().local_endpoint(ec);
  }

  ~Http1Session() { *alive_ = false; }
  // The proxy drains, or this connection's listener was removed or replaced.
  bool draining() const noexcept { return worker_.draining || config_->isDraining(); }
  asio::awaitable<void> run();
  // After run(): the client spoke HTTP/2 (prior knowledge); the bytes read so far, preface included.
  bool wantsHttp2() const noexcept { return !h2_preread_.empty(); }
  std::string takePreread() { return std::move(h2_preread_); }
  net::MaybeTlsStream takeStream() {
    io_.deadline().stop();  // the HTTP/2 connection manager keeps its own timers
    return std::move(down_);
  }

 private:
  struct RequestState {
    std::string method;
    std::string_view target;  // the request head's, until forwarding rewrites it in place
    std::string original_target;  // for access logs only (as route_name, cluster, upstream_host)
    bool head = false;
    bool keep_alive = true;
    unsigned status = 0;
    std::string flags;
    uint64_t bytes_in = 0, bytes_out = 0;
    std::string upstream_host, cluster;
    std::string route_name;
    std::chrono::system_clock::time_point start;
    Clock::time_point start_steady;
    HeaderMap response_headers;  // for access logs only, as the three below
    std::optional<Clock::time_point> response_start;
    tcp::endpoint upstream_local;
    std::string transport_failure;
    std::vector<std::pair<std::string, std::string>> extra_response_headers;
    std::shared_ptr<const RouteTable> routes;  // held for the request (RDS may publish others meanwhile)
  };

  asio::awaitable<bool> handleRequest(RequestParser& parser);
  asio::awaitable<bool> localReply(RequestState& rs, unsigned status, std::string body, const char* flags,
                                   std::vector<std::pair<std::string, std::string>> headers = {});
  // A reply to a request that could not be read; the connection closes after it.
  asio::awaitable<void> rejectAndClose(unsigned status, std::string body, const char* flags) {
    RequestState rs;
    rs.start = std::chrono::system_clock::now();
    rs.keep_alive = false;
    co_await localReply(rs, status, std::move(body), flags);
  }
  asio::awaitable<bool> forward(RequestState& rs, RequestParser& parser, const VirtualHost& vh, const Route& route,
                                RequestContext& ctx);
  asio::awaitable<bool> tunnel(UpstreamConnection& up);
  // The response head the client gets: hop-by-hop dropped, the proxy's headers added, rewrites,
  // and the framing (length, chunked, or close for HTTP/1.0). Returns whether to keep alive.
  bool prepareResponseHead(RequestState& rs, ResponseHead& res, const Route& route, const VirtualHost& vh,
                           const WeightedTarget* weighted, int64_t service_ms, std::optional<uint64_t> content_length,
                           bool unknown_length, unsigned request_version, bool& chunked_down);
  // One attempt over an HTTP/2 upstream (the cluster's http2_protocol_options): nullopt to retry,
  // else whether the client connection stays open.
  asio::awaitable<std::optional<bool>> exchangeHttp2(RequestState& rs, RequestParser& parser,
                                                     const std::string& body, bool buffered, const Route& route,
                                                     const VirtualHost& vh, const WeightedTarget* weighted,
                                                     const ClusterEntry& entry, HostPtr host, Clock::time_point deadline,
                                                     const RetryPolicy* retry, bool last);
  asio::awaitable<bool> drainRequestBody(RequestParser& parser, std::string* into, size_t limit);
  // Shuts our side down, then reads until the client closes too (briefly), then closes.
  asio::awaitable<void> closeGracefully();
  void finish(RequestState& rs, const HeaderMap& request_fields);

  net::MaybeTlsStream down_;
  net::StreamIo io_{down_.get_executor(), down_};
  beast::flat_buffer buffer_;
  std::shared_ptr<const HcmConfig> config_;
  ProxyWorker& worker_;
  std::unique_ptr<char[]> chunk_;
  std::string head_, frame_;  // reused for every message head and chunk-size line
  H2HeaderList h2_head_;      // an HTTP/2 upstream's request headers, reused likewise
  // The current request's and response's heads, and their parsers (Beast's parsers are made per
  // message); the heads keep their memory from one message to the next.
  RequestHead request_;
  ResponseHead response_;
  std::optional<RequestParser> request_parser_;
  std::optional<ResponseParser> response_parser_;
  // While a request is being received, HCM request_timeout bounds it as a whole.
  Clock::time_point request_deadline_ = Clock::time_point::max();
  bool request_timed_out_ = false;
  // The stream idle window of the current request (route idle_timeout, else the HCM's).
  std::chrono::milliseconds stream_idle_{300000};
  // Downstream deadline for the next read or write. Between them (while the upstream answers)
  // the upstream's deadline bounds the exchange, as before any operation on a Beast stream.
  void armDown(std::chrono::milliseconds window) { io_.deadline().expiresAfter(window); }
  // HCM request_timeout: its own timer, which only cancels the pending read (the stream's
  // deadline would close the socket), so that a 408 can still be written.
  asio::steady_timer request_timer_{down_.get_executor()};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  void armRequestTimeout() {
    if (request_deadline_ == Clock::time_point::max()) return;
    request_timer_.expires_at(request_deadline_);
    request_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
      if (ec || !*alive || request_deadline_ == Clock::time_point::max()) return;
      request_timed_out_ = true;
      boost::system::error_code ignored;
      down_.socket().cancel(ignored);
    });
  }
  // Upstream deadline: a fixed point (route or per-try timeout), else the stream idle window.
  // The downstream's is off meanwhile (the next downstream read or write sets it again).
  void armUp(UpstreamConnection& up, Clock::time_point deadline) {
    io_.deadline().expiresNever();
    up.io.deadline().expiresAt(deadline == Clock::time_point::max() ? Clock::now() + stream_idle_ : deadline);
  }
  // The whole request has been read: request_timeout no longer applies.
  void requestReceived() {
    if (request_deadline_ != Clock::time_point::max()) request_timer_.cancel();
    request_deadline_ = Clock::time_point::max();
  }
  tcp::endpoint remote_, local_;
  bool waiting_ = false;  // for the next request's header (a drain may close the connection then)
  std::string h2_preread_;
  // Reads the first bytes: true when they are HTTP/2's connection preface (h2c with prior
  // knowledge), then kept in h2_preread_. Otherwise they stay in buffer_ for the HTTP/1 parser.
  asio::awaitable<bool> sniffHttp2Preface();
};

asio::awaitable<bool> Http1Session::sniffHttp2Preface() {
  static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  for (;;) {
    auto data = buffer_.data();
    std::string_view seen(static_cast<const char*>(data.data()), std::min(data.size(), kPreface.size()));
    if (!kPreface.starts_with(seen)) co_return false;  // HTTP/1 (or garbage, which its parser reports)
    if (seen.size() == kPreface.size()) {
      h2_preread_.assign(static_cast<const char*>(data.data()), data.size());
      buffer_.consume(buffer_.size());
      co_return true;
    }
    auto idle = config_->request_headers_timeout.count() > 0 ? config_->request_headers_timeout : config_->idle_timeout;
    armDown(idle);
    auto [ec, n] = co_await io_.readSome(buffer_.prepare(kChunk));
    if (ec) co_return false;  // the HTTP/1 path sees the same end and closes quietly
    buffer_.commit(n);
  }
}

asio::awaitable<void> Http1Session::run() {
  const HcmStats& stats = *config_->stats;
  stats.cx_total->inc();
  stats.cx_active->inc();
  ++worker_.connections;
  if (config_->codec != HcmConfig::Codec::Http1 && co_await sniffHttp2Preface()) {
    --worker_.connections;
    stats.cx_active->dec();
    co_return;  // handed to the HTTP/2 connection manager, still open
  }
  // Known to the worker for the connection's life, so a drain can close it while it waits.
  worker_.http1_connections.emplace(&down_.socket(), ProxyWorker::Http1Connection{config_.get(), &waiting_});
  struct Unregister {
    ProxyWorker& worker;
    tcp::socket* socket;
    ~Unregister() { worker.http1_connections.erase(socket); }
  } unregister{worker_, &down_.socket()};
  for (;;) {
    RequestParser& parser = request_parser_.emplace(request_);
    parser.header_limit(uint32_t(config_->max_request_headers_bytes));
    parser.body_limit(boost::none);  // bodies are streamed; memory stays bounded by the chunk buffer
    auto idle = config_->request_headers_timeout.count() > 0 ? config_->request_headers_timeout : config_->idle_timeout;
    armDown(idle);
    waiting_ = true;
    // Read step by step here (not with net::readHeader): one coroutine frame less per request.
    net::MessageRead<true> read(io_, buffer_, parser, net::ReadUntil::Header);
    while (!read.done()) {
      auto [rec, rn] = co_await io_.asyncReadSome(read.space(), nothrow);
      read.received(rec, rn);
    }
    boost::system::error_code ec = read.result().ec;
    waiting_ = false;
    io_.deadline().expiresNever();  // the request's stream deadlines apply from here
    if (draining() && (ec == asio::error::operation_aborted || ec)) break;
    if (ec) {
      if (ec == http::error::header_limit) {
        stats.header_overflow->inc();
        co_await rejectAndClose(431, "request header too large", "");
      } else if (ec != http::error::end_of_stream && ec != beast::error::timeout && ec != asio::error::eof &&
                 ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
        stats.cx_protocol_error->inc();
        co_await rejectAndClose(400, "bad request", "DPE");
      }
      break;
    }
    if (request_.fields.find(http::field::transfer_encoding) != request_.fields.end() && !parser.chunked()) {
      // RFC 7230 3.3.3: a Transfer-Encoding whose last coding is not chunked cannot be framed.
      stats.cx_protocol_error->inc();
      co_await rejectAndClose(400, "bad request: unsupported transfer-encoding", "DPE");
      break;
    }
    bool keep = false;
    try {
      keep = co_await handleRequest(parser);
    } catch (const std::exception& e) {
      // A bug must cost this connection only, never the worker's bookkeeping.
      observe::logScope("http").error("connection aborted: {}", e.what());
    }
    // A drain that began during this exchange does not close the connection now if its response
    // promised keep-alive: the client may already be sending the next request, which would meet
    // a closed socket. That request is answered with `Connection: close`; a connection that stays
    // idle is closed when the drain time ends.
    if (!keep) break;
  }
  co_await closeGracefully();
  --worker_.connections;
  stats.cx_active->dec();
  stats.cx_destroy->inc();
}

asio::awaitable<void> Http1Session::closeGracefully() {
  if (!down_.socket().is_open()) co_return;  // closed already (a timeout, a tunnel's end)
  // Our side ends first, so the client sees the end right after the last response; what it may
  // still send is read and dropped until it closes too (bounded in time and bytes). Closing with
  // unread bytes would answer with a reset, which can destroy the client's copy of the last
  // response before it is read.
  boost::system::error_code ignored;
  down_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  down_.tcp().expires_after(kLingerTime);
  size_t dropped = 0;
  while (dropped < kLingerBytes) {
    auto [ec, n] = co_await down_.tcp().async_read_some(asio::buffer(chunk_.get(), kChunk), nothrow);
    if (ec) break;
    dropped += n;
  }
  down_.tcp().close();
}

asio::awaitable<bool> Http1Session::localReply(RequestState& rs, unsigned status, std::string body, const char* flags,
                                               std::vector<std::pair<std::string, std::string>> headers) {
  if (request_timed_out_) {
    // The request did not arrive within HCM request_timeout: 408, and the connection closes
    // (the rest of the request is not read).
    config_->stats->rq_timeout->inc();
    status = 408;
    body = "request timeout";
    rs.keep_alive = false;
  }
  // Its own head, not response_: an upstream's answer may still be in there.
  ResponseHead res;
  res.status = status;
  res.fields.insert(http::field::server, config_->server_name);
  if (!body.empty()) res.fields.insert(http::field::content_type, "text/plain");
  for (auto& [k, v] : rs.extra_response_headers) res.fields.insert(k, v);
  for (auto& [k, v] : headers) res.fields.set(k, v);
  bool keep = rs.keep_alive && !draining();
  if (!keep) res.fields.set(http::field::connection, "close");
  if (status < 200 || status == 204 || status == 304) body.clear();  // these carry no body
  // The length is the body's, also for HEAD (whose body is then not sent).
  res.fields.set(http::field::content_length, decimal(body.size()));
  if (rs.head) body.clear();
  rs.status = status;
  if (flags && *flags) rs.flags = flags;
  if (!config_->access_logs.empty()) rs.response_headers = res.fields;
  rs.bytes_out = body.size();
  armDown(stream_idle_);
  head_.clear();
  appendResponseHead(res, head_);
  std::array<asio::const_buffer, 2> out{asio::buffer(head_), asio::buffer(body)};
  net::IoResult ec_w = io_.writeNow(out);
  if (ec_w.unfinished()) ec_w = co_await io_.write(out, ec_w.bytes);
  boost::system::error_code ec = ec_w.ec;
  co_return !ec && keep;
}

asio::awaitable<bool> Http1Session::drainRequestBody(RequestParser& parser, std::string* into, size_t limit) {
  while (!parser.is_done()) {
    parser.bodyWindow(chunk_.get(), kChunk);
    armDown(stream_idle_);
    net::MessageRead<true> read(io_, buffer_, parser, net::ReadUntil::Done);
    while (!read.done()) {
      auto [rec, rn] = co_await io_.asyncReadSome(read.space(), nothrow);
      read.received(rec, rn);
    }
    boost::system::error_code ec = read.result().ec;
    if (ec && ec != http::error::need_buffer) co_return false;
    size_t got = kChunk - parser.windowLeft();
    if (into) {
      if (into->size() + got > limit) co_return false;
      into->append(chunk_.get(), got);
    }
  }
  requestReceived();
  co_return true;
}

void Http1Session::finish(RequestState& rs, const HeaderMap& request_fields) {
  countStatus(*config_->stats, rs.status);
  if (config_->access_logs.empty()) return;
  AccessLogEntry e;
  e.start = rs.start;
  e.method = rs.method;
  e.path = rs.original_target;
  e.request_headers = &request_fields;
  e.response_headers = &rs.response_headers;
  e.response_code = rs.status;
  e.response_flags = rs.flags;
  e.bytes_received = rs.bytes_in;
  e.bytes_sent = rs.bytes_out;
  e.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - rs.start_steady);
  e.upstream_host = rs.upstream_host;
  e.upstream_cluster = rs.cluster;
  e.route_name = rs.route_name;
  e.downstream_remote = remote_;
  e.downstream_local = local_;
  e.upstream_local = rs.upstream_local;
  if (rs.response_start) e.response_duration = std::chrono::duration_cast<std::chrono::milliseconds>(*rs.response_start - rs.start_steady);
  e.upstream_transport_failure_reason = rs.transport_failure;
  e.requested_server_name = down_.serverName();
  auto runtime = worker_.runtimeValues();
  e.runtime = runtime.get();
  e.random = worker_.random();
  for (const auto& logger : config_->access_logs) logger->log(e);
}

asio::awaitable<bool> Http1Session::handleRequest(RequestParser& parser) {
  RequestHead& req = parser.head();
  const HcmStats& stats = *config_->stats;
  stats.rq_active->inc();
  struct ActiveGuard {
    const HcmStats& s;
    ~ActiveGuard() { s.rq_active->dec(); }
  } guard{stats};

  RequestState rs;
  rs.start = std::chrono::system_clock::now();
  rs.start_steady = Clock::now();
  request_timed_out_ = false;
  stream_idle_ = config_->stream_idle_timeout;
  request_deadline_ = parser.is_done() || config_->request_timeout.count() == 0 ? Clock::time_point::max()
                                                                               : rs.start_steady + config_->request_timeout;
  armRequestTimeout();
  rs.method = req.method_string;
  rs.target = req.target;
  bool logged = !config_->access_logs.empty();
  if (logged) rs.original_target = req.target;
  rs.head = req.method == http::verb::head;
  rs.keep_alive = parser.keep_alive();

  // Request headers the proxy owns.
  HeaderMap& fields = req.fields;
  if (config_->generate_request_id && fields.find(kRequestId) == fields.end()) {
    std::array<char, 36> id;
    fields.insert(kRequestId, uuid4(worker_.random, id));
  }
  if (config_->use_remote_address) {
    if (!config_->skip_xff_append) {
      std::string ip = remote_.address().to_string();
      auto xff = fields.find(kForwardedFor);
      fields.set(kForwardedFor, xff == fields.end() ? ip : std::string(xff->value()) + "," + ip);
    }
    fields.set(kForwardedProto, down_.isTls() ? "https" : "http");
  } else if (fields.find(kForwardedProto) == fields.end()) {
    fields.insert(kForwardedProto, down_.isTls() ? "https" : "http");
  }

  std::string host(fields[http::field::host]);
  RequestContext ctx{fields, rs.method, rs.target};
  ctx.random = worker_.random();
  auto runtime_values = worker_.runtimeValues();  // held for the request
  ctx.runtime = runtime_values.get();
  rs.routes = config_->routeTable(worker_.index);
  const RouteTable* table = rs.routes.get();
  const VirtualHost* vh = table ? table->findVirtualHost(host) : nullptr;
  const Route* route = vh ? table->findRoute(*vh, rs.method, rs.target, fields, ctx.random, ctx.runtime) : nullptr;
  ctx.vhost = vh;
  ctx.route = route;

  bool keep = true;
  if (vh != nullptr && vh->require_tls && !down_.isTls()) {
    // The virtual host takes only TLS (a Gateway's httpsRedirect): send the client there.
    if (!co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
    std::vector<std::pair<std::string, std::string>> location;
    location.emplace_back("location", "https://" + host + std::string(rs.target));
    keep = co_await localReply(rs, 301, "", "", std::move(location));
    finish(rs, fields);
    co_return keep;
  }
  // Filters before the router, in order.
  for (const auto& filter : config_->filters) {
    FilterResult result = filter.on_request(filter.config.get(), ctx);
    if (result.kind == FilterResult::Kind::Delay) {
      asio::steady_timer timer(co_await asio::this_coro::executor, result.delay);
      co_await timer.async_wait(nothrow);
    } else if (result.kind == FilterResult::Kind::LocalReply) {
      rs.extra_response_headers = ctx.response_headers;
      if (!co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      keep = co_await localReply(rs, result.status, std::move(result.body), ctx.response_flags.c_str());
      finish(rs, fields);
      co_return keep;
    }
  }
  rs.flags = ctx.response_flags;
  rs.extra_response_headers = ctx.response_headers;

  if (route == nullptr) {
    stats.no_route->inc();
    if (!co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
    keep = co_await localReply(rs, 404, "", "NR");
    finish(rs, fields);
    co_return keep;
  }
  if (logged) rs.route_name = route->name;
  switch (route->action) {
    case Route::Action::DirectResponse: {
      stats.rq_direct_response->inc();
      if (!co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      auto headers = directResponseHeaders(*table, *vh, *route);
      keep = co_await localReply(rs, route->direct_status, route->direct_body, "", std::move(headers));
      finish(rs, fields);
      co_return keep;
    }
    case Route::Action::Redirect: {
      stats.rq_redirect->inc();
      if (!co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      // (A named vector: GCC 12 miscompiles braced initializer lists inside co_await.)
      std::vector<std::pair<std::string, std::string>> location;
      location.emplace_back("location", redirectLocation(*route, host, rs.target, down_.isTls() ? "https" : "http"));
      keep = co_await localReply(rs, route->redirect_code, "", "", std::move(location));
      finish(rs, fields);
      co_return keep;
    }
    default: break;
  }
  keep = co_await forward(rs, parser, *vh, *route, ctx);
  finish(rs, fields);
  co_return keep;
}

asio::awaitable<bool> Http1Session::tunnel(UpstreamConnection& up) {
  // Raw bytes both ways until both sides close; bytes already buffered go first. The pump keeps
  // its own idle timer.
  io_.deadline().stop();
  up.io.deadline().stop();
  ProxyWorker::ScopedTunnel registered(worker_, down_.socket(), config_.get(), up.stream.socket());
  co_await pumpBothWays(down_, buffer_, up.stream, up.buffer, stream_idle_);
  co_return false;
}

bool Http1Session::prepareResponseHead(RequestState& rs, ResponseHead& res, const Route& route,
                                       const VirtualHost& vh, const WeightedTarget* weighted, int64_t service_ms,
                                       std::optional<uint64_t> content_length, bool unknown_length,
                                       unsigned request_version, bool& chunked_down) {
  HeaderMap& fields = res.fields;
  stripHopByHop(fields, false);
  fields.set(kUpstreamServiceTime, decimal(uint64_t(std::max<int64_t>(service_ms, 0))));
  fields.set(http::field::server, config_->server_name);
  for (auto& [k, v] : rs.extra_response_headers) fields.insert(k, v);
  applyResponseRewrites(*rs.routes, vh, route, weighted, fields);
  bool keep = rs.keep_alive && !draining();
  if (!keep) fields.set(http::field::connection, "close");
  // A body without a length (chunked, or delimited by the upstream closing) goes out chunked;
  // HTTP/1.0 clients cannot read chunks: they get the raw body and the connection closes.
  chunked_down = unknown_length && request_version >= 11;
  if (unknown_length && !chunked_down) {
    keep = false;
    fields.set(http::field::connection, "close");
  }
  if (chunked_down) fields.set(http::field::transfer_encoding, "chunked");
  else if (content_length) fields.set(http::field::content_length, decimal(*content_length));
  rs.status = res.status;
  if (!config_->access_logs.empty()) {
    rs.response_headers = fields;
    rs.response_start = Clock::now();
  }
  return keep;
}

asio::awaitable<std::optional<bool>> Http1Session::exchangeHttp2(
    RequestState& rs, RequestParser& parser, const std::string& body, bool buffered,
    const Route& route, const VirtualHost& vh, const WeightedTarget* weighted, const ClusterEntry& entry, HostPtr host,
    Clock::time_point deadline, const RetryPolicy* retry, bool last) {
  namespace h2 = net::h2;
  RequestHead& req = parser.head();
  const ClusterInfo& cluster = *entry.info;
  auto acquired = co_await worker_.h2_pool.acquire(entry.info, host);
  if (!acquired.session) {
    if (acquired.error != ConnectError::Overflow) {
      recordOutcome(cluster, *host, 503, *entry.hosts);
      if (retriesConnectFailure(retry, last)) co_return std::nullopt;
    }
    if (!buffered && !co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
    if (acquired.error == ConnectError::Overflow)
      co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. reset reason: overflow",
                                    "UO", overloaded());
    co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
                                  "UF");
  }
  // HTTP/1.1 to HTTP/2: pseudo-headers from the request line and Host, names lower case,
  // hop-by-hop and framing headers dropped (HTTP/2 frames the body itself).
  http2RequestHeaders(h2_head_, rs.method, cluster.tls != nullptr, req.target, req.fields, /*keep_te=*/false);
  bool no_body = buffered && body.empty();
  auto up = acquired.session->openStream(h2_head_.refs(), no_body);
  if (!up) {
    if (!last && retry && (retry->on_refused_stream || retry->on_reset)) co_return std::nullopt;
    if (!buffered && !co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
    co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. reset reason: refused stream",
                                  "UF");
  }
  auto sent_at = Clock::now();
  auto executor = co_await asio::this_coro::executor;
  StreamDeadline timer(executor, up, deadline);
  if (buffered && !no_body) {
    co_await up->write(body, true);
  } else if (!buffered) {
    // Streamed: the client's chunks go up as they arrive.
    bool ok = true;
    while (ok && !parser.is_done()) {
      parser.bodyWindow(chunk_.get(), kChunk);
      armDown(stream_idle_);
      auto [ec, n] = co_await net::read(io_, buffer_, parser);
      if (ec && ec != http::error::need_buffer) {
        up->reset();
        if (request_timed_out_) co_return co_await localReply(rs, 408, "", "");
        co_return false;
      }
      size_t got = kChunk - parser.windowLeft();
      rs.bytes_in += got;
      if (got > 0) ok = co_await up->write(std::string(chunk_.get(), got), false);
    }
    requestReceived();
    if (ok) co_await up->write(std::string(), true);
  }
  io_.deadline().expiresNever();  // the upstream stream's deadline applies while it answers
  bool got = co_await up->waitHeaders();
  if (!got) {
    if (timer.expired()) {
      cluster.stats->rq_timeout->inc();
      co_return co_await localReply(rs, 504, "upstream request timeout", "UT");
    }
    recordOutcome(cluster, *host, 503, *entry.hosts);
    if (!last && retry && (retry->on_reset || retry->on_5xx || (up->errorCode() == 0x7 && retry->on_refused_stream)))
      co_return std::nullopt;
    co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. reset reason: remote reset",
                                  "UR");
  }
  unsigned status = 0;
  if (const std::string* s = h2::findHeader(up->headers(), ":status")) std::from_chars(s->data(), s->data() + s->size(), status);
  recordOutcome(cluster, *host, status, *entry.hosts);
  countUpstreamStatus(*cluster.stats, status);
  if (!last && retry && retry->retriesStatus(status)) {
    up->reset();
    co_return std::nullopt;
  }
  ResponseHead& res = response_;
  res.clear();
  res.status = status;
  for (const auto& h : up->headers())
    if (!h.name.empty() && h.name[0] != ':') res.fields.insert(h.name, h.value);
  bool bodyless = rs.head || status == 204 || status == 304;
  std::optional<uint64_t> length;
  if (auto cl = res.fields.find(http::field::content_length); cl != res.fields.end()) {
    uint64_t v = 0;
    if (std::from_chars(cl->value().data(), cl->value().data() + cl->value().size(), v).ec == std::errc()) length = v;
  }
  bool headers_only = up->inputEnded() && up->buffered() == 0;
  if (headers_only && !bodyless && !length) length = 0;
  bool chunked_down = false;
  auto service_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent_at).count();
  bool keep = prepareResponseHead(rs, res, route, vh, weighted, service_ms, length, !bodyless && !length, req.version,
                                  chunked_down);
  head_.clear();
  appendResponseHead(res, head_);
  armDown(stream_idle_);
  std::array<asio::const_buffer, 1> head{asio::buffer(head_)};
  net::IoResult wec_w = io_.writeNow(head);
  if (wec_w.unfinished()) wec_w = co_await io_.write(head, wec_w.bytes);
  boost::system::error_code wec = wec_w.ec;
  if (wec) {
    up->reset();
    co_return false;
  }
  for (;;) {
    io_.deadline().expiresNever();
    auto r = co_await up->read();
    if (r.status == h2::Stream::ReadStatus::reset) {
      rs.flags = timer.expired() ? "UT" : "UR";
      co_return false;  // the response is cut: the client sees the connection close
    }
    std::string out;
    if (r.status == h2::Stream::ReadStatus::end) {
      if (!chunked_down) break;
      out = std::string(kLastChunk);
    } else if (bodyless || r.data.empty()) {
      continue;
    } else if (chunked_down) {
      appendChunkSize(r.data.size(), out);
      out += r.data;
      out += kCrlf;
    } else {
      out = std::move(r.data);
    }
    rs.bytes_out += out.size();
    armDown(stream_idle_);
    std::array<asio::const_buffer, 1> data{asio::buffer(out)};
    net::IoResult bec_w = io_.writeNow(data);
    if (bec_w.unfinished()) bec_w = co_await io_.write(data, bec_w.bytes);
    boost::system::error_code bec = bec_w.ec;
    if (bec) {
      up->reset();
      co_return false;
    }
    if (r.status == h2::Stream::ReadStatus::end) break;
  }
  co_return keep;
}

asio::awaitable<bool> Http1Session::forward(RequestState& rs, RequestParser& parser, const VirtualHost& vh,
                                            const Route& route, RequestContext& ctx) {
  RequestHead& req = parser.head();
  HeaderMap& fields = req.fields;
  const HcmStats& stats = *config_->stats;

  auto [cluster_name, weighted] = chooseCluster(route, fields, ctx.random);
  if (!config_->access_logs.empty()) rs.cluster = cluster_name;
  auto clusters = worker_.clusters();  // held for the whole exchange
  const ClusterEntry* entry = clusters ? clusters->find(cluster_name) : nullptr;
  if (entry == nullptr) {
    stats.no_cluster->inc();
    if (!co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
    co_return co_await localReply(rs, 503, "", "NC");
  }
  const ClusterInfo& cluster = *entry->info;
  const ClusterStats& cstats = *cluster.stats;

  // Upgrades (WebSocket) need the route or the connection manager to allow them.
  bool upgrade = false;
  if (auto u = fields.find(http::field::upgrade); u != fields.end()) {
    if (beast::iequals(u->value(), "websocket") && (route.websocket || config_->websocket)) {
      upgrade = true;
    } else {
      if (!co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      co_return co_await localReply(rs, 403, "upgrade not allowed", "");
    }
  }

  // Expect: 100-continue is answered here; the upstream never sees it.
  if (auto e = fields.find(http::field::expect); e != fields.end()) {
    if (beast::iequals(e->value(), "100-continue") && !parser.is_done()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      armDown(stream_idle_);
      std::array<asio::const_buffer, 1> interim{asio::buffer(kContinue)};
      auto [cec, cn] = co_await io_.write(interim);
      if (cec) co_return false;
    }
    fields.erase(http::field::expect);
  }

  applyRequestRewrites(*rs.routes, vh, route, weighted, req.target, fields);
  rs.target = ctx.target = req.target;  // (it may have changed)
  stripHopByHop(fields, upgrade);
  if (upgrade) {
    fields.set(http::field::connection, "Upgrade");
  } else if (req.version < 11) {
    fields.set(http::field::connection, "keep-alive");  // the upstream connection stays open
  }

  // Small bodies are read first, so that the request can be retried and mirrored.
  bool buffered = !upgrade && (parser.is_done() || (parser.content_length() && *parser.content_length() <= kBufferedBodyLimit));
  std::string body;
  if (buffered && !parser.is_done()) {
    if (!co_await drainRequestBody(parser, &body, kBufferedBodyLimit)) {
      if (request_timed_out_) co_return co_await localReply(rs, 408, "", "");
      co_return false;
    }
  }
  rs.bytes_in = buffered ? body.size() : 0;
  if (buffered) {
    if (body.empty() && !parser.content_length()) fields.erase(http::field::content_length);
    else fields.set(http::field::content_length, decimal(body.size()));
    for (const auto& m : route.mirrors)
      if ((ctx.random >> 7) % 1000000 < m.per_million) mirrorRequest(m, req, body, worker_, down_.get_executor());
  }
  if (route.idle_timeout) stream_idle_ = *route.idle_timeout;
  const RetryPolicy* retry = route.retry ? &*route.retry : (vh.retry ? &*vh.retry : nullptr);
  uint32_t attempts_left = (retry && buffered) ? retry->num_retries + 1 : 1;
  std::vector<const Host*> tried;
  auto timeout = requestTimeout(route, retry, fields, !config_->suppress_envoy_headers);
  auto deadline = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
  std::optional<uint64_t> hash = requestHash(route, fields, remote_);

  // Set when an attempt died on a reused connection the server had already closed: the request
  // goes again at once on a fresh connection, not counted as a retry (it may have no policy).
  bool replay = false;
  for (uint32_t attempt = 0; attempt < attempts_left; ++attempt) {
    bool last = attempt + 1 == attempts_left;
    bool replaying = std::exchange(replay, false);
    if (attempt > 0 && !replaying && !co_await retryBackoff(cluster, *retry, attempt, worker_.random)) break;
    // Only the previous-hosts predicate needs the hosts tried (a vector per request otherwise).
    bool avoid_tried = retry && retry->previous_hosts;
    static const std::vector<const Host*> kNone;
    Host* chosen = worker_.balancer(cluster).choose(*entry->hosts, hash, avoid_tried ? tried : kNone, Clock::now(),
                                                    worker_.random);
    if (chosen == nullptr) {
      if (!buffered && !co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      co_return co_await localReply(rs, 503, "no healthy upstream", "UH");
    }
    if (avoid_tried) tried.push_back(chosen);
    HostPtr host;
    for (const auto& h : entry->hosts->hosts)
      if (h.get() == chosen) host = h;
    if (!config_->access_logs.empty()) rs.upstream_host = host->str();  // text only for a log
    if (cluster.breakers->requests.load(std::memory_order_relaxed) >= cluster.limits.max_requests) {
      cstats.rq_pending_overflow->inc();
      if (!buffered && !co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. reset reason: overflow",
                                    "UO", overloaded());
    }
    if (cluster.http2) {
      ActiveUpstreamRequest active(cluster, *host);
      auto try_deadline = deadline;
      if (retry && retry->per_try_timeout.count() > 0) try_deadline = std::min(deadline, Clock::now() + retry->per_try_timeout);
      auto kept = co_await exchangeHttp2(rs, parser, body, buffered, route, vh, weighted, *entry, host, try_deadline, retry, last);
      if (!kept) continue;  // retry
      co_return *kept;
    }
    ConnectionPool::Acquired acquired;
    if (!replaying) acquired.connection = worker_.pool.takeIdle(cluster, host.get(), /*verify=*/!buffered);
    acquired.reused = acquired.connection != nullptr;
    if (!acquired.connection) {
      auto wait_until = deadline == Clock::time_point::max() ? Clock::now() + stream_idle_ : deadline;
      acquired = co_await worker_.pool.acquire(entry->info, host, /*reuse=*/false, /*verify=*/!buffered, wait_until);
    }
    if (acquired.error == ConnectError::PendingTimeout) {
      cstats.rq_timeout->inc();
      if (!buffered && !co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      co_return co_await localReply(rs, 504, "upstream request timeout", "UT");
    }
    if (acquired.error == ConnectError::Overflow) {
      if (!buffered && !co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. reset reason: overflow",
                                    "UO", overloaded());
    }
    if (!acquired.connection) {
      rs.transport_failure = std::move(acquired.failure_reason);
      recordOutcome(cluster, *host, 503, *entry->hosts);
      if (retriesConnectFailure(retry, last)) continue;
      if (!buffered && !co_await drainRequestBody(parser, nullptr, 0)) rs.keep_alive = false;
      rs.flags = attempt > 0 ? "URX,UF" : "UF";
      co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
                                    rs.flags.c_str());
    }
    UpstreamConnection& up = *acquired.connection;
    rs.upstream_local = up.local;
    ActiveUpstreamRequest active(cluster, *host);
    auto sent_at = Clock::now();
    auto try_deadline = deadline;
    if (retry && retry->per_try_timeout.count() > 0) try_deadline = std::min(deadline, sent_at + retry->per_try_timeout);

    // Send the request: the head and a buffered body in one gathered write.
    boost::system::error_code ec;
    bool chunked_up = !buffered && parser.chunked();
    if (chunked_up) {
      fields.erase(http::field::content_length);
      fields.set(http::field::transfer_encoding, "chunked");
    } else if (!buffered && parser.content_length()) {
      fields.set(http::field::content_length, decimal(*parser.content_length()));  // one normalised value, set by us
    }
    head_.clear();
    appendRequestHead(req, head_);
    if (buffered) {
      std::array<asio::const_buffer, 2> out{asio::buffer(head_), asio::buffer(body)};
      armUp(up, try_deadline);
      net::IoResult wec_w = up.io.writeNow(out);
      if (wec_w.unfinished()) wec_w = co_await up.io.write(out, wec_w.bytes);
      boost::system::error_code wec = wec_w.ec;
      ec = wec;
    } else {
      armUp(up, Clock::time_point::max());
      std::array<asio::const_buffer, 1> head{asio::buffer(head_)};
      net::IoResult hec_w = up.io.writeNow(head);
      if (hec_w.unfinished()) hec_w = co_await up.io.write(head, hec_w.bytes);
      boost::system::error_code hec = hec_w.ec;
      ec = hec;
      while (!ec && !parser.is_done()) {
        parser.bodyWindow(chunk_.get(), kChunk);
        armDown(stream_idle_);
        auto [rec, rn] = co_await net::readSome(io_, buffer_, parser);
        if (request_timed_out_) co_return co_await localReply(rs, 408, "", "");
        if (rec && rec != http::error::need_buffer) co_return false;  // downstream went away
        size_t got = kChunk - parser.windowLeft();
        rs.bytes_in += got;
        frame_.clear();
        if (chunked_up && got) appendChunkSize(got, frame_);
        std::array<asio::const_buffer, 4> out{asio::buffer(frame_), asio::buffer(chunk_.get(), got),
                                              asio::buffer(chunked_up && got ? kCrlf : std::string_view()),
                                              asio::buffer(chunked_up && parser.is_done() ? kLastChunk : std::string_view())};
        armUp(up, Clock::time_point::max());
        net::IoResult bec_w = up.io.writeNow(out);
        if (bec_w.unfinished()) bec_w = co_await up.io.write(out, bec_w.bytes);
        boost::system::error_code bec = bec_w.ec;
        ec = bec;
      }
      if (parser.is_done()) requestReceived();
    }
    // The rest of an unfinished request body must not be read as new requests.
    if (ec && !parser.is_done()) rs.keep_alive = false;

    // Read the response header (skipping interim 1xx), unless sending failed already.
    auto freshParser = [&]() -> ResponseParser& {
      auto& p = response_parser_.emplace(response_);
      p.body_limit(boost::none);
      p.header_limit(uint32_t(config_->max_request_headers_bytes));
      if (rs.head) p.skip(true);
      return p;
    };
    boost::system::error_code rec = ec;
    if (!rec) armUp(up, try_deadline);
    bool interim = true;  // until a final (or 101) response head, or an error
    while (!rec && interim) {
      net::MessageRead<false> read(up.io, up.buffer, freshParser(), net::ReadUntil::Header);
      while (!read.done()) {
        auto [hec, hn] = co_await up.io.asyncReadSome(read.space(), nothrow);
        read.received(hec, hn);
      }
      rec = read.result().ec;
      interim = response_.status / 100 == 1 && response_.status != 101;
    }
    if (rec) {
      bool timeout = rec == beast::error::timeout;
      if (timeout) {
        recordOutcome(cluster, *host, 504, *entry->hosts);
        bool per_try = try_deadline != deadline;
        (per_try ? cstats.rq_per_try_timeout : cstats.rq_timeout)->inc();
        if (per_try && !last) continue;
        rs.flags = "UT";
        co_return co_await localReply(rs, 504, "upstream request timeout", "UT");
      }
      // A reused keep-alive connection the server closed while idle, before any byte of a
      // response: it did not process the request, so it goes again on a fresh connection, with
      // or without a retry policy (and is not held against the host).
      bool stale = buffered && staleReusedConnection(acquired.reused, up.buffer.size(), rec);
      if (!stale) recordOutcome(cluster, *host, 503, *entry->hosts);
      if (stale || (buffered && !last && retry && (retry->on_reset || retry->on_5xx))) {
        if (stale) {
          replay = true;
          ++attempts_left;
        }
        continue;
      }
      co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
                                    "UC");
    }
    ResponseParser& rp = *response_parser_;
    ResponseHead& res = response_;
    unsigned status = res.status;
    if (status == 101 && !upgrade) {
      // A protocol switch nobody asked for: the connection is no longer HTTP/1.1.
      recordOutcome(cluster, *host, 502, *entry->hosts);
      co_return co_await localReply(rs, 502, "upstream switched protocols unasked", "UPE");
    }
    recordOutcome(cluster, *host, status, *entry->hosts);
    countUpstreamStatus(cstats, status);
    ++up.requests;
    if (!last && retry && retry->retriesStatus(status)) {
      // Discard this response; the connection is only reusable when its body is read.
      continue;
    }

    // Relay the response.
    auto service_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent_at).count();
    bool upstream_keep = rp.keep_alive();  // the parser knows a body delimited by close
    if (status == 101 && upgrade) {
      res.fields.set(kUpstreamServiceTime, decimal(uint64_t(std::max<int64_t>(service_ms, 0))));
      head_.clear();
      appendResponseHead(res, head_);
      armDown(stream_idle_);
      std::array<asio::const_buffer, 1> switching{asio::buffer(head_)};
      auto [wec, wn] = co_await io_.write(switching);
      rs.status = 101;
      if (!config_->access_logs.empty()) {
        rs.response_headers = res.fields;
        rs.response_start = Clock::now();
      }
      if (wec) co_return false;
      co_return co_await tunnel(up);
    }
    bool bodyless = rs.head || status == 204 || status == 304;
    bool unknown_length = !bodyless && !rp.content_length() && (rp.chunked() || !rp.is_done());
    bool chunked_down = false;
    std::optional<uint64_t> length;
    if (rp.content_length()) length = *rp.content_length();
    bool keep = prepareResponseHead(rs, res, route, vh, weighted, service_ms, length, unknown_length, req.version,
                                    chunked_down);
    head_.clear();
    appendResponseHead(res, head_);
    bool first = true;
    if (!rp.is_done() && up.buffer.size() == 0) {
      // No body bytes are here yet: the head goes now, not when the body arrives.
      armDown(stream_idle_);
      std::array<asio::const_buffer, 1> head{asio::buffer(head_)};
      net::IoResult wec_w = io_.writeNow(head);
      if (wec_w.unfinished()) wec_w = co_await io_.write(head, wec_w.bytes);
      boost::system::error_code wec = wec_w.ec;
      if (wec) co_return false;
      first = false;
    }
    for (;;) {
      size_t got = 0;
      if (!rp.is_done()) {
        rp.bodyWindow(chunk_.get(), kChunk);
        armUp(up, deadline);
        // read_some: forward what has arrived instead of waiting for a full buffer.
        net::MessageRead<false> read(up.io, up.buffer, rp, net::ReadUntil::Progress);
        while (!read.done()) {
          auto [rec, rn] = co_await up.io.asyncReadSome(read.space(), nothrow);
          read.received(rec, rn);
        }
        boost::system::error_code bec = read.result().ec;
        if (bec && bec != http::error::need_buffer) {
          rs.flags = bec == beast::error::timeout ? "UT" : "UC";
          co_return false;  // the response may have begun: all that is left is to close
        }
        got = kChunk - rp.windowLeft();
        rs.bytes_out += got;
      }
      bool done = rp.is_done();
      frame_.clear();
      if (chunked_down && got) appendChunkSize(got, frame_);
      // The head leaves with the first body bytes (often read together with it).
      std::array<asio::const_buffer, 5> out{asio::buffer(first ? std::string_view(head_) : std::string_view()),
                                            asio::buffer(frame_), asio::buffer(chunk_.get(), got),
                                            asio::buffer(chunked_down && got ? kCrlf : std::string_view()),
                                            asio::buffer(chunked_down && done ? kLastChunk : std::string_view())};
      first = false;
      if (asio::buffer_size(out) != 0) {
        armDown(stream_idle_);
        net::IoResult wec_w = io_.writeNow(out);
        if (wec_w.unfinished()) wec_w = co_await io_.write(out, wec_w.bytes);
        boost::system::error_code wec = wec_w.ec;
        if (wec) co_return false;
      }
      if (done) break;
    }
    if (!buffered && !parser.is_done() && !co_await drainRequestBody(parser, nullptr, 0)) keep = false;
    worker_.pool.release(std::move(acquired.connection), upstream_keep && rp.is_done());
    co_return keep;
  }
  rs.flags = rs.flags.empty() ? "URX" : rs.flags + ",URX";
  co_return co_await localReply(rs, 503, "upstream connect error or disconnect/reset before headers. retries exhausted",
                                rs.flags.c_str());
}

}  // namespace

asio::awaitable<void> serveHttp1(net::MaybeTlsStream stream, std::shared_ptr<const HcmConfig> config, ProxyWorker& worker) {
  Http1Session session(std::move(stream), config, worker);
  co_await session.run();
  if (session.wantsHttp2())
    co_await serveHttp2(session.takeStream(), session.takePreread(), std::move(config), worker, /*counted=*/true);
}

}  // namespace monomesh::proxy
