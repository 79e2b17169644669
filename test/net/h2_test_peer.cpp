#include "h2_test_peer.h"

namespace monomesh::net::h2::testing {

std::string frame(uint8_t type, uint8_t flags, uint32_t stream_id, std::string_view payload) {
  std::string out;
  size_t n = payload.size();
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<char>((stream_id >> shift) & 0xff));
  out.append(payload);
  return out;
}

std::string clientPreface() { return std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + frame(0x4, 0, 0, ""); }

std::string getHeadersFrame(uint32_t stream_id, bool end_stream) {
  // Indexed fields: :method GET (2), :scheme http (6), :path / (4); :authority literal "a".
  std::string block = "\x82\x86\x84";
  block += std::string("\x41\x01" "a", 3);
  return frame(0x1, static_cast<uint8_t>(0x4 | (end_stream ? 0x1 : 0)), stream_id, block);
}

void Loopback::startServer(std::function<void(std::shared_ptr<Stream>)> on_stream, H2Options options) {
  acceptor.async_accept([this, on_stream = std::move(on_stream), options](boost::system::error_code ec, tcp::socket s) {
    if (ec) return;
    server = Session::create(Session::Role::server, makeTcpTransport(std::move(s)), options, {on_stream, nullptr},
                             &server_counters);
    server->start();
  });
}

void Loopback::connectClient(H2Options options) {
  tcp::socket s(io);
  s.connect(acceptor.local_endpoint());
  client = Session::create(Session::Role::client, makeTcpTransport(std::move(s)), options, {}, &client_counters);
  client->start();
}

tcp::socket Loopback::connectRaw() {
  tcp::socket s(io);
  s.connect(acceptor.local_endpoint());
  return s;
}

Loopback::~Loopback() {
  if (server) server->close();
  if (client) client->close();
  boost::system::error_code ignored;
  acceptor.close(ignored);
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
}

bool Loopback::runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_for(std::chrono::milliseconds(5));
    if (io.stopped()) io.restart();
  }
  return true;
}

}  // namespace monomesh::net::h2::testing
