// compileSanMatchers: which peer certificates a validation context's subject-alt-name matchers
// accept (typed by SAN type, or the older untyped list), and the errors bad matchers get.
#include <boost/test/unit_test.hpp>

#include "proxy/config/san_matchers.h"
#include "proxy_test_util.h"

namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;
using monomesh::net::tls::PeerIdentity;
using monomesh::proxy::compileSanMatchers;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;

namespace {

const std::string kReviews = "spiffe://cluster.local/ns/bookinfo/sa/reviews";

monomesh::proxy::PeerCheck compile(const std::string& yaml) {
  return compileSanMatchers(fromYaml<tlsv3::CertificateValidationContext>(yaml), "validation_context");
}

std::string compileError(const std::string& yaml) {
  return errorOf([&] { compile(yaml); });
}

PeerIdentity uris(std::vector<std::string> sans) { return {.uri_sans = std::move(sans)}; }
PeerIdentity dns(std::vector<std::string> sans) { return {.dns_sans = std::move(sans)}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(san_matchers)

BOOST_AUTO_TEST_CASE(no_matchers_means_no_check) {
  BOOST_TEST(!compile("{}"));
  BOOST_TEST(!compile("trusted_ca: {inline_string: x}"));
}

BOOST_AUTO_TEST_CASE(a_typed_matcher_looks_only_at_its_san_type) {
  auto uri = compile("match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: '" + kReviews + "'}}]");
  BOOST_TEST(uri(uris({"spiffe://cluster.local/ns/bookinfo/sa/details", kReviews})));
  BOOST_TEST(!uri(uris({"spiffe://cluster.local/ns/bookinfo/sa/ratings"})));
  BOOST_TEST(!uri(dns({kReviews})));
  BOOST_TEST(!uri(PeerIdentity{.subject_cn = kReviews}));  // the subject CN is not a SAN

  auto by_dns = compile("match_typed_subject_alt_names: [{san_type: DNS, matcher: {suffix: .bookinfo.svc}}]");
  BOOST_TEST(by_dns(dns({"reviews.bookinfo.svc"})));
  BOOST_TEST(!by_dns(uris({"reviews.bookinfo.svc"})));
}

BOOST_AUTO_TEST_CASE(any_matcher_of_the_list_may_match) {
  auto check = compile(
      "match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: reviews}},"
      " {san_type: URI, matcher: {prefix: 'spiffe://cluster.local/ns/bookinfo/'}}]");
  BOOST_TEST(check(dns({"reviews"})));
  BOOST_TEST(check(uris({kReviews})));
  BOOST_TEST(!check(uris({"spiffe://cluster.local/ns/default/sa/reviews"})));
  BOOST_TEST(!check(PeerIdentity{}));
}

BOOST_AUTO_TEST_CASE(the_older_list_looks_at_uri_and_dns_sans) {
  auto check = compile("match_subject_alt_names: [{exact: reviews.bookinfo.svc}, {safe_regex: {regex: '.*/sa/ratings'}}]");
  BOOST_TEST(check(dns({"reviews.bookinfo.svc"})));
  BOOST_TEST(check(uris({"reviews.bookinfo.svc"})));
  BOOST_TEST(check(uris({"spiffe://cluster.local/ns/bookinfo/sa/ratings"})));
  BOOST_TEST(!check(dns({"reviews.bookinfo.svc.cluster.local", "reviews.bookinfo"})));
}

BOOST_AUTO_TEST_CASE(an_exact_dns_match_honours_certificate_wildcards) {
  auto check = compile("match_subject_alt_names: [{exact: reviews.bookinfo.svc}]");
  BOOST_TEST(check(dns({"REVIEWS.Bookinfo.svc"})));  // DNS names are case-insensitive
  BOOST_TEST(check(dns({"*.bookinfo.svc"})));
  BOOST_TEST(!check(dns({"*.svc"})));  // a wildcard covers exactly one label
  BOOST_TEST(!check(dns({"*.reviews.bookinfo.svc"})));
  BOOST_TEST(!check(uris({"*.bookinfo.svc"})));  // only in DNS SANs
  BOOST_TEST(!compile("match_subject_alt_names: [{exact: bookinfo.svc}]")(dns({"*.bookinfo.svc"})));
  BOOST_TEST(!compile("match_subject_alt_names: [{prefix: reviews}]")(dns({"*.bookinfo.svc"})));  // exact only
}

BOOST_AUTO_TEST_CASE(bad_matchers_are_errors_naming_the_field) {
  BOOST_TEST(compileError("match_typed_subject_alt_names: [{san_type: EMAIL, matcher: {exact: a@b}}]") ==
             "validation_context.match_typed_subject_alt_names[0].san_type: EMAIL is not supported (URI and DNS are)");
  BOOST_TEST(compileError("match_typed_subject_alt_names: [{matcher: {exact: a}}]") ==
             "validation_context.match_typed_subject_alt_names[0].san_type: required (URI or DNS)");
  BOOST_TEST(compileError("match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: a}}, {san_type: DNS}]") ==
             "validation_context.match_typed_subject_alt_names[1].matcher: required");
  BOOST_TEST(contains(compileError("match_subject_alt_names: [{exact: a}, {safe_regex: {regex: '('}}]"),
                      "validation_context.match_subject_alt_names[1]: invalid regex"));
  BOOST_TEST(compileError("match_subject_alt_names: [{}]") ==
             "validation_context.match_subject_alt_names[0]: string matcher needs one of exact, prefix, suffix, "
             "contains, safe_regex");
  BOOST_TEST(compileError("{match_subject_alt_names: [{exact: a}],"
                          " match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: a}}]}") ==
             "validation_context: use either match_typed_subject_alt_names or match_subject_alt_names, not both");
}

BOOST_AUTO_TEST_SUITE_END()
