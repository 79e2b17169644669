// RouteTable: virtual host selection by domain, route matching (path, headers, query, runtime
// fraction), rewrites, redirects, direct responses, weighted clusters, retry policies, header
// operations and per-filter configuration, compiled from Envoy v3 RouteConfiguration YAML.
#include <boost/test/unit_test.hpp>

#include "envoy/config/route/v3/route.pb.h"
#include "proxy/http/http_filters.h"
#include "proxy/http/request_support.h"
#include "proxy/http/route_table.h"
#include "proxy_test_util.h"

namespace rv3 = envoy::config::route::v3;
using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;

namespace {

std::shared_ptr<const RouteTable> compileYaml(const std::string& yaml, const PerFilterConfigParser& per_filter = {}) {
  return RouteTable::compile(fromYaml<rv3::RouteConfiguration>(yaml), per_filter);
}

// A table with one virtual host ("vh", domain "*") holding `routes` (a YAML list).
std::shared_ptr<const RouteTable> withRoutes(const std::string& routes, const PerFilterConfigParser& per_filter = {}) {
  return compileYaml("name: test\nvirtual_hosts:\n- name: vh\n  domains: ['*']\n  routes:\n" + routes, per_filter);
}

// The one route of a table built by withRoutes.
const Route& onlyRoute(const RouteTable& table) {
  const VirtualHost* vh = table.findVirtualHost("any");
  BOOST_REQUIRE(vh != nullptr);
  BOOST_REQUIRE(!vh->routes.empty());
  return vh->routes.front();
}

std::string vhostFor(const RouteTable& table, std::string_view host) {
  const VirtualHost* vh = table.findVirtualHost(host);
  return vh == nullptr ? "(none)" : vh->name;
}

// The name of the route chosen for `target` (or "(none)").
std::string routeFor(const RouteTable& table, std::string_view target, const Fields& fields = {}, uint64_t random = 0) {
  const VirtualHost* vh = table.findVirtualHost("any");
  BOOST_REQUIRE(vh != nullptr);
  const Route* r = table.findRoute(*vh, "GET", target, fields, random);
  return r == nullptr ? "(none)" : r->name;
}

bool matchesHeaders(const Route& r, std::initializer_list<std::pair<const char*, const char*>> headers) {
  Fields f;
  for (const auto& [name, value] : headers) f.insert(name, value);
  return r.matches("GET", "/", f, 0);
}

std::vector<std::string> valuesOf(const Fields& f, const std::string& name) {
  std::vector<std::string> out;
  f.forEach(name, [&out](std::string_view value) { out.emplace_back(value); });
  return out;
}

const char* kDomains = R"(
name: domains
virtual_hosts:
- name: exact
  domains: [www.foo.com]
  routes: [{match: {prefix: /}, route: {cluster: a}}]
- name: short_suffix
  domains: ["*.com"]
  routes: [{match: {prefix: /}, route: {cluster: a}}]
- name: long_suffix
  domains: ["*.foo.com"]
  routes: [{match: {prefix: /}, route: {cluster: a}}]
- name: short_prefix
  domains: ["www.*"]
  routes: [{match: {prefix: /}, route: {cluster: a}}]
- name: long_prefix
  domains: ["www.foo.*"]
  routes: [{match: {prefix: /}, route: {cluster: a}}]
- name: any
  domains: ["*"]
  routes: [{match: {prefix: /}, route: {cluster: a}}]
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(route_table)

// ---- virtual hosts ----

BOOST_AUTO_TEST_CASE(domain_selection_order) {
  auto t = compileYaml(kDomains);
  BOOST_TEST(t->name() == "domains");
  BOOST_TEST(t->virtualHostCount() == 6u);
  BOOST_TEST(vhostFor(*t, "www.foo.com") == "exact");        // exact beats every wildcard
  BOOST_TEST(vhostFor(*t, "api.foo.com") == "long_suffix");  // longest suffix
  BOOST_TEST(vhostFor(*t, "bar.com") == "short_suffix");
  BOOST_TEST(vhostFor(*t, "www.bar.com") == "short_suffix");  // a suffix beats a prefix
  BOOST_TEST(vhostFor(*t, "www.foo.org") == "long_prefix");   // longest prefix
  BOOST_TEST(vhostFor(*t, "www.bar.org") == "short_prefix");
  BOOST_TEST(vhostFor(*t, "example.org") == "any");
}

BOOST_AUTO_TEST_CASE(host_matching_is_case_insensitive) {
  auto t = compileYaml(kDomains);
  BOOST_TEST(vhostFor(*t, "WWW.FOO.COM") == "exact");
  BOOST_TEST(vhostFor(*t, "Api.Foo.Com") == "long_suffix");
  BOOST_TEST(vhostFor(*t, "WWW.Foo.Org") == "long_prefix");
  auto upper = compileYaml("virtual_hosts: [{name: up, domains: [API.Example.COM], routes: []}]");
  BOOST_TEST(vhostFor(*upper, "api.example.com") == "up");
}

BOOST_AUTO_TEST_CASE(wildcard_suffix_needs_at_least_one_character) {
  auto t = compileYaml(R"(
virtual_hosts:
- {name: sub, domains: ["*.foo.com"], routes: []}
- {name: pre, domains: ["foo.*"], routes: []}
- {name: bar, domains: ["bar.*"], routes: []}
- {name: any, domains: ["*"], routes: []}
)");
  BOOST_TEST(vhostFor(*t, "foo.com") == "pre");  // "*.foo.com" does not match foo.com itself
  BOOST_TEST(vhostFor(*t, "a.foo.com") == "sub");
  BOOST_TEST(vhostFor(*t, "foo.") == "any");  // "foo.*" needs something after the dot
  BOOST_TEST(vhostFor(*t, "foo.org") == "pre");
  auto no_prefix = compileYaml(R"(
virtual_hosts:
- {name: sub, domains: ["*.foo.com"], routes: []}
- {name: any, domains: ["*"], routes: []}
)");
  BOOST_TEST(vhostFor(*no_prefix, "foo.com") == "any");
  BOOST_TEST(vhostFor(*no_prefix, ".foo.com") == "any");
  BOOST_TEST(vhostFor(*no_prefix, "x.foo.com") == "sub");
}

BOOST_AUTO_TEST_CASE(no_catch_all_gives_no_virtual_host) {
  auto t = compileYaml("virtual_hosts: [{name: only, domains: [a.com], routes: []}]");
  BOOST_TEST(t->findVirtualHost("a.com") != nullptr);
  BOOST_TEST(t->findVirtualHost("b.com") == nullptr);
  BOOST_TEST(t->findVirtualHost("") == nullptr);
}

BOOST_AUTO_TEST_CASE(duplicate_exact_domain_throws_naming_the_virtual_host) {
  std::string error = errorOf([] {
    compileYaml(R"(
virtual_hosts:
- {name: first, domains: [a.com], routes: []}
- {name: second, domains: [b.com, A.com], routes: []}
)");
  });
  BOOST_TEST(contains(error, "virtual_hosts[1] (second)"), error);
  BOOST_TEST(contains(error, "a.com"), error);
}

BOOST_AUTO_TEST_CASE(duplicate_catch_all_throws) {
  std::string error = errorOf([] {
    compileYaml(R"(
virtual_hosts:
- {name: one, domains: ["*"], routes: []}
- {name: two, domains: ["*"], routes: []}
)");
  });
  BOOST_TEST(contains(error, "virtual_hosts[1] (two)"), error);
}

// Envoy rejects every repeated domain ("Only unique values for domains are permitted"),
// wildcards included.
BOOST_AUTO_TEST_CASE(duplicate_wildcard_domain_throws) {
  std::string suffix = errorOf([] {
    compileYaml(R"(
virtual_hosts:
- {name: one, domains: ["*.foo.com"], routes: []}
- {name: two, domains: ["*.foo.com"], routes: []}
)");
  });
  BOOST_TEST(contains(suffix, "virtual_hosts[1] (two)"), suffix);
  std::string prefix = errorOf([] {
    compileYaml(R"(
virtual_hosts:
- {name: one, domains: ["foo.*"], routes: []}
- {name: two, domains: ["FOO.*"], routes: []}
)");
  });
  BOOST_TEST(contains(prefix, "virtual_hosts[1] (two)"), prefix);
}

BOOST_AUTO_TEST_CASE(virtual_host_without_domains_throws) {
  std::string error = errorOf([] { compileYaml("virtual_hosts: [{name: empty, routes: []}]"); });
  BOOST_TEST(contains(error, "virtual_hosts[0] (empty).domains"), error);
}

// ---- path matching ----

BOOST_AUTO_TEST_CASE(first_matching_route_wins) {
  auto t = withRoutes(R"(
  - {name: api, match: {prefix: /api}, route: {cluster: a}}
  - {name: api_v2, match: {prefix: /api/v2}, route: {cluster: b}}
  - {name: root, match: {prefix: /}, route: {cluster: c}}
)");
  BOOST_TEST(routeFor(*t, "/api/v2/x") == "api");  // not the longer prefix: order decides
  BOOST_TEST(routeFor(*t, "/apis") == "api");
  BOOST_TEST(routeFor(*t, "/other") == "root");
  const Route& r = t->findVirtualHost("x")->routes[0];
  BOOST_TEST((r.action == Route::Action::Cluster));
  BOOST_TEST(r.cluster == "a");
}

BOOST_AUTO_TEST_CASE(no_route_matches) {
  auto t = withRoutes("  - {name: api, match: {prefix: /api}, route: {cluster: a}}\n");
  BOOST_TEST(routeFor(*t, "/other") == "(none)");
}

BOOST_AUTO_TEST_CASE(prefix_path_regex_and_path_separated_prefix) {
  auto t = withRoutes(R"(
  - {name: exact, match: {path: /exact}, route: {cluster: a}}
  - {name: regex, match: {safe_regex: {regex: "/items/[0-9]+"}}, route: {cluster: a}}
  - {name: separated, match: {path_separated_prefix: /sep}, route: {cluster: a}}
  - {name: prefix, match: {prefix: /pre}, route: {cluster: a}}
)");
  BOOST_TEST(routeFor(*t, "/exact") == "exact");
  BOOST_TEST(routeFor(*t, "/exact?x=1") == "exact");  // the query is not part of the path
  BOOST_TEST(routeFor(*t, "/exact#frag") == "exact");
  BOOST_TEST(routeFor(*t, "/exact/") == "(none)");
  BOOST_TEST(routeFor(*t, "/exactly") == "(none)");
  BOOST_TEST(routeFor(*t, "/items/12") == "regex");
  BOOST_TEST(routeFor(*t, "/items/12?q=a") == "regex");
  BOOST_TEST(routeFor(*t, "/items/12/x") == "(none)");  // full match, not a search
  BOOST_TEST(routeFor(*t, "/items/") == "(none)");
  BOOST_TEST(routeFor(*t, "/sep") == "separated");
  BOOST_TEST(routeFor(*t, "/sep/x") == "separated");
  BOOST_TEST(routeFor(*t, "/sep?x=1") == "separated");
  BOOST_TEST(routeFor(*t, "/sepx") == "(none)");
  BOOST_TEST(routeFor(*t, "/pre") == "prefix");
  BOOST_TEST(routeFor(*t, "/prefix/y") == "prefix");
  BOOST_TEST(routeFor(*t, "/pr") == "(none)");
}

BOOST_AUTO_TEST_CASE(invalid_path_regex_throws_naming_the_route) {
  std::string error = errorOf([] { withRoutes("  - {match: {safe_regex: {regex: \"(\"}}, route: {cluster: a}}\n"); });
  BOOST_TEST(contains(error, "virtual_hosts[0] (vh).routes[0]"), error);
  BOOST_TEST(contains(error, "missing )"), error);
}

BOOST_AUTO_TEST_CASE(paths_are_case_sensitive_by_default) {
  auto t = withRoutes(R"(
  - {name: upper, match: {prefix: /API}, route: {cluster: a}}
  - {name: exact, match: {path: /Exact}, route: {cluster: a}}
)");
  BOOST_TEST(routeFor(*t, "/API/x") == "upper");
  BOOST_TEST(routeFor(*t, "/api/x") == "(none)");
  BOOST_TEST(routeFor(*t, "/Exact") == "exact");
  BOOST_TEST(routeFor(*t, "/exact") == "(none)");
}

BOOST_AUTO_TEST_CASE(case_insensitive_prefix_and_path) {
  auto t = withRoutes(R"(
  - {name: upper, match: {prefix: /API, case_sensitive: false}, route: {cluster: a}}
  - {name: exact, match: {path: /Exact, case_sensitive: false}, route: {cluster: a}}
  - {name: sep, match: {path_separated_prefix: /Sep, case_sensitive: false}, route: {cluster: a}}
)");
  BOOST_TEST(routeFor(*t, "/api/x") == "upper");
  BOOST_TEST(routeFor(*t, "/Api/x") == "upper");
  BOOST_TEST(routeFor(*t, "/EXACT") == "exact");
  BOOST_TEST(routeFor(*t, "/exact") == "exact");
  BOOST_TEST(routeFor(*t, "/SEP/a") == "sep");
  BOOST_TEST(routeFor(*t, "/SEPX") == "(none)");
}

// Envoy: "case_sensitive ... Ignored for safe_regex matching." A regex with capitals must keep
// matching the path as written.
BOOST_AUTO_TEST_CASE(case_sensitive_false_does_not_break_safe_regex) {
  auto t = withRoutes(R"(
  - {name: regex, match: {safe_regex: {regex: "/Items/[0-9]+"}, case_sensitive: false}, route: {cluster: a}}
)");
  BOOST_TEST(routeFor(*t, "/Items/12") == "regex");
}

// ---- headers ----

BOOST_AUTO_TEST_CASE(header_exact_prefix_suffix_contains) {
  auto t = withRoutes(R"(
  - {name: exact, match: {prefix: /, headers: [{name: X-Env, exact_match: prod}]}, route: {cluster: a}}
  - {name: prefix, match: {prefix: /, headers: [{name: x-env, prefix_match: pro}]}, route: {cluster: a}}
  - {name: suffix, match: {prefix: /, headers: [{name: x-env, suffix_match: od}]}, route: {cluster: a}}
  - {name: contains, match: {prefix: /, headers: [{name: x-env, contains_match: ro}]}, route: {cluster: a}}
)");
  const auto& routes = t->findVirtualHost("x")->routes;
  const Route &exact = routes[0], &prefix = routes[1], &suffix = routes[2], &contains_ = routes[3];
  BOOST_TEST(exact.headers.at(0).name == "x-env");  // names are lower-cased
  BOOST_TEST(matchesHeaders(exact, {{"x-env", "prod"}}));
  BOOST_TEST(matchesHeaders(exact, {{"X-ENV", "prod"}}));
  BOOST_TEST(!matchesHeaders(exact, {{"x-env", "Prod"}}));
  BOOST_TEST(!matchesHeaders(exact, {{"x-env", "production"}}));
  BOOST_TEST(!matchesHeaders(exact, {}));
  BOOST_TEST(matchesHeaders(prefix, {{"x-env", "production"}}));
  BOOST_TEST(!matchesHeaders(prefix, {{"x-env", "dev"}}));
  BOOST_TEST(!matchesHeaders(prefix, {}));
  BOOST_TEST(matchesHeaders(suffix, {{"x-env", "prod"}}));
  BOOST_TEST(!matchesHeaders(suffix, {{"x-env", "production"}}));
  BOOST_TEST(matchesHeaders(contains_, {{"x-env", "prod"}}));
  BOOST_TEST(matchesHeaders(contains_, {{"x-env", "aromatic"}}));
  BOOST_TEST(!matchesHeaders(contains_, {{"x-env", "dev"}}));
}

BOOST_AUTO_TEST_CASE(header_safe_regex_and_string_match) {
  auto t = withRoutes(R"(
  - name: regex
    match: {prefix: /, headers: [{name: x-version, safe_regex_match: {regex: "v[0-9]+"}}]}
    route: {cluster: a}
  - name: string
    match: {prefix: /, headers: [{name: x-user, string_match: {exact: Alice, ignore_case: true}}]}
    route: {cluster: a}
)");
  const auto& routes = t->findVirtualHost("x")->routes;
  BOOST_TEST(matchesHeaders(routes[0], {{"x-version", "v12"}}));
  BOOST_TEST(!matchesHeaders(routes[0], {{"x-version", "xv12"}}));  // full match
  BOOST_TEST(!matchesHeaders(routes[0], {{"x-version", "v12b"}}));
  BOOST_TEST(matchesHeaders(routes[1], {{"x-user", "alice"}}));
  BOOST_TEST(matchesHeaders(routes[1], {{"x-user", "ALICE"}}));
  BOOST_TEST(!matchesHeaders(routes[1], {{"x-user", "bob"}}));
}

BOOST_AUTO_TEST_CASE(header_present_true_and_false) {
  auto t = withRoutes(R"(
  - {name: present, match: {prefix: /, headers: [{name: x-debug, present_match: true}]}, route: {cluster: a}}
  - {name: absent, match: {prefix: /, headers: [{name: x-debug, present_match: false}]}, route: {cluster: a}}
  - {name: bare, match: {prefix: /, headers: [{name: x-debug}]}, route: {cluster: a}}
)");
  const auto& routes = t->findVirtualHost("x")->routes;
  BOOST_TEST(matchesHeaders(routes[0], {{"x-debug", "1"}}));
  BOOST_TEST(matchesHeaders(routes[0], {{"x-debug", ""}}));
  BOOST_TEST(!matchesHeaders(routes[0], {}));
  BOOST_TEST(!matchesHeaders(routes[1], {{"x-debug", "1"}}));
  BOOST_TEST(matchesHeaders(routes[1], {}));
  BOOST_TEST(matchesHeaders(routes[2], {{"x-debug", "1"}}));  // no specifier: must be present
  BOOST_TEST(!matchesHeaders(routes[2], {}));
}

BOOST_AUTO_TEST_CASE(header_invert_match) {
  auto t = withRoutes(R"(
  - {name: not_prod, match: {prefix: /, headers: [{name: x-env, exact_match: prod, invert_match: true}]}, route: {cluster: a}}
  - {name: not_present, match: {prefix: /, headers: [{name: x-env, present_match: true, invert_match: true}]}, route: {cluster: a}}
)");
  const auto& routes = t->findVirtualHost("x")->routes;
  BOOST_TEST(!matchesHeaders(routes[0], {{"x-env", "prod"}}));
  BOOST_TEST(matchesHeaders(routes[0], {{"x-env", "dev"}}));
  BOOST_TEST(!matchesHeaders(routes[1], {{"x-env", "dev"}}));
  BOOST_TEST(matchesHeaders(routes[1], {}));
}

// Envoy's HeaderUtility::matchHeaders: when the header is absent the result is
// `invert_match && type == Present`, so an inverted value matcher does not match a request
// without the header (treat_missing_header_as_empty exists to change that).
BOOST_AUTO_TEST_CASE(inverted_value_matcher_does_not_match_a_missing_header) {
  auto t = withRoutes(R"(
  - {name: not_prod, match: {prefix: /, headers: [{name: x-env, exact_match: prod, invert_match: true}]}, route: {cluster: a}}
)");
  BOOST_TEST(!matchesHeaders(onlyRoute(*t), {}));
}

BOOST_AUTO_TEST_CASE(header_range_match) {
  auto t = withRoutes(R"(
  - {name: range, match: {prefix: /, headers: [{name: x-n, range_match: {start: 10, end: 20}}]}, route: {cluster: a}}
  - {name: negative, match: {prefix: /, headers: [{name: x-n, range_match: {start: -10, end: 0}}]}, route: {cluster: a}}
  - {name: inverted, match: {prefix: /, headers: [{name: x-n, range_match: {start: -10, end: 0}, invert_match: true}]}, route: {cluster: a}}
)");
  const auto& routes = t->findVirtualHost("x")->routes;
  BOOST_TEST(matchesHeaders(routes[0], {{"x-n", "10"}}));  // start is inclusive
  BOOST_TEST(matchesHeaders(routes[0], {{"x-n", "19"}}));
  BOOST_TEST(!matchesHeaders(routes[0], {{"x-n", "20"}}));  // end is exclusive
  BOOST_TEST(!matchesHeaders(routes[0], {{"x-n", "9"}}));
  BOOST_TEST(!matchesHeaders(routes[0], {{"x-n", "abc"}}));
  BOOST_TEST(!matchesHeaders(routes[0], {{"x-n", "15abc"}}));
  BOOST_TEST(!matchesHeaders(routes[0], {}));
  BOOST_TEST(matchesHeaders(routes[1], {{"x-n", "-1"}}));
  BOOST_TEST(matchesHeaders(routes[1], {{"x-n", "-10"}}));
  BOOST_TEST(!matchesHeaders(routes[1], {{"x-n", "0"}}));
  BOOST_TEST(!matchesHeaders(routes[2], {{"x-n", "-1"}}));
  BOOST_TEST(matchesHeaders(routes[2], {{"x-n", "5"}}));
}

BOOST_AUTO_TEST_CASE(several_headers_of_one_name_are_joined_by_comma) {
  auto t = withRoutes(R"(
  - {name: joined, match: {prefix: /, headers: [{name: x-tag, exact_match: "a,b"}]}, route: {cluster: a}}
)");
  const Route& r = onlyRoute(*t);
  BOOST_TEST(matchesHeaders(r, {{"x-tag", "a"}, {"x-tag", "b"}}));
  BOOST_TEST(!matchesHeaders(r, {{"x-tag", "a"}}));
  BOOST_TEST(!matchesHeaders(r, {{"x-tag", "b"}, {"x-tag", "a"}}));
}

BOOST_AUTO_TEST_CASE(all_header_conditions_must_hold) {
  auto t = withRoutes(R"(
  - name: both
    match: {prefix: /, headers: [{name: x-a, exact_match: "1"}, {name: x-b, exact_match: "2"}]}
    route: {cluster: a}
)");
  const Route& r = onlyRoute(*t);
  BOOST_TEST(matchesHeaders(r, {{"x-a", "1"}, {"x-b", "2"}}));
  BOOST_TEST(!matchesHeaders(r, {{"x-a", "1"}}));
  BOOST_TEST(!matchesHeaders(r, {{"x-a", "1"}, {"x-b", "3"}}));
}

// ---- query parameters ----

BOOST_AUTO_TEST_CASE(query_parameter_string_match_and_present_match) {
  auto t = withRoutes(R"(
  - name: q
    match:
      prefix: /
      query_parameters:
      - {name: debug, string_match: {exact: "1"}}
      - {name: trace, present_match: true}
    route: {cluster: a}
)");
  BOOST_TEST(routeFor(*t, "/?debug=1&trace") == "q");
  BOOST_TEST(routeFor(*t, "/p?trace=yes&debug=1") == "q");
  BOOST_TEST(routeFor(*t, "/?trace=1&debug=1#frag") == "q");
  BOOST_TEST(routeFor(*t, "/?debug=2&trace=1") == "(none)");
  BOOST_TEST(routeFor(*t, "/?debug=1") == "(none)");
  BOOST_TEST(routeFor(*t, "/?trace=1") == "(none)");
  BOOST_TEST(routeFor(*t, "/?debug=1#trace") == "(none)");  // the fragment is not a parameter
  BOOST_TEST(routeFor(*t, "/") == "(none)");
  BOOST_TEST(routeFor(*t, "/?debugx=1&trace") == "(none)");
}

BOOST_AUTO_TEST_CASE(query_parameter_prefix_ignore_case) {
  auto t = withRoutes(R"(
  - name: q
    match: {prefix: /, query_parameters: [{name: user, string_match: {prefix: ad, ignore_case: true}}]}
    route: {cluster: a}
)");
  BOOST_TEST(routeFor(*t, "/?user=Admin") == "q");
  BOOST_TEST(routeFor(*t, "/?x=1&user=ADMIN") == "q");
  BOOST_TEST(routeFor(*t, "/?user=guest") == "(none)");
  BOOST_TEST(routeFor(*t, "/?USER=admin") == "(none)");  // parameter names are case-sensitive
}

// ---- runtime fraction ----

BOOST_AUTO_TEST_CASE(runtime_fraction_uses_the_request_random_value) {
  auto t = withRoutes(R"(
  - name: half
    match: {prefix: /, runtime_fraction: {default_value: {numerator: 50, denominator: HUNDRED}, runtime_key: k}}
    route: {cluster: a}
  - name: rest
    match: {prefix: /}
    route: {cluster: b}
)");
  const Route& half = t->findVirtualHost("x")->routes[0];
  BOOST_TEST(half.fraction_per_million.value() == 500000u);
  BOOST_TEST(routeFor(*t, "/", {}, 10) == "half");
  BOOST_TEST(routeFor(*t, "/", {}, 999999) == "rest");
  auto m = withRoutes(R"(
  - name: one_in_a_million
    match: {prefix: /, runtime_fraction: {default_value: {numerator: 1, denominator: MILLION}}}
    route: {cluster: a}
)");
  BOOST_TEST(routeFor(*m, "/", {}, 0) == "one_in_a_million");
  BOOST_TEST(routeFor(*m, "/", {}, 1) == "(none)");
  auto zero = withRoutes(R"(
  - {name: never, match: {prefix: /, runtime_fraction: {default_value: {numerator: 0}}}, route: {cluster: a}}
)");
  BOOST_TEST(routeFor(*zero, "/", {}, 0) == "(none)");
  auto tenk = withRoutes(R"(
  - {name: quarter, match: {prefix: /, runtime_fraction: {default_value: {numerator: 2500, denominator: TEN_THOUSAND}}}, route: {cluster: a}}
)");
  BOOST_TEST(onlyRoute(*tenk).fraction_per_million.value() == 250000u);
  BOOST_TEST(routeFor(*tenk, "/", {}, 100) == "quarter");
  BOOST_TEST(routeFor(*tenk, "/", {}, 999999) == "(none)");
}

// ---- actions ----

BOOST_AUTO_TEST_CASE(prefix_rewrite_keeps_the_query) {
  auto t = withRoutes(R"(
  - {name: r, match: {prefix: /api}, route: {cluster: a, prefix_rewrite: /v2}}
)");
  const Route& r = onlyRoute(*t);
  BOOST_TEST(r.rewritePath("/api/users?x=1&y=2") == "/v2/users?x=1&y=2");
  BOOST_TEST(r.rewritePath("/api") == "/v2");
  auto slash = withRoutes("  - {match: {prefix: /api/}, route: {cluster: a, prefix_rewrite: /}}\n");
  BOOST_TEST(onlyRoute(*slash).rewritePath("/api/users#f") == "/users#f");
  auto exact = withRoutes("  - {match: {path: /old}, route: {cluster: a, prefix_rewrite: /new}}\n");
  BOOST_TEST(onlyRoute(*exact).rewritePath("/old?q") == "/new?q");
  auto none = withRoutes("  - {match: {prefix: /api}, route: {cluster: a}}\n");
  BOOST_TEST(onlyRoute(*none).rewritePath("/api/x?y") == "/api/x?y");
}

BOOST_AUTO_TEST_CASE(regex_rewrite_substitutes_the_path_only) {
  auto t = withRoutes(R"(
  - match: {prefix: /service}
    route:
      cluster: a
      regex_rewrite:
        pattern: {regex: "^/service/([^/]+)(/.*)$"}
        substitution: "\\2/instance/\\1"
)");
  const Route& r = onlyRoute(*t);
  BOOST_TEST(r.rewritePath("/service/foo/v1/api?q=1") == "/v1/api/instance/foo?q=1");
  auto global = withRoutes(R"(
  - match: {prefix: /}
    route: {cluster: a, regex_rewrite: {pattern: {regex: "a"}, substitution: "b"}}
)");
  BOOST_TEST(onlyRoute(*global).rewritePath("/aaa?a=a") == "/bbb?a=a");  // every occurrence, not the query
}

BOOST_AUTO_TEST_CASE(route_action_fields) {
  auto t = withRoutes(R"(
  - match: {prefix: /}
    route:
      cluster: a
      timeout: 2.5s
      idle_timeout: 30s
      host_rewrite_literal: upstream.local
      request_mirror_policies: [{cluster: shadow, runtime_fraction: {default_value: {numerator: 10}}}]
      hash_policy:
      - header: {header_name: X-User}
      - {cookie: {name: session}, terminal: true}
      - connection_properties: {source_ip: true}
      - query_parameter: {name: key}
      upgrade_configs: [{upgrade_type: WebSocket}]
)");
  const Route& r = onlyRoute(*t);
  BOOST_TEST(r.timeout.count() == 2500);
  BOOST_TEST(r.idle_timeout.value().count() == 30000);
  BOOST_TEST(r.host_rewrite == "upstream.local");
  BOOST_TEST_REQUIRE(r.mirrors.size() == 1u);
  BOOST_TEST(r.mirrors[0].cluster == "shadow");
  BOOST_TEST(r.mirrors[0].per_million == 100000u);
  BOOST_TEST_REQUIRE(r.hash.size() == 4u);
  BOOST_TEST((r.hash[0].kind == HashPolicy::Kind::Header));
  BOOST_TEST(r.hash[0].name == "x-user");
  BOOST_TEST((r.hash[1].kind == HashPolicy::Kind::Cookie));
  BOOST_TEST(r.hash[1].terminal);
  BOOST_TEST((r.hash[2].kind == HashPolicy::Kind::SourceIp));
  BOOST_TEST((r.hash[3].kind == HashPolicy::Kind::QueryParameter));
  BOOST_TEST(r.websocket);
  auto defaults = withRoutes("  - {match: {prefix: /}, route: {cluster: a}}\n");
  BOOST_TEST(onlyRoute(*defaults).timeout.count() == 15000);  // Envoy's default route timeout
  BOOST_TEST(!onlyRoute(*defaults).idle_timeout.has_value());
  BOOST_TEST(!onlyRoute(*defaults).retry.has_value());
  BOOST_TEST(!onlyRoute(*defaults).websocket);
  auto header = withRoutes("  - {match: {prefix: /}, route: {cluster_header: X-Cluster}}\n");
  BOOST_TEST((onlyRoute(*header).action == Route::Action::ClusterHeader));
  BOOST_TEST(onlyRoute(*header).cluster == "x-cluster");
}

BOOST_AUTO_TEST_CASE(redirect_fields_and_codes) {
  auto t = withRoutes(R"(
  - match: {prefix: /}
    redirect: {https_redirect: true, host_redirect: new.example.com, port_redirect: 8443, path_redirect: /landing, strip_query: true}
)");
  const Route& r = onlyRoute(*t);
  BOOST_TEST((r.action == Route::Action::Redirect));
  BOOST_TEST(r.redirect_scheme == "https");
  BOOST_TEST(r.redirect_host == "new.example.com");
  BOOST_TEST(r.redirect_port == 8443u);
  BOOST_TEST(r.redirect_path == "/landing");
  BOOST_TEST(r.strip_query);
  BOOST_TEST(r.redirect_code == 301u);  // MOVED_PERMANENTLY is the default
  auto prefix = withRoutes("  - {match: {prefix: /old}, redirect: {scheme_redirect: http, prefix_rewrite: /new}}\n");
  BOOST_TEST(onlyRoute(*prefix).redirect_scheme == "http");
  BOOST_TEST(onlyRoute(*prefix).redirect_prefix == "/new");
  BOOST_TEST(!onlyRoute(*prefix).strip_query);
  const std::pair<const char*, unsigned> codes[] = {{"MOVED_PERMANENTLY", 301}, {"FOUND", 302}, {"SEE_OTHER", 303},
                                                    {"TEMPORARY_REDIRECT", 307}, {"PERMANENT_REDIRECT", 308}};
  for (const auto& [name, code] : codes) {
    BOOST_TEST_CONTEXT("response_code " << name) {
      auto c = withRoutes(std::string("  - {match: {prefix: /}, redirect: {host_redirect: x, response_code: ") + name + "}}\n");
      BOOST_TEST(onlyRoute(*c).redirect_code == code);
    }
  }
}

BOOST_AUTO_TEST_CASE(direct_response_status_and_body) {
  auto t = withRoutes(R"(
  - match: {prefix: /}
    direct_response: {status: 418, body: {inline_string: "short and stout"}}
)");
  const Route& r = onlyRoute(*t);
  BOOST_TEST((r.action == Route::Action::DirectResponse));
  BOOST_TEST(r.direct_status == 418u);
  BOOST_TEST(r.direct_body == "short and stout");
  auto edge = withRoutes("  - {match: {prefix: /}, direct_response: {status: 599}}\n");
  BOOST_TEST(onlyRoute(*edge).direct_status == 599u);
  BOOST_TEST(onlyRoute(*edge).direct_body.empty());
  for (const char* status : {"600", "199", "0", "1000"}) {
    BOOST_TEST_CONTEXT("status " << status) {
      std::string error = errorOf([&] { withRoutes(std::string("  - {match: {prefix: /}, direct_response: {status: ") + status + "}}\n"); });
      BOOST_TEST(contains(error, "virtual_hosts[0] (vh).routes[0]"), error);
      BOOST_TEST(contains(error, std::string("direct_response.status ") + status), error);
    }
  }
}

BOOST_AUTO_TEST_CASE(weighted_clusters) {
  auto t = withRoutes(R"(
  - match: {prefix: /}
    route:
      weighted_clusters:
        clusters:
        - {name: v1, weight: 90, request_headers_to_add: [{header: {key: x-version, value: v1}}]}
        - {name: v2, weight: 10}
)");
  const Route& r = onlyRoute(*t);
  BOOST_TEST((r.action == Route::Action::Weighted));
  BOOST_TEST(r.total_weight == 100u);
  BOOST_TEST_REQUIRE(r.weighted.size() == 2u);
  BOOST_TEST(r.weighted[0].cluster == "v1");
  BOOST_TEST(r.weighted[0].weight == 90u);
  BOOST_TEST(r.weighted[0].request_headers.add.size() == 1u);
  BOOST_TEST(r.weighted[1].weight == 10u);
}

BOOST_AUTO_TEST_CASE(weighted_clusters_with_zero_total_throw) {
  std::string error = errorOf([] {
    withRoutes(R"(
  - match: {prefix: /}
    route: {weighted_clusters: {clusters: [{name: v1, weight: 0}, {name: v2}]}}
)");
  });
  BOOST_TEST(contains(error, "virtual_hosts[0] (vh).routes[0]"), error);
  BOOST_TEST(contains(error, "weights sum to 0"), error);
}

BOOST_AUTO_TEST_CASE(route_without_action_or_cluster_throws) {
  BOOST_TEST(errorOf([] { withRoutes("  - {match: {prefix: /}}\n"); }) != "(no exception)");
  BOOST_TEST(errorOf([] { withRoutes("  - {match: {prefix: /}, route: {timeout: 1s}}\n"); }) != "(no exception)");
  BOOST_TEST(errorOf([] { withRoutes("  - {match: {}, route: {cluster: a}}\n"); }) != "(no exception)");
}

// ---- gRPC timeouts (max_grpc_timeout, grpc_timeout_offset) ----

namespace {

// requestTimeout() for a request with these headers on the only route of `routes`; the upstream
// headers it leaves are returned in `out`.
long long timeoutFor(const std::string& routes, std::initializer_list<std::pair<const char*, const char*>> headers,
                     Fields* out = nullptr, bool envoy_headers = true) {
  auto t = withRoutes(routes);
  const Route& r = onlyRoute(*t);
  Fields f;
  for (const auto& [name, value] : headers) f.insert(name, value);
  auto ms = requestTimeout(r, r.retry ? &*r.retry : nullptr, f, envoy_headers).count();
  if (out) *out = f;
  return ms;
}

const char* kGrpcRoute = "  - {match: {prefix: /}, route: {cluster: c, timeout: 7s, max_grpc_timeout: 10s}}\n";
const char* kGrpc = "application/grpc";

}  // namespace

BOOST_AUTO_TEST_CASE(grpc_timeout_header_sets_the_route_timeout_capped_by_max_grpc_timeout) {
  Fields up;
  BOOST_TEST(timeoutFor(kGrpcRoute, {{"content-type", kGrpc}, {"grpc-timeout", "2S"}}, &up) == 2000);
  BOOST_TEST(up["grpc-timeout"] == "2000m");
  BOOST_TEST(up["x-envoy-expected-rq-timeout-ms"] == "2000");
  BOOST_TEST(timeoutFor(kGrpcRoute, {{"content-type", "application/grpc+proto"}, {"grpc-timeout", "1M"}}, &up) == 10000);
  BOOST_TEST(up["grpc-timeout"] == "10000m");  // the upstream is told the capped deadline
  // No (or an unreadable) grpc-timeout: Envoy's "infinity", then the cap.
  BOOST_TEST(timeoutFor(kGrpcRoute, {{"content-type", kGrpc}}) == 10000);
  BOOST_TEST(timeoutFor(kGrpcRoute, {{"content-type", kGrpc}, {"grpc-timeout", "soon"}}) == 10000);
  BOOST_TEST(timeoutFor(kGrpcRoute, {{"content-type", kGrpc}, {"grpc-timeout", "99999999H"}}) == 10000);
  // Not gRPC (grpc-web is not): the route timeout, grpc-timeout left alone.
  BOOST_TEST(timeoutFor(kGrpcRoute, {{"content-type", "application/grpc-web"}, {"grpc-timeout", "2S"}}, &up) == 7000);
  BOOST_TEST(up["grpc-timeout"] == "2S");
  BOOST_TEST(timeoutFor(kGrpcRoute, {{"grpc-timeout", "2S"}}) == 7000);
}

BOOST_AUTO_TEST_CASE(max_grpc_timeout_zero_means_no_cap) {
  const char* routes = "  - {match: {prefix: /}, route: {cluster: c, max_grpc_timeout: 0s}}\n";
  Fields up;
  BOOST_TEST(timeoutFor(routes, {{"content-type", kGrpc}, {"grpc-timeout", "1H"}}) == 3600000);
  BOOST_TEST(timeoutFor(routes, {{"content-type", kGrpc}}, &up) == 0);  // no timeout at all
  BOOST_TEST(up.count("x-envoy-expected-rq-timeout-ms") == 0u);
  BOOST_TEST(up.count("grpc-timeout") == 0u);
  // Without max_grpc_timeout, grpc-timeout is not read: the route's (default 15 s) timeout.
  BOOST_TEST(timeoutFor("  - {match: {prefix: /}, route: {cluster: c}}\n",
                        {{"content-type", kGrpc}, {"grpc-timeout", "1S"}}, &up) == 15000);
  BOOST_TEST(up["grpc-timeout"] == "1S");
  BOOST_TEST(up["x-envoy-expected-rq-timeout-ms"] == "15000");
}

BOOST_AUTO_TEST_CASE(grpc_timeout_offset_applies_only_when_it_leaves_time) {
  const char* routes =
      "  - {match: {prefix: /}, route: {cluster: c, max_grpc_timeout: 0s, grpc_timeout_offset: 0.5s}}\n";
  BOOST_TEST(timeoutFor(routes, {{"content-type", kGrpc}, {"grpc-timeout", "2S"}}) == 1500);
  BOOST_TEST(timeoutFor(routes, {{"content-type", kGrpc}, {"grpc-timeout", "400m"}}) == 400);
  BOOST_TEST(timeoutFor(routes, {{"content-type", kGrpc}, {"grpc-timeout", "500m"}}) == 500);
  BOOST_TEST(timeoutFor(routes, {{"content-type", kGrpc}}) == 0);
}

BOOST_AUTO_TEST_CASE(expected_timeout_header_is_the_per_try_timeout_when_shorter) {
  Fields up;
  const char* routes = "  - {match: {prefix: /}, route: {cluster: c, timeout: 3s, retry_policy: {per_try_timeout: 1s}}}\n";
  BOOST_TEST(timeoutFor(routes, {}, &up) == 3000);
  BOOST_TEST(up["x-envoy-expected-rq-timeout-ms"] == "1000");
  const char* longer = "  - {match: {prefix: /}, route: {cluster: c, timeout: 3s, retry_policy: {per_try_timeout: 5s}}}\n";
  BOOST_TEST(timeoutFor(longer, {}, &up) == 3000);
  BOOST_TEST(up["x-envoy-expected-rq-timeout-ms"] == "3000");
  BOOST_TEST(timeoutFor("  - {match: {prefix: /}, route: {cluster: c, timeout: 0s}}\n", {}, &up) == 0);
  BOOST_TEST(up.count("x-envoy-expected-rq-timeout-ms") == 0u);
  // suppress_envoy_headers: no header, but grpc-timeout is still rewritten.
  BOOST_TEST(timeoutFor(kGrpcRoute, {{"content-type", kGrpc}, {"grpc-timeout", "2S"}}, &up, false) == 2000);
  BOOST_TEST(up.count("x-envoy-expected-rq-timeout-ms") == 0u);
  BOOST_TEST(up["grpc-timeout"] == "2000m");
}

BOOST_AUTO_TEST_CASE(negative_grpc_timeouts_are_rejected) {
  std::string error = errorOf([] { withRoutes("  - {match: {prefix: /}, route: {cluster: c, max_grpc_timeout: -1s}}\n"); });
  BOOST_TEST(contains(error, "max_grpc_timeout: must not be negative"), error);
  error = errorOf([] { withRoutes("  - {match: {prefix: /}, route: {cluster: c, grpc_timeout_offset: -1s}}\n"); });
  BOOST_TEST(contains(error, "grpc_timeout_offset: must not be negative"), error);
}

// ---- retry policy ----

BOOST_AUTO_TEST_CASE(retry_policy_parsing) {
  auto t = withRoutes(R"(
  - match: {prefix: /}
    route:
      cluster: a
      retry_policy:
        retry_on: "5xx, connect-failure,retriable-status-codes ,refused-stream,reset,unknown-thing"
        num_retries: 4
        per_try_timeout: 2.5s
        retriable_status_codes: [409, 418]
        retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]
        host_selection_retry_max_attempts: 5
        retry_back_off: {base_interval: 0.1s, max_interval: 2s}
)");
  const RetryPolicy& p = onlyRoute(*t).retry.value();
  BOOST_TEST(p.num_retries == 4u);
  BOOST_TEST(p.per_try_timeout.count() == 2500);
  BOOST_TEST(p.on_5xx);
  BOOST_TEST(p.on_connect_failure);
  BOOST_TEST(p.on_retriable_status_codes);
  BOOST_TEST(p.on_refused_stream);
  BOOST_TEST(p.on_reset);
  BOOST_TEST(!p.on_gateway_error);
  BOOST_TEST(!p.on_retriable_4xx);
  BOOST_TEST(p.retriable_status_codes == (std::vector<uint32_t>{409, 418}), boost::test_tools::per_element());
  BOOST_TEST(p.previous_hosts);
  BOOST_TEST(p.host_selection_max_attempts == 5u);
  BOOST_TEST(p.backoff_base.count() == 100);
  BOOST_TEST(p.backoff_max.count() == 2000);
  BOOST_TEST(p.retriesStatus(500));
  BOOST_TEST(p.retriesStatus(503));
  BOOST_TEST(p.retriesStatus(418));
  BOOST_TEST(!p.retriesStatus(404));
}

BOOST_AUTO_TEST_CASE(retry_policy_defaults) {
  auto t = withRoutes(R"(
  - {match: {prefix: /}, route: {cluster: a, retry_policy: {retry_on: gateway-error}}}
)");
  const RetryPolicy& p = onlyRoute(*t).retry.value();
  BOOST_TEST(p.num_retries == 1u);  // Envoy's default
  BOOST_TEST(p.per_try_timeout.count() == 0);
  BOOST_TEST(p.on_gateway_error);
  BOOST_TEST(!p.on_5xx);
  BOOST_TEST(!p.previous_hosts);
  BOOST_TEST(p.host_selection_max_attempts == 1u);
  BOOST_TEST(p.backoff_base.count() == 25);
  BOOST_TEST(p.backoff_max.count() == 250);
  BOOST_TEST(p.retriesStatus(502));
  BOOST_TEST(p.retriesStatus(503));
  BOOST_TEST(p.retriesStatus(504));
  BOOST_TEST(!p.retriesStatus(500));
  auto base_only = withRoutes(R"(
  - {match: {prefix: /}, route: {cluster: a, retry_policy: {retry_on: retriable-4xx, num_retries: 0, retry_back_off: {base_interval: 0.05s}}}}
)");
  const RetryPolicy& b = onlyRoute(*base_only).retry.value();
  BOOST_TEST(b.num_retries == 0u);  // an explicit 0 is kept
  BOOST_TEST(b.backoff_base.count() == 50);
  BOOST_TEST(b.backoff_max.count() == 500);  // ten times the base, as Envoy
  BOOST_TEST(b.retriesStatus(409));
  BOOST_TEST(!b.retriesStatus(404));
}

BOOST_AUTO_TEST_CASE(virtual_host_level_settings) {
  auto t = compileYaml(R"(
request_headers_to_add: [{header: {key: x-config, value: "1"}}]
response_headers_to_remove: [Server]
virtual_hosts:
- name: vh
  domains: ["*"]
  require_tls: ALL
  retry_policy: {retry_on: 5xx, num_retries: 2}
  request_headers_to_add: [{header: {key: x-vhost, value: "1"}}]
  routes: [{match: {prefix: /}, route: {cluster: a}}]
)");
  const VirtualHost* vh = t->findVirtualHost("x");
  BOOST_REQUIRE(vh != nullptr);
  BOOST_TEST(vh->require_tls);
  BOOST_TEST(vh->retry.value().num_retries == 2u);
  BOOST_TEST(vh->request_headers.add.at(0).name == "x-vhost");
  BOOST_TEST(t->requestHeaders().add.at(0).name == "x-config");
  BOOST_TEST(t->responseHeaders().remove.at(0) == "server");
}

// ---- header operations ----

BOOST_AUTO_TEST_CASE(header_operations_apply_every_append_action) {
  auto t = withRoutes(R"(
  - match: {prefix: /}
    route: {cluster: a}
    request_headers_to_add:
    - header: {key: X-Append, value: new}
    - header: {key: x-explicit-append, value: new}
      append_action: APPEND_IF_EXISTS_OR_ADD
    - header: {key: x-add-if-absent, value: new}
      append_action: ADD_IF_ABSENT
    - header: {key: x-absent-added, value: new}
      append_action: ADD_IF_ABSENT
    - header: {key: x-overwrite, value: new}
      append_action: OVERWRITE_IF_EXISTS_OR_ADD
    - header: {key: x-overwrite-added, value: new}
      append_action: OVERWRITE_IF_EXISTS_OR_ADD
    - header: {key: x-if-exists, value: new}
      append_action: OVERWRITE_IF_EXISTS
    - header: {key: x-if-exists-missing, value: new}
      append_action: OVERWRITE_IF_EXISTS
    request_headers_to_remove: [X-Remove]
)");
  const HeaderOperations& ops = onlyRoute(*t).request_headers;
  BOOST_TEST(!ops.empty());
  Fields f;
  for (const char* name : {"x-append", "x-explicit-append", "x-add-if-absent", "x-overwrite", "x-if-exists"})
    f.insert(name, "old");
  f.insert("x-overwrite", "old2");
  f.insert("x-remove", "gone");
  ops.apply(f);
  using V = std::vector<std::string>;
  BOOST_TEST(valuesOf(f, "x-append") == (V{"old", "new"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-explicit-append") == (V{"old", "new"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-add-if-absent") == (V{"old"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-absent-added") == (V{"new"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-overwrite") == (V{"new"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-overwrite-added") == (V{"new"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-if-exists") == (V{"new"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-if-exists-missing").empty());
  BOOST_TEST(valuesOf(f, "x-remove").empty());
}

BOOST_AUTO_TEST_CASE(header_operations_deprecated_append_bool) {
  auto t = withRoutes(R"(
  - match: {prefix: /}
    route: {cluster: a}
    response_headers_to_add:
    - {header: {key: x-legacy-append, value: new}, append: true}
    - {header: {key: x-legacy-replace, value: new}, append: false}
    - {header: {key: x-legacy-replace-added, value: new}, append: false}
)");
  const HeaderOperations& ops = onlyRoute(*t).response_headers;
  BOOST_TEST_REQUIRE(ops.add.size() == 3u);
  BOOST_TEST((ops.add[0].action == HeaderOperation::Action::AppendOrAdd));
  BOOST_TEST((ops.add[1].action == HeaderOperation::Action::OverwriteOrAdd));
  Fields f;
  f.insert("x-legacy-append", "old");
  f.insert("x-legacy-replace", "old");
  ops.apply(f);
  using V = std::vector<std::string>;
  BOOST_TEST(valuesOf(f, "x-legacy-append") == (V{"old", "new"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-legacy-replace") == (V{"new"}), boost::test_tools::per_element());
  BOOST_TEST(valuesOf(f, "x-legacy-replace-added") == (V{"new"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(header_operations_remove_before_add) {
  HeaderOperations ops;
  ops.remove.push_back("x-both");
  ops.add.push_back(HeaderOperation{"x-both", "new", HeaderOperation::Action::AppendOrAdd});
  Fields f;
  f.insert("x-both", "old");
  ops.apply(f);
  BOOST_TEST(valuesOf(f, "x-both") == (std::vector<std::string>{"new"}), boost::test_tools::per_element());
  BOOST_TEST(HeaderOperations{}.empty());
}

// ---- per-filter configuration ----

BOOST_AUTO_TEST_CASE(fault_per_filter_config_is_parsed) {
  auto t = withRoutes(R"(
  - name: faulty
    match: {prefix: /}
    route: {cluster: a}
    typed_per_filter_config:
      envoy.filters.http.fault:
        "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
        abort: {http_status: 503, percentage: {numerator: 100}}
      envoy.filters.http.not_built_in:
        "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors
)",
                      parsePerFilterConfig);
  const Route& r = onlyRoute(*t);
  BOOST_TEST(r.filter_configs.size() == 1u);  // configs of filters the proxy lacks are ignored
  BOOST_TEST_REQUIRE(r.filter_configs.count("envoy.filters.http.fault") == 1u);
  BOOST_TEST(r.filter_configs.at("envoy.filters.http.fault") != nullptr);
  // The parsed config drives the fault filter: 100% aborts with 503.
  const HttpFilterFactory* fault = findHttpFilter("envoy.filters.http.fault");
  BOOST_REQUIRE(fault != nullptr && fault->on_request != nullptr);
  Fields headers;
  RequestContext request{headers, "GET", "/"};
  request.vhost = t->findVirtualHost("x");
  request.route = &r;
  FilterResult result = fault->on_request(nullptr, request);
  BOOST_TEST((result.kind == FilterResult::Kind::LocalReply));
  BOOST_TEST(result.status == 503u);
  BOOST_TEST(request.response_flags == "FI");
}

BOOST_AUTO_TEST_CASE(without_a_parser_per_filter_configs_are_skipped) {
  auto t = withRoutes(R"(
  - match: {prefix: /}
    route: {cluster: a}
    typed_per_filter_config:
      envoy.filters.http.fault: {"@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}
)");
  BOOST_TEST(onlyRoute(*t).filter_configs.empty());
}

BOOST_AUTO_TEST_CASE(fault_per_filter_config_with_wrong_type_throws) {
  std::string error = errorOf([] {
    withRoutes(R"(
  - match: {prefix: /}
    route: {cluster: a}
    typed_per_filter_config:
      envoy.filters.http.fault:
        "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
)",
               parsePerFilterConfig);
  });
  BOOST_TEST(contains(error, "virtual_hosts[0] (vh).routes[0]"), error);
  BOOST_TEST(contains(error, "envoy.filters.http.fault"), error);
  BOOST_TEST(contains(error, "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"), error);
  BOOST_TEST(contains(error, "CorsPolicy"), error);

  std::string vhost_error = errorOf([] {
    compileYaml(R"(
virtual_hosts:
- name: vh
  domains: ["*"]
  typed_per_filter_config:
    envoy.fault: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
  routes: []
)",
                parsePerFilterConfig);
  });
  BOOST_TEST(contains(vhost_error, "virtual_hosts[0] (vh).typed_per_filter_config"), vhost_error);
}

BOOST_AUTO_TEST_CASE(fault_per_filter_config_is_validated) {
  std::string error = errorOf([] {
    withRoutes(R"(
  - match: {prefix: /}
    route: {cluster: a}
    typed_per_filter_config:
      envoy.filters.http.fault:
        "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
        abort: {http_status: 700, percentage: {numerator: 100}}
)",
               parsePerFilterConfig);
  });
  BOOST_TEST(contains(error, "http_status"), error);
}

BOOST_AUTO_TEST_CASE(parse_per_filter_config_directly) {
  auto any = fromYaml<google::protobuf::Any>(
      "{\"@type\": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault, delay: {fixed_delay: 1s, percentage: {numerator: 10}}}");
  BOOST_TEST(parsePerFilterConfig("envoy.filters.http.fault", any) != nullptr);
  BOOST_TEST(parsePerFilterConfig("envoy.fault", any) != nullptr);  // the 1.1-era name
  BOOST_TEST(parsePerFilterConfig("envoy.filters.http.unknown", any) == nullptr);
  BOOST_CHECK_THROW(parsePerFilterConfig("envoy.filters.http.cors", any), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pseudo_header_matches)

// What Pilot emits for VirtualService method/authority/scheme matches: Envoy's pseudo-headers,
// which an HTTP/1.1 request carries as its request line, Host and x-forwarded-proto.
BOOST_AUTO_TEST_CASE(method_authority_scheme_and_path_match_the_request) {
  auto table = withRoutes(R"(
  - match: {prefix: /, headers: [{name: ':method', string_match: {exact: POST}}]}
    route: {cluster: post}
  - match: {prefix: /, headers: [{name: ':authority', string_match: {prefix: admin.}}]}
    route: {cluster: admin}
  - match: {prefix: /, headers: [{name: ':scheme', string_match: {exact: https}}]}
    route: {cluster: secure}
  - match: {prefix: /, headers: [{name: ':path', string_match: {suffix: '?debug=1'}}]}
    route: {cluster: debug}
  - match: {prefix: /}
    route: {cluster: other}
)");
  const VirtualHost* vh = table->findVirtualHost("x");
  Fields plain;
  BOOST_TEST(table->findRoute(*vh, "POST", "/a", plain, 0)->cluster == "post");
  BOOST_TEST(table->findRoute(*vh, "GET", "/a", plain, 0)->cluster == "other");
  Fields admin;
  admin.set(boost::beast::http::field::host, "admin.example.com");
  BOOST_TEST(table->findRoute(*vh, "GET", "/a", admin, 0)->cluster == "admin");
  Fields tls;
  tls.set("x-forwarded-proto", "https");
  BOOST_TEST(table->findRoute(*vh, "GET", "/a", tls, 0)->cluster == "secure");
  BOOST_TEST(table->findRoute(*vh, "GET", "/a?debug=1", plain, 0)->cluster == "debug");
}

BOOST_AUTO_TEST_SUITE_END()
