#include "net/tls/certificate_files.h"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "loopback_tls.h"
#include "temp_dir.h"
#include "test_certs.h"

namespace monomesh::net::tls {
namespace {

using monomesh::testing::TempDir;
using testing::CertAndKey;
using testing::TestCa;

void writeSet(const TempDir& dir, const CertAndKey& leaf, const std::string& root) {
  dir.write("cert-chain.pem", leaf.cert_pem);
  dir.write("key.pem", leaf.key_pem);
  dir.write("root-cert.pem", root);
}

// The service account in the certificate a context serves.
std::string servedAccount(const std::shared_ptr<const TlsContext>& ctx) {
  BOOST_REQUIRE(ctx);
  PeerIdentity id = peerIdentityOf(SSL_CTX_get0_certificate(ctx->native()));
  return id.spiffe ? id.spiffe->service_account : "<none>";
}

bool runUntil(boost::asio::io_context& io, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(10));
  return done();
}

CertificateWatcherOptions options(const TempDir& dir) {
  CertificateWatcherOptions o;
  o.directory = dir.path;
  o.interval = std::chrono::milliseconds(10);
  o.server = TlsSettings{.require_client_certificate = true, .alpn = {"h2"}};
  o.client = TlsSettings{.alpn = {"h2"}};
  return o;
}

struct Recorder {
  std::vector<WatchedContexts> updates;
  std::vector<std::string> errors;
  CertificateWatcher::OnUpdate onUpdate() {
    return [this](const WatchedContexts& c) { updates.push_back(c); };
  }
  CertificateWatcher::OnError onError() {
    return [this](const std::string& e) { errors.push_back(e); };
  }
};

BOOST_AUTO_TEST_SUITE(certificate_files)

BOOST_AUTO_TEST_CASE(reads_istio_file_layout_and_names_a_missing_file) {
  TempDir dir;
  TestCa ca;
  auto leaf = ca.issueWorkload("default", "sleep");
  writeSet(dir, leaf, ca.certPem());
  TlsSettings s;
  BOOST_TEST(!readCertificateFiles(dir.path, {}, s));
  BOOST_TEST(s.cert_chain_pem == leaf.cert_pem);
  BOOST_TEST(s.private_key_pem == leaf.key_pem);
  BOOST_TEST(s.trusted_ca_pem == ca.certPem());

  dir.remove("key.pem");
  TlsSettings untouched;
  auto error = readCertificateFiles(dir.path, {}, untouched);
  BOOST_TEST(error.value_or("") == "cannot read " + dir.path + "/key.pem: No such file or directory");
  BOOST_TEST(untouched.cert_chain_pem == "");

  // Other names (a gateway's secret volume), and no root certificate.
  dir.write("tls.crt", leaf.cert_pem);
  dir.write("tls.key", leaf.key_pem);
  TlsSettings gateway;
  BOOST_TEST(!readCertificateFiles(dir.path, {.cert_chain = "tls.crt", .private_key = "tls.key", .root_cert = ""}, gateway));
  BOOST_TEST(gateway.private_key_pem == leaf.key_pem);
  BOOST_TEST(gateway.trusted_ca_pem == "");
}

BOOST_AUTO_TEST_CASE(reloads_on_change_and_keeps_the_last_good_set_on_a_bad_one) {
  TempDir dir;
  TestCa ca;
  writeSet(dir, ca.issueWorkload("default", "first"), ca.certPem());
  boost::asio::io_context io{1};
  Recorder rec;
  CertificateWatcher watcher(io, options(dir), rec.onUpdate(), rec.onError());
  BOOST_TEST(!watcher.start());
  BOOST_REQUIRE_EQUAL(rec.updates.size(), 1u);  // the first load is synchronous
  BOOST_TEST(watcher.start().value_or("") == "certificate watcher for " + dir.path + " is already started");
  auto first = watcher.current();
  BOOST_TEST(servedAccount(first.server) == "first");
  BOOST_TEST(servedAccount(first.client) == "first");

  // New files: a new context comes, with the settings that are not files kept.
  writeSet(dir, ca.issueWorkload("default", "second"), ca.certPem());
  BOOST_REQUIRE(runUntil(io, [&] { return rec.updates.size() == 2; }));
  BOOST_TEST(servedAccount(watcher.current().server) == "second");
  BOOST_TEST(servedAccount(rec.updates.back().client) == "second");
  BOOST_TEST(watcher.stats().applied == 2u);

  // The replaced contexts still work for whoever holds them, next to the new ones.
  auto old_pair = testing::runLoopbackHandshake(first.server, first.client);
  BOOST_TEST(old_pair.ok());
  BOOST_TEST(old_pair.server_identity->spiffe->service_account == "first");
  BOOST_TEST(old_pair.client_alpn == "h2");
  BOOST_TEST(testing::runLoopbackHandshake(watcher.current().server, first.client).ok());

  // A key that does not match: reported once, the second set stays.
  dir.write("key.pem", testing::newKeyPem());
  BOOST_REQUIRE(runUntil(io, [&] { return rec.errors.size() == 1; }));
  BOOST_TEST(rec.errors.front() == "server context from " + dir.path + ": private key does not match certificate");
  BOOST_TEST(servedAccount(watcher.current().server) == "second");
  BOOST_TEST(watcher.stats().rejected == 1u);
  io.run_for(std::chrono::milliseconds(100));  // more polls of the same bad files: no repeat
  BOOST_TEST(rec.errors.size() == 1u);
  BOOST_TEST(rec.updates.size() == 2u);

  // Fixed again.
  writeSet(dir, ca.issueWorkload("default", "third"), ca.certPem());
  BOOST_REQUIRE(runUntil(io, [&] { return rec.updates.size() == 3; }));
  BOOST_TEST(servedAccount(watcher.current().server) == "third");

  // Once stopped, changes are not picked up.
  watcher.stop();
  writeSet(dir, ca.issueWorkload("default", "fourth"), ca.certPem());
  io.run_for(std::chrono::milliseconds(100));
  BOOST_TEST(rec.updates.size() == 3u);
}

BOOST_AUTO_TEST_CASE(unchanged_content_is_not_rebuilt) {
  TempDir dir;
  TestCa ca;
  auto leaf = ca.issueWorkload("default", "same");
  writeSet(dir, leaf, ca.certPem());
  boost::asio::io_context io{1};
  Recorder rec;
  CertificateWatcher watcher(io, options(dir), rec.onUpdate(), rec.onError());
  BOOST_TEST(!watcher.start());
  writeSet(dir, leaf, ca.certPem());  // rewritten: new mtimes, same bytes
  io.run_for(std::chrono::milliseconds(100));
  BOOST_TEST(rec.updates.size() == 1u);
  BOOST_TEST(rec.errors.empty());
}

BOOST_AUTO_TEST_CASE(files_that_appear_after_start_are_picked_up) {
  TempDir dir;
  boost::asio::io_context io{1};
  Recorder rec;
  CertificateWatcher watcher(io, options(dir), rec.onUpdate(), rec.onError());
  auto error = watcher.start();
  BOOST_TEST(error.value_or("") == "cannot read " + dir.path + "/cert-chain.pem: No such file or directory");
  BOOST_TEST(rec.errors.size() == 1u);
  BOOST_TEST(!watcher.current().server);

  TestCa ca;
  writeSet(dir, ca.issueWorkload("default", "late"), ca.certPem());
  BOOST_REQUIRE(runUntil(io, [&] { return rec.updates.size() == 1; }));
  BOOST_TEST(servedAccount(watcher.current().server) == "late");
}

BOOST_AUTO_TEST_CASE(a_destroyed_watcher_leaves_nothing_behind) {
  TempDir dir;
  TestCa ca;
  writeSet(dir, ca.issueWorkload("default", "gone"), ca.certPem());
  boost::asio::io_context io{1};
  Recorder rec;
  {
    CertificateWatcher watcher(io, options(dir), rec.onUpdate(), rec.onError());
    BOOST_TEST(!watcher.start());
  }
  writeSet(dir, ca.issueWorkload("default", "after"), ca.certPem());
  io.run_for(std::chrono::milliseconds(100));
  BOOST_TEST(rec.updates.size() == 1u);
  BOOST_TEST(io.stopped());  // the cancelled timer was the only work
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::tls
