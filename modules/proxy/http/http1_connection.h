// One downstream HTTP/1.1 connection through the connection manager: keep-alive and pipelining,
// streamed bodies both ways, Expect: 100-continue, HEAD, WebSocket upgrades; filters, routing,
// the router (retries, timeouts, mirroring) and access logs. Runs on the worker that accepted it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "net/maybe_tls_stream.h"
#include "proxy/http/hcm_config.h"
#include "proxy/worker.h"

namespace monomesh::proxy {

// `routes` is the table to use when the HCM takes its routes from RDS (else the HCM's own).
boost::asio::awaitable<void> serveHttp1(net::MaybeTlsStream stream, std::shared_ptr<const HcmConfig> config,
                                        ProxyWorker& worker);

}  // namespace monomesh::proxy
