// configSources[].tlsSettings for Pilot's connection to Galley: what each mode needs (an error
// naming the field otherwise), where ISTIO_MUTUAL reads, which name Galley's certificate is
// checked for, and that building the context names the file that is missing or wrong. The
// handshakes themselves run end to end in integration/galley_tls_test.py.
#include <boost/test/unit_test.hpp>

#include "config/mcp/mcp_tls.h"
#include "net/test_certs.h"
#include "temp_dir.h"

using namespace monomesh::config::mcp;
using istio::networking::v1alpha3::TLSSettings;
using monomesh::testing::TempDir;

namespace {

TLSSettings settings(TLSSettings::TLSmode mode, const std::string& cert = "", const std::string& key = "",
                     const std::string& ca = "") {
  TLSSettings s;
  s.set_mode(mode);
  s.set_client_certificate(cert);
  s.set_private_key(key);
  s.set_ca_certificates(ca);
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(mcp_tls)

BOOST_AUTO_TEST_CASE(each_mode_needs_its_files) {
  std::string error;
  BOOST_TEST(!mcpTlsFrom(settings(TLSSettings::DISABLE), "galley", "/etc/certs", error));
  BOOST_TEST(error == "");

  auto istio = mcpTlsFrom(settings(TLSSettings::ISTIO_MUTUAL), "istio-galley.istio-system.svc", "/etc/certs", error);
  BOOST_TEST_REQUIRE(bool(istio));
  BOOST_TEST(istio->cert_file == "/etc/certs/cert-chain.pem");
  BOOST_TEST(istio->key_file == "/etc/certs/key.pem");
  BOOST_TEST(istio->ca_file == "/etc/certs/root-cert.pem");
  BOOST_TEST(istio->sni == "istio-galley.istio-system.svc");
  BOOST_TEST(istio->verify_name == "istio-galley.istio-system.svc");

  auto mutual = mcpTlsFrom(settings(TLSSettings::MUTUAL, "/c.pem", "/k.pem", "/ca.pem"), "10.0.0.5", "/etc/certs", error);
  BOOST_TEST_REQUIRE(bool(mutual));
  BOOST_TEST(mutual->cert_file == "/c.pem");
  BOOST_TEST(mutual->sni == "", "no SNI for an IP address");
  BOOST_TEST(mutual->verify_name == "10.0.0.5");

  auto simple = mcpTlsFrom(settings(TLSSettings::SIMPLE), "galley", "/etc/certs", error);
  BOOST_TEST_REQUIRE(bool(simple));
  BOOST_TEST(simple->cert_file == "");
  BOOST_TEST(simple->ca_file == "", "SIMPLE without caCertificates: not verified, as 1.1");

  struct Case {
    TLSSettings s;
    std::string want;
  };
  std::vector<Case> cases = {
      {settings(TLSSettings::MUTUAL, "", "/k.pem", "/ca.pem"), "tlsSettings.clientCertificate: required with MUTUAL"},
      {settings(TLSSettings::MUTUAL, "/c.pem", "", "/ca.pem"), "tlsSettings.privateKey: required with MUTUAL"},
      {settings(TLSSettings::MUTUAL, "/c.pem", "/k.pem"), "tlsSettings.caCertificates: required with MUTUAL"},
      {settings(TLSSettings::ISTIO_MUTUAL, "/c.pem"), "tlsSettings.clientCertificate: must be empty with ISTIO_MUTUAL"},
      {settings(TLSSettings::ISTIO_MUTUAL, "", "", "/ca.pem"), "tlsSettings.caCertificates: must be empty with ISTIO_MUTUAL"},
      {settings(TLSSettings::SIMPLE, "/c.pem"), "tlsSettings.clientCertificate: a client certificate is only sent with MUTUAL"},
      {settings(TLSSettings::SIMPLE, "", "/k.pem"), "tlsSettings.privateKey: a client certificate is only sent with MUTUAL"},
      {settings(static_cast<TLSSettings::TLSmode>(7)), "tlsSettings.mode: unknown mode 7"},
  };
  for (const auto& c : cases) {
    std::string why;
    BOOST_TEST(!mcpTlsFrom(c.s, "galley", "/etc/certs", why));
    BOOST_TEST(has(why, c.want), why << " / wanted: " << c.want);
  }
}

BOOST_AUTO_TEST_CASE(subject_alt_names_and_sni_decide_what_is_checked) {
  TLSSettings s = settings(TLSSettings::ISTIO_MUTUAL);
  s.add_subject_alt_names("spiffe://cluster.local/ns/istio-system/sa/istio-galley-service-account");
  std::string error;
  auto with_sans = mcpTlsFrom(s, "istio-galley.istio-system.svc", "/etc/certs", error);
  BOOST_TEST_REQUIRE(bool(with_sans));
  BOOST_TEST(with_sans->verify_name == "", "the SANs replace the host-name check");
  BOOST_TEST(with_sans->subject_alt_names.size() == 1u);
  s.clear_subject_alt_names();
  s.set_sni("galley.mesh.internal");
  auto with_sni = mcpTlsFrom(s, "10.0.0.5", "/etc/certs", error);
  BOOST_TEST_REQUIRE(bool(with_sni));
  BOOST_TEST(with_sni->sni == "galley.mesh.internal");
  BOOST_TEST(with_sni->verify_name == "galley.mesh.internal");
}

BOOST_AUTO_TEST_CASE(contexts_are_built_from_the_files_and_errors_name_them) {
  TempDir dir;
  monomesh::net::tls::testing::TestCa ca("Mesh CA");
  auto pilot = ca.issueWorkload("istio-system", "istio-pilot-service-account");
  dir.write("certs/cert-chain.pem", pilot.cert_pem);
  dir.write("certs/key.pem", pilot.key_pem);
  dir.write("certs/root-cert.pem", ca.certPem());
  std::string error;
  auto istio = mcpTlsFrom(settings(TLSSettings::ISTIO_MUTUAL), "galley", dir.file("certs"), error);
  BOOST_TEST_REQUIRE(bool(istio));
  auto made = makeMcpClientContext(*istio);
  BOOST_TEST(bool(made.context), made.error);

  dir.remove("certs/key.pem");
  made = makeMcpClientContext(*istio);
  BOOST_TEST(!made.context);
  BOOST_TEST(has(made.error, "private key " + dir.file("certs/key.pem") + ": cannot read"), made.error);

  dir.write("certs/key.pem", monomesh::net::tls::testing::newKeyPem());
  made = makeMcpClientContext(*istio);
  BOOST_TEST(has(made.error, "TLS settings: private key does not match certificate"), made.error);

  dir.write("ca.pem", "not a certificate");
  auto simple = mcpTlsFrom(settings(TLSSettings::SIMPLE, "", "", dir.file("ca.pem")), "galley", "/etc/certs", error);
  BOOST_TEST_REQUIRE(bool(simple));
  made = makeMcpClientContext(*simple);
  BOOST_TEST(has(made.error, "no certificate in trusted_ca"), made.error);
}

BOOST_AUTO_TEST_SUITE_END()
