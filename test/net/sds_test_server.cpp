// An SDS server for the proxy's integration test (test/integration/proxy_sds_test.py): serves
// Istio's two secrets from a certificate folder (cert-chain.pem, key.pem, root-cert.pem) over
// envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets on 127.0.0.1:<free port>:
// "default" (the workload certificate) and "ROOTCA" (the trust roots). Pushes when the files
// change. Prints the port; runs until stdin closes. With --unix PATH it also serves on that Unix
// domain socket, as Istio 1.1's node agent did (unix:/var/run/sds/uds_path).
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "net/grpc/grpc_server.h"
#include "net/xds/ads_server.h"

#include <boost/asio.hpp>

#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <unistd.h>

namespace asio = boost::asio;
namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;
using namespace monomesh::net;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct FolderSecrets : xds::ResourceSource {
  std::string dir;
  std::string version() const {
    return std::to_string(std::hash<std::string>{}(readFile(dir + "/cert-chain.pem") + readFile(dir + "/key.pem") +
                                                    readFile(dir + "/root-cert.pem")));
  }
  std::optional<xds::Resources> resources(const envoy::config::core::v3::Node&, std::string_view type,
                                          const std::vector<std::string>& names) override {
    if (type != xds::type_url::kSecret) return std::nullopt;
    xds::Resources out;
    out.version = version();
    for (const auto& name : names) {
      tlsv3::Secret secret;
      secret.set_name(name);
      if (name == "ROOTCA") {
        secret.mutable_validation_context()->mutable_trusted_ca()->set_inline_bytes(readFile(dir + "/root-cert.pem"));
      } else {
        secret.mutable_tls_certificate()->mutable_certificate_chain()->set_inline_bytes(readFile(dir + "/cert-chain.pem"));
        secret.mutable_tls_certificate()->mutable_private_key()->set_inline_bytes(readFile(dir + "/key.pem"));
      }
      out.resources.emplace_back().PackFrom(secret);
    }
    return out;
  }
};

asio::awaitable<void> acceptUnix(asio::local::stream_protocol::acceptor* acceptor, grpc::GrpcServer* server) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    server->serve(makeUnixTransport(std::move(socket)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--unix")) {
    std::cerr << "usage: sds_test_server CERT_FOLDER [--unix PATH]\n";
    return 2;
  }
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  grpc::GrpcServer grpc_server;
  auto source = std::make_shared<FolderSecrets>();
  source->dir = argv[1];
  xds::AdsServer sds(grpc_server, source, std::string(xds::kSdsMethod));
  asio::co_spawn(io, grpc_server.acceptLoop(acceptor), asio::detached);
  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor;
  if (argc == 4) {
    ::unlink(argv[3]);
    unix_acceptor.emplace(io, asio::local::stream_protocol::endpoint(argv[3]));
    asio::co_spawn(io, acceptUnix(&*unix_acceptor, &grpc_server), asio::detached);
  }
  std::cout << acceptor.local_endpoint().port() << std::endl;
  std::string last = source->version();
  asio::steady_timer poll(io);
  std::function<void()> tick = [&] {
    poll.expires_after(std::chrono::milliseconds(200));
    poll.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto now = source->version(); now != last) {
        last = now;
        sds.push();
      }
      tick();
    });
  };
  tick();
  asio::posix::stream_descriptor in(io, ::dup(0));
  char byte;
  in.async_read_some(asio::buffer(&byte, 1), [&](auto, auto) { io.stop(); });
  io.run();
  return 0;
}
