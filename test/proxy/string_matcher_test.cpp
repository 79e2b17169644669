// StringMatch: Envoy's StringMatcher (exact/prefix/suffix/contains, ignore_case) and safe_regex
// with RE2 full-match semantics.
#include <boost/test/unit_test.hpp>
#include <re2/re2.h>

#include "proxy/http/string_matcher.h"
#include "proxy_test_util.h"

using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;
using Matcher = envoy::type::matcher::v3::StringMatcher;

namespace {

StringMatch fromText(const std::string& yaml) { return StringMatch::fromProto(fromYaml<Matcher>(yaml)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(string_match)

BOOST_AUTO_TEST_CASE(default_matches_anything) {
  StringMatch any;
  BOOST_TEST((any.kind() == StringMatch::Kind::Any));
  BOOST_TEST(any.matches(""));
  BOOST_TEST(any.matches("whatever"));
}

BOOST_AUTO_TEST_CASE(exact_case_sensitive_and_ignore_case) {
  auto m = fromText("exact: Foo");
  BOOST_TEST((m.kind() == StringMatch::Kind::Exact));
  BOOST_TEST(m.value() == "Foo");
  BOOST_TEST(m.matches("Foo"));
  BOOST_TEST(!m.matches("foo"));
  BOOST_TEST(!m.matches("Foo "));
  BOOST_TEST(!m.matches("Fo"));
  auto ic = fromText("{exact: Foo, ignore_case: true}");
  BOOST_TEST(ic.matches("foo"));
  BOOST_TEST(ic.matches("FOO"));
  BOOST_TEST(!ic.matches("fooo"));
  BOOST_TEST(!ic.matches(""));
}

BOOST_AUTO_TEST_CASE(prefix_with_ignore_case) {
  auto m = fromText("prefix: /Api");
  BOOST_TEST(m.matches("/Api"));
  BOOST_TEST(m.matches("/Api/v1"));
  BOOST_TEST(!m.matches("/api/v1"));
  BOOST_TEST(!m.matches("/Ap"));
  BOOST_TEST(!m.matches("x/Api"));
  auto ic = fromText("{prefix: /Api, ignore_case: true}");
  BOOST_TEST(ic.matches("/api/v1"));
  BOOST_TEST(ic.matches("/API"));
  BOOST_TEST(!ic.matches("/ap"));
  BOOST_TEST(!ic.matches("x/api"));
}

BOOST_AUTO_TEST_CASE(suffix_with_ignore_case) {
  auto m = fromText("suffix: .Com");
  BOOST_TEST(m.matches("foo.Com"));
  BOOST_TEST(m.matches(".Com"));
  BOOST_TEST(!m.matches("foo.com"));
  BOOST_TEST(!m.matches("Com"));
  BOOST_TEST(!m.matches("foo.Com."));
  auto ic = fromText("{suffix: .Com, ignore_case: true}");
  BOOST_TEST(ic.matches("FOO.COM"));
  BOOST_TEST(ic.matches("foo.com"));
  BOOST_TEST(!ic.matches("foo.co"));
  BOOST_TEST(!ic.matches("com"));
}

BOOST_AUTO_TEST_CASE(contains_with_ignore_case) {
  auto m = fromText("contains: Bar");
  BOOST_TEST(m.matches("fooBarbaz"));
  BOOST_TEST(m.matches("Bar"));
  BOOST_TEST(m.matches("xxBar"));
  BOOST_TEST(!m.matches("foobarbaz"));
  BOOST_TEST(!m.matches("Ba"));
  auto ic = fromText("{contains: Bar, ignore_case: true}");
  BOOST_TEST(ic.matches("fooBARbaz"));
  BOOST_TEST(ic.matches("xxbar"));  // at the very end
  BOOST_TEST(ic.matches("barxx"));  // at the very start
  BOOST_TEST(!ic.matches("ba"));
  BOOST_TEST(!ic.matches("b-a-r"));
}

BOOST_AUTO_TEST_CASE(empty_pattern_values) {
  BOOST_TEST(fromText("prefix: \"\"").matches("anything"));
  BOOST_TEST(fromText("contains: \"\"").matches(""));
  BOOST_TEST(fromText("exact: \"\"").matches(""));
  BOOST_TEST(!fromText("exact: \"\"").matches("x"));
}

BOOST_AUTO_TEST_CASE(safe_regex_is_a_full_match) {
  auto m = fromText("safe_regex: {regex: a.c}");
  BOOST_TEST((m.kind() == StringMatch::Kind::Regex));
  BOOST_TEST(m.matches("abc"));
  BOOST_TEST(m.matches("a-c"));
  BOOST_TEST(!m.matches("xabcx"));
  BOOST_TEST(!m.matches("abcx"));
  BOOST_TEST(!m.matches("xabc"));
  BOOST_TEST(!m.matches("ac"));
  auto anchored = StringMatch::regex("[0-9]+");
  BOOST_TEST(anchored.matches("12345"));
  BOOST_TEST(!anchored.matches("123a"));
  BOOST_TEST(!anchored.matches(""));
  auto alternation = StringMatch::regex("foo|bar");  // full match applies to the whole alternation
  BOOST_TEST(alternation.matches("bar"));
  BOOST_TEST(!alternation.matches("foobar"));
}

BOOST_AUTO_TEST_CASE(regex_from_regex_matcher) {
  auto m = StringMatch::regex(fromYaml<envoy::type::matcher::v3::RegexMatcher>("regex: \"/v[12]/.*\""));
  BOOST_TEST(m.matches("/v1/users"));
  BOOST_TEST(!m.matches("/v3/users"));
  BOOST_TEST(!m.matches("x/v1/users"));
}

BOOST_AUTO_TEST_CASE(invalid_regex_throws_with_re2_message) {
  re2::RE2::Options quiet;
  quiet.set_log_errors(false);
  re2::RE2 reference("a(", quiet);
  BOOST_TEST_REQUIRE(!reference.ok());
  std::string error = errorOf([] { StringMatch::regex("a("); });
  BOOST_TEST(contains(error, reference.error()), error);
  BOOST_TEST(contains(error, "a("), error);
  std::string from_proto = errorOf([] { fromText("safe_regex: {regex: \"[z-a]\"}"); });
  re2::RE2 reference2("[z-a]", quiet);
  BOOST_TEST(contains(from_proto, reference2.error()), from_proto);
  std::string compiled = errorOf([] { compileRegex("(?P<x"); });
  BOOST_TEST(compiled != "(no exception)");
  BOOST_CHECK_THROW(StringMatch(StringMatch::Kind::Regex, "*"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(matcher_without_pattern_throws) {
  Matcher empty;
  BOOST_CHECK_THROW(StringMatch::fromProto(empty), std::invalid_argument);
  Matcher only_ignore_case;
  only_ignore_case.set_ignore_case(true);
  BOOST_CHECK_THROW(StringMatch::fromProto(only_ignore_case), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(copies_share_the_compiled_regex) {
  StringMatch a = StringMatch::regex("x+y");
  StringMatch b = a;
  BOOST_TEST(b.matches("xxxy"));
  BOOST_TEST(!b.matches("y"));
  BOOST_TEST(b.value() == "x+y");
}

BOOST_AUTO_TEST_SUITE_END()
