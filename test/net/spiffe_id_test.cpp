#include "net/tls/spiffe_id.h"

#include <boost/test/unit_test.hpp>

namespace monomesh::net::tls {
namespace {

BOOST_AUTO_TEST_SUITE(spiffe_id)

BOOST_AUTO_TEST_CASE(parses_istio_identities) {
  std::string error;
  auto id = SpiffeId::parse("spiffe://cluster.local/ns/default/sa/bookinfo-productpage", error);
  BOOST_REQUIRE_MESSAGE(id, error);
  BOOST_TEST(id->trust_domain == "cluster.local");
  BOOST_TEST(id->ns == "default");
  BOOST_TEST(id->service_account == "bookinfo-productpage");
  BOOST_TEST(id->principal() == "cluster.local/ns/default/sa/bookinfo-productpage");
  BOOST_TEST(id->uri() == "spiffe://cluster.local/ns/default/sa/bookinfo-productpage");

  auto dotted = SpiffeId::parse("spiffe://my_domain-1.example/ns/istio-system/sa/a.b-c", error);
  BOOST_REQUIRE_MESSAGE(dotted, error);
  BOOST_TEST(dotted->service_account == "a.b-c");
  BOOST_TEST((*SpiffeId::parse(dotted->uri(), error) == *dotted));
}

BOOST_AUTO_TEST_CASE(rejects_with_the_rule_that_failed) {
  const std::string shape = "path must be /ns/<namespace>/sa/<service-account>, got ";
  struct Case {
    std::string uri, error;
  } cases[] = {
      {"", "it does not start with spiffe://"},
      {"https://cluster.local/ns/a/sa/b", "it does not start with spiffe://"},
      {"SPIFFE://cluster.local/ns/a/sa/b", "it does not start with spiffe://"},
      {"spiffe:///ns/a/sa/b", "trust domain is empty"},
      {"spiffe://Cluster.local/ns/a/sa/b", "trust domain \"Cluster.local\" has the character 'C' (allowed: a-z 0-9 . - _)"},
      {"spiffe://cluster.local:8080/ns/a/sa/b", "trust domain \"cluster.local:8080\" has the character ':' (allowed: a-z 0-9 . - _)"},
      {"spiffe://user@td/ns/a/sa/b", "trust domain \"user@td\" has the character '@' (allowed: a-z 0-9 . - _)"},
      {"spiffe://" + std::string(256, 'a') + "/ns/a/sa/b", "trust domain is longer than 255 bytes"},
      {"spiffe://cluster.local", shape + "\"\""},
      {"spiffe://cluster.local/", shape + "\"/\""},
      {"spiffe://cluster.local/ns/a", shape + "\"/ns/a\""},
      {"spiffe://cluster.local/ns/a/sa/b/", shape + "\"/ns/a/sa/b/\""},
      {"spiffe://cluster.local/ns/a/sa/b/extra", shape + "\"/ns/a/sa/b/extra\""},
      {"spiffe://cluster.local/namespace/a/sa/b", shape + "\"/namespace/a/sa/b\""},
      {"spiffe://cluster.local/ns/a/serviceaccount/b", shape + "\"/ns/a/serviceaccount/b\""},
      {"spiffe://cluster.local//ns/a/sa/b", shape + "\"//ns/a/sa/b\""},
      {"spiffe://cluster.local/ns//sa/b", "namespace \"\" is not a DNS-1123 label"},
      {"spiffe://cluster.local/ns/Default/sa/b", "namespace \"Default\" is not a DNS-1123 label"},
      {"spiffe://cluster.local/ns/-a/sa/b", "namespace \"-a\" is not a DNS-1123 label"},
      {"spiffe://cluster.local/ns/a.b/sa/b", "namespace \"a.b\" is not a DNS-1123 label"},
      {"spiffe://cluster.local/ns/" + std::string(64, 'n') + "/sa/b",
       "namespace \"" + std::string(64, 'n') + "\" is not a DNS-1123 label"},
      {"spiffe://cluster.local/ns/a/sa/", "service account \"\" is not a DNS-1123 subdomain"},
      {"spiffe://cluster.local/ns/a/sa/b?x=1", "service account \"b?x=1\" is not a DNS-1123 subdomain"},
      {"spiffe://cluster.local/ns/a/sa/b#frag", "service account \"b#frag\" is not a DNS-1123 subdomain"},
      {"spiffe://cluster.local/ns/a/sa/b%2Fc", "service account \"b%2Fc\" is not a DNS-1123 subdomain"},
      {"spiffe://cluster.local/ns/a/sa/a..b", "service account \"a..b\" is not a DNS-1123 subdomain"},
      {"spiffe://cluster.local/ns/a/sa/b.", "service account \"b.\" is not a DNS-1123 subdomain"},
      {"spiffe://cluster.local/ns/a/sa/" + std::string(2100, 'b'), "longer than 2048 bytes"},
  };
  for (const Case& c : cases) {
    std::string error;
    BOOST_TEST_CONTEXT(c.uri) {
      BOOST_TEST(!SpiffeId::parse(c.uri, error));
      BOOST_TEST(error == "\"" + c.uri + "\" is not a SPIFFE identity: " + c.error);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::tls
