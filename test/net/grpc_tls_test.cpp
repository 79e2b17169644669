// gRPC over mutual TLS: the server and the client each present a workload certificate, verify the
// other's chain against the mesh root, and check the peer's SPIFFE identity; ALPN picks h2.
#include "echo_service.h"
#include "net/grpc/grpc_client.h"
#include "net/grpc/grpc_server.h"
#include "net/tls_transport.h"
#include "test_certs.h"

#include <boost/asio.hpp>
#include <boost/test/unit_test.hpp>

namespace monomesh::net::grpc {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using tls::testing::TestCa;

std::shared_ptr<const tls::TlsContext> context(const TestCa& ca, const tls::testing::CertAndKey& id, bool server,
                                               std::string expect_spiffe) {
  tls::TlsSettings s;
  s.cert_chain_pem = id.cert_pem;
  s.private_key_pem = id.key_pem;
  s.trusted_ca_pem = ca.certPem();
  s.require_client_certificate = server;
  s.alpn = {"h2"};
  s.verify_peer = [expect_spiffe](const tls::PeerIdentity& peer) {
    return !peer.uri_sans.empty() && peer.uri_sans.front() == expect_spiffe;
  };
  auto made = server ? tls::makeServerContext(s) : tls::makeClientContext(s);
  BOOST_REQUIRE_MESSAGE(made.context, made.error);
  return made.context;
}

struct TlsFixture {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
  GrpcServer server;
  std::vector<std::string> accept_errors;
  std::vector<std::string> peers;

  explicit TlsFixture(std::shared_ptr<const tls::TlsContext> server_tls) {
    testing::addEchoMethods(server);
    asio::co_spawn(io, acceptLoop(std::move(server_tls)), asio::detached);
  }
  awaitable<void> acceptLoop(std::shared_ptr<const tls::TlsContext> tls) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      auto done = co_await tlsAccept(std::move(socket), tls, std::chrono::seconds(5));
      if (!done.transport) {
        accept_errors.push_back(done.error);
        continue;
      }
      BOOST_TEST(done.transport->negotiatedProtocol() == "h2");
      if (done.peer && !done.peer->uri_sans.empty()) peers.push_back(done.peer->uri_sans.front());
      server.serve(std::move(done.transport));
    }
  }
  // One unary call through a channel that secures its connection with `client_tls` (plain
  // TCP when null).
  Status call(std::shared_ptr<const tls::TlsContext> client_tls, std::string& response) {
    ChannelOptions options;
    if (client_tls) {
      options.secure = [client_tls](tcp::socket s) -> awaitable<std::unique_ptr<Transport>> {
        auto done = co_await tlsConnect(std::move(s), client_tls, std::chrono::seconds(5));
        co_return std::move(done.transport);
      };
    }
    auto channel = GrpcChannel::create(io.get_executor(), "127.0.0.1", acceptor.local_endpoint().port(), options);
    Status status;
    bool finished = false;
    asio::co_spawn(io, [&]() -> awaitable<void> {
      status = co_await channel->unary("/test.Echo/Unary", "secret", response, std::chrono::seconds(5));
      finished = true;
    }, asio::detached);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!finished && std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds(10));
    BOOST_REQUIRE(finished);
    channel->close();
    io.run_for(std::chrono::milliseconds(20));
    return status;
  }
};

const std::string kServerId = "spiffe://cluster.local/ns/istio-system/sa/istio-pilot-service-account";
const std::string kClientId = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";

BOOST_AUTO_TEST_SUITE(grpc_tls)

BOOST_AUTO_TEST_CASE(mutual_tls_with_spiffe_identities) {
  TestCa ca;
  auto server_id = ca.issueWorkload("istio-system", "istio-pilot-service-account");
  auto client_id = ca.issueWorkload("default", "bookinfo-productpage");
  TlsFixture f(context(ca, server_id, true, kClientId));
  std::string response;
  Status status = f.call(context(ca, client_id, false, kServerId), response);
  BOOST_TEST(status.ok(), status.message);
  BOOST_TEST(response == "secret");
  BOOST_REQUIRE(f.peers.size() == 1u);
  BOOST_TEST(f.peers[0] == kClientId);
}

BOOST_AUTO_TEST_CASE(wrong_client_identity_is_refused) {
  TestCa ca;
  auto server_id = ca.issueWorkload("istio-system", "istio-pilot-service-account");
  auto intruder = ca.issueWorkload("default", "someone-else");
  TlsFixture f(context(ca, server_id, true, kClientId));
  std::string response;
  Status status = f.call(context(ca, intruder, false, kServerId), response);
  BOOST_TEST((status.code == StatusCode::unavailable));
  BOOST_REQUIRE(!f.accept_errors.empty());
  BOOST_TEST(f.accept_errors[0].find("TLS handshake failed") == 0u);
}

BOOST_AUTO_TEST_CASE(certificate_from_another_ca_is_refused_by_the_client) {
  TestCa ca, other;
  auto server_id = other.issueWorkload("istio-system", "istio-pilot-service-account");
  auto client_id = ca.issueWorkload("default", "bookinfo-productpage");
  TlsFixture f(context(other, server_id, true, kClientId));
  std::string response;
  Status status = f.call(context(ca, client_id, false, kServerId), response);
  BOOST_TEST((status.code == StatusCode::unavailable));
  BOOST_TEST(status.message.find("TLS handshake") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(plaintext_client_is_refused_by_a_tls_server) {
  TestCa ca;
  TlsFixture f(context(ca, ca.issueWorkload("istio-system", "pilot"), true, kClientId));
  std::string response;
  Status status = f.call(nullptr, response);
  BOOST_TEST(!status.ok());
  BOOST_TEST(!f.accept_errors.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::grpc
