// --accessListFile: 1.1's `allowed: [SPIFFE ids]`; a peer is let in by one of its URI SANs; every
// kind of bad file is an error with its line.
#include <boost/test/unit_test.hpp>

#include "galley/access_list.h"

using namespace monomesh::galley;

namespace {

std::string read(const std::string& text, AccessList& out) {
  std::string all;
  for (const auto& e : readAccessList(text, "accesslist.yaml", out)) all += (all.empty() ? "" : "\n") + e.str();
  return all;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const char* const kPilot = "spiffe://cluster.local/ns/istio-system/sa/istio-pilot-service-account";

}  // namespace

BOOST_AUTO_TEST_SUITE(access_list)

BOOST_AUTO_TEST_CASE(the_charts_list_admits_pilot_and_mixer_only) {
  AccessList list;
  BOOST_TEST_REQUIRE(read("allowed:\n  - spiffe://cluster.local/ns/istio-system/sa/istio-mixer-service-account\n"
                          "  - spiffe://cluster.local/ns/istio-system/sa/istio-pilot-service-account\n",
                          list) == "");
  monomesh::net::tls::PeerIdentity pilot;
  pilot.dns_sans = {"istio-pilot.istio-system.svc"};
  pilot.uri_sans = {"spiffe://other/ns/a/sa/b", kPilot};
  BOOST_TEST(list.admits(pilot));
  monomesh::net::tls::PeerIdentity other;
  other.uri_sans = {"spiffe://cluster.local/ns/default/sa/bookinfo"};
  other.dns_sans = {kPilot};  // a DNS SAN with the right text does not count
  BOOST_TEST(!list.admits(other));
  BOOST_TEST(!list.admits(monomesh::net::tls::PeerIdentity{}));
}

BOOST_AUTO_TEST_CASE(bad_files_are_errors_and_keep_the_list) {
  struct Case {
    std::string text, want;
  };
  std::vector<Case> cases = {
      {"allowed: [", "accesslist.yaml:1:"},
      {"", "expected a map with the key `allowed`"},
      {"allowed: spiffe://cluster.local/ns/a/sa/b\n", "accesslist.yaml:1:10: access list: allowed: expected a list"},
      {"allow: []\n", "accesslist.yaml:1:1: access list: allow: unknown key"},
      {"allowed:\n- spiffe://cluster.local/ns/a/sa/b\n- istio-pilot\n",
       "accesslist.yaml:3:3: access list: allowed[1]: \"istio-pilot\" is not a SPIFFE id"},
      {"allowed:\n- {a: b}\n", "allowed[0]: expected a SPIFFE id"},
  };
  for (const auto& c : cases) {
    AccessList list;
    list.allowed = {kPilot};
    std::string errors = read(c.text, list);
    BOOST_TEST(has(errors, c.want), "file:\n" << c.text << "\nerrors:\n" << errors << "\nwanted: " << c.want);
    BOOST_TEST(list.allowed.size() == 1u, "the previous list stays");
  }
  AccessList list;
  BOOST_TEST(has(readAccessListFile("/nonexistent/accesslist.yaml", list)[0].str(), "/nonexistent/accesslist.yaml: "));
}

BOOST_AUTO_TEST_SUITE_END()
