// Test fixture for HTTP/2: a server and a client Session joined over loopback TCP on one
// io_context, plus a raw socket for writing hand-made frames (floods, malformed input).
#pragma once

#include "net/h2/h2_session.h"

#include <boost/asio.hpp>

#include <functional>
#include <string>

namespace monomesh::net::h2::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

// One HTTP/2 frame: 9-byte header then payload.
std::string frame(uint8_t type, uint8_t flags, uint32_t stream_id, std::string_view payload);
// The client connection preface followed by an empty SETTINGS frame.
std::string clientPreface();
// A HEADERS frame for GET / on `stream_id` (HPACK static-table entries only).
std::string getHeadersFrame(uint32_t stream_id, bool end_stream);

struct Loopback {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
  H2Counters server_counters;
  H2Counters client_counters;
  std::shared_ptr<Session> server;
  std::shared_ptr<Session> client;

  // Sessions keep themselves alive while open: close them, and let their handlers finish.
  ~Loopback();

  // Accepts one connection as an HTTP/2 server handing streams to `on_stream`.
  void startServer(std::function<void(std::shared_ptr<Stream>)> on_stream, H2Options options = {});
  // Connects a client session (after startServer).
  void connectClient(H2Options options = {});
  // Connects a raw socket instead of a client session.
  tcp::socket connectRaw();
  // Runs the io_context until `done` or the time limit; false on time-out.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(10));
};

}  // namespace monomesh::net::h2::testing
