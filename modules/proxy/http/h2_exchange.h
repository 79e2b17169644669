// One request on a downstream HTTP/2 stream, from its headers to the end of its response: the
// routing front (filters, local answers) in http2_connection.cpp, the upstream legs (HTTP/2 and
// HTTP/1.1, with retries and timeouts) in h2_forward.cpp. A connection keeps the header maps and
// buffers of finished exchanges for its next streams.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "net/h2/h2_stream.h"
#include "proxy/http/h2_header_list.h"
#include "proxy/http/hcm_config.h"
#include "proxy/http/http1_message.h"
#include "proxy/http/http_filters.h"
#include "proxy/worker.h"

namespace monomesh::proxy {

// What an exchange leaves to its connection's next one: header maps and buffers, cleared, with
// their memory (an exchange that starts from them allocates nothing for its headers).
struct H2ExchangeBuffers {
  Fields fields, response_fields;
  ResponseHead response;
  std::string request_head;
  H2HeaderList out_headers;
  std::vector<const Host*> tried;
};

struct H2Downstream {
  std::shared_ptr<const HcmConfig> config;
  ProxyWorker& worker;
  boost::asio::ip::tcp::endpoint remote, local;
  bool tls = false;
  std::vector<std::unique_ptr<H2ExchangeBuffers>> spare;  // of finished exchanges, for the next ones
  std::string server_name;  // SNI, for access logs
};

class H2Exchange {
 public:
  H2Exchange(std::shared_ptr<H2Downstream> conn, std::shared_ptr<net::h2::Stream> down);
  ~H2Exchange();
  H2Exchange(const H2Exchange&) = delete;
  H2Exchange& operator=(const H2Exchange&) = delete;
  // Serves the stream; `self` is this exchange, owned by the coroutine's one frame.
  boost::asio::awaitable<void> run(std::unique_ptr<H2Exchange> self);

 private:
  // Replay: the pooled connection was found closed by the server before it answered; the
  // request goes again on a fresh connection, not counted as a retry.
  enum class Outcome { Answered, Retry, Replay, Failed };
  using HeaderList = std::vector<std::pair<std::string, std::string>>;

  boost::asio::awaitable<void> localReply(unsigned status, std::string body, std::string_view flags,
                                          HeaderList headers = {});
  boost::asio::awaitable<void> forward(const VirtualHost& vh, const Route& route, RequestContext& ctx);
  // Extended CONNECT (h2_upgrade.cpp): the request becomes its HTTP/1.1 upgrade (the :protocol is
  // returned, "" for a plain CONNECT); toUpgrade() is its one attempt, a tunnel after a 101.
  std::string extendedConnectToUpgrade();
  boost::asio::awaitable<Outcome> toUpgrade(const ClusterEntry& entry, HostPtr host,
                                            std::chrono::steady_clock::time_point deadline);
  // One attempt at one host; Retry only before anything went to the client.
  boost::asio::awaitable<Outcome> toHttp2(const ClusterEntry& entry, HostPtr host, const std::string& body,
                                          bool buffered, std::chrono::steady_clock::time_point deadline,
                                          const RetryPolicy* retry, bool last);
  // `fresh`: connect anew instead of taking a pooled connection (the replay of a request).
  boost::asio::awaitable<Outcome> toHttp1(const ClusterEntry& entry, HostPtr host, const std::string& body,
                                          bool buffered, std::chrono::steady_clock::time_point deadline,
                                          const RetryPolicy* retry, bool last, bool fresh);
  // Response headers to the client: hop-by-hop dropped, the proxy's own added, rewrites applied;
  // views into `upstream` and the exchange, valid until the next call.
  std::span<const net::h2::HeaderRef> responseHeaders(unsigned status, const Fields& upstream,
                                                      std::chrono::steady_clock::time_point sent_at);
  // Reads the client's body while it fits in `limit`; `complete` tells whether it all did.
  boost::asio::awaitable<std::string> readBody(size_t limit, bool& complete);
  void finish();

  std::shared_ptr<H2Downstream> conn_;
  std::shared_ptr<net::h2::Stream> down_;
  std::string method_, path_, scheme_, authority_, rewritten_;
  std::unique_ptr<H2ExchangeBuffers> kept_;  // taken from the connection, given back at the end
  Fields& fields_ = kept_->fields;  // request headers, HTTP/1-style (host from :authority)
  std::string upgrade_;  // an extended CONNECT's :protocol
  std::shared_ptr<const RouteTable> routes_;  // held for the request (RDS may publish others meanwhile)
  const VirtualHost* vh_ = nullptr;
  const Route* route_ = nullptr;
  const WeightedTarget* weighted_ = nullptr;
  // For stats and access logs.
  unsigned status_ = 0;
  std::string flags_, upstream_host_, cluster_, route_name_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  Fields& response_fields_ = kept_->response_fields;
  HeaderList extra_response_headers_;
  // For access logs only, as the three below.
  Fields response_trailers_;
  std::optional<std::chrono::steady_clock::time_point> response_start_;
  boost::asio::ip::tcp::endpoint upstream_local_;
  std::string transport_failure_;
  std::chrono::system_clock::time_point start_ = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point start_steady_ = std::chrono::steady_clock::now();
  std::vector<const Host*>& tried_ = kept_->tried;
  ResponseHead& response_ = kept_->response;       // an upstream's response head
  std::string& request_head_ = kept_->request_head;  // an HTTP/1.1 request head, with a buffered body
  H2HeaderList& out_headers_ = kept_->out_headers;   // response headers, or an HTTP/2 upstream's request headers
  std::array<char, 16> status_text_{};
  std::array<char, 24> service_ms_{};
  std::array<char, 36> request_id_{};
};

}  // namespace monomesh::proxy
