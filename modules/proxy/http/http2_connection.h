// The HTTP connection manager over HTTP/2 (h2c prior knowledge, or ALPN "h2" over TLS): every
// stream is a request routed as on HTTP/1.1 (virtual hosts, routes, filters, direct responses,
// redirects, rewrites, retries, timeouts, access logs) and forwarded to an HTTP/1.1 or HTTP/2
// upstream, with trailers kept end to end so gRPC's status reaches the client.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "net/maybe_tls_stream.h"
#include "proxy/http/hcm_config.h"
#include "proxy/worker.h"

namespace monomesh::proxy {

// `preread`: bytes the HTTP/1 codec had already read when it met the HTTP/2 preface (it has
// then counted the connection in downstream_cx_total: `counted`).
boost::asio::awaitable<void> serveHttp2(net::MaybeTlsStream stream, std::string preread,
                                        std::shared_ptr<const HcmConfig> config, ProxyWorker& worker,
                                        bool counted = false);

}  // namespace monomesh::proxy
