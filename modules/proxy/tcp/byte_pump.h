// Copies bytes both ways between two connections until both directions end (each end's EOF is
// passed on as a half-close), with one idle timeout for the pair: it fires only when neither
// direction has moved for the whole window, as Envoy's tcp_proxy and upgrade tunnels count it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>

#include "net/maybe_tls_stream.h"

namespace monomesh::proxy {

struct PumpResult {
  uint64_t a_to_b = 0, b_to_a = 0;  // bytes
  bool idle_timeout = false;
};

// a_pending / b_pending: bytes already read from a / b (past an HTTP head); they go first.
boost::asio::awaitable<PumpResult> pumpBothWays(net::MaybeTlsStream& a, boost::beast::flat_buffer& a_pending,
                                                net::MaybeTlsStream& b, boost::beast::flat_buffer& b_pending,
                                                std::chrono::milliseconds idle);

}  // namespace monomesh::proxy
