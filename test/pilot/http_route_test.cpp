// Each HTTPRoute field of Istio 1.1 translated into Envoy routes (virtual_service_routes.cpp),
// checked through the reviews virtual host of productpage's sidecar on port 9080.
#include <boost/test/unit_test.hpp>

#include "xds_test_util.h"
#include "xds_text.h"

namespace monomesh::pilot::testing {
namespace {

namespace rv3 = envoy::config::route::v3;

// The routes of the reviews host for `http` (the VirtualService's http section, YAML).
std::vector<rv3::Route> reviewsRoutes(const std::string& http, const std::string& extra = "") {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  if (!extra.empty()) mesh.add(extra);
  mesh.add(virtualService("reviews", "default", "[reviews]", "  http:\n" + http));
  auto node = productpageSidecar();
  xds::ProxyView view(mesh.push(), node);
  auto config = xds::buildRouteConfiguration(view, "9080");
  BOOST_REQUIRE(config.has_value());
  checkProxyAccepts(*config);
  for (const auto& vh : config->virtual_hosts())
    if (vh.name() == "reviews.default.svc.cluster.local:9080") return {vh.routes().begin(), vh.routes().end()};
  BOOST_FAIL("no reviews virtual host");
  return {};
}

std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

const std::string kV1 = "    route: [{destination: {host: reviews, subset: v1}}]\n";

BOOST_AUTO_TEST_SUITE(http_route)

BOOST_AUTO_TEST_CASE(uri_method_authority_scheme_and_header_matches) {
  auto routes = reviewsRoutes(R"(
  - match:
    - uri: {exact: /exact}
      method: {exact: GET}
      authority: {prefix: reviews}
      scheme: {exact: https}
      headers: {x-b: {regex: "v[0-9]+"}, x-a: {prefix: pre}}
    - uri: {prefix: /pre}
    - uri: {regex: "/re/[a-z]+"}
)" + kV1);
  BOOST_REQUIRE(routes.size() == 3);
  BOOST_TEST(firstLine(describeRoute(routes[0])) ==
             "route path=/exact [x-a prefix=pre] [x-b regex=v[0-9]+] [:method exact=GET] [:authority prefix=reviews] "
             "[:scheme exact=https] -> outbound|9080|v1|reviews.default.svc.cluster.local timeout=0s");
  BOOST_TEST(routes[1].match().prefix() == "/pre");
  BOOST_TEST(routes[2].match().safe_regex().regex() == "/re/[a-z]+");
}

BOOST_AUTO_TEST_CASE(port_gateway_and_source_label_conditions_pick_the_matches_for_this_proxy) {
  auto routes = reviewsRoutes(R"(
  - match:
    - {uri: {prefix: /other-port}, port: 8000}
    - {uri: {prefix: /this-port}, port: 9080}
    - {uri: {prefix: /gateway-only}, gateways: [my-gateway]}
    - {uri: {prefix: /mesh}, gateways: [mesh]}
    - {uri: {prefix: /reviews-only}, sourceLabels: {app: reviews}}
    - {uri: {prefix: /productpage}, sourceLabels: {app: productpage}}
)" + kV1);
  std::vector<std::string> prefixes;
  for (const auto& r : routes) prefixes.push_back(r.match().prefix());
  BOOST_TEST(prefixes == (std::vector<std::string>{"/this-port", "/mesh", "/productpage"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(rules_after_a_catch_all_are_unreachable_and_left_out) {
  auto routes = reviewsRoutes("  - match: [{uri: {prefix: /}}]\n" + kV1 + "  - route: [{destination: {host: reviews, subset: v2}}]\n");
  BOOST_REQUIRE(routes.size() == 1);
  BOOST_TEST(routes[0].route().cluster() == "outbound|9080|v1|reviews.default.svc.cluster.local");
}

BOOST_AUTO_TEST_CASE(weights_become_weighted_clusters_and_zero_weights_are_dropped) {
  auto routes = reviewsRoutes(R"(
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 70}
    - {destination: {host: reviews, subset: v2}, weight: 30}
    - {destination: {host: reviews, subset: v3}, weight: 0}
)");
  BOOST_TEST(firstLine(describeRoute(routes[0])) ==
             "route prefix=/ -> outbound|9080|v1|reviews.default.svc.cluster.local=70 -> "
             "outbound|9080|v2|reviews.default.svc.cluster.local=30 timeout=0s");
}

BOOST_AUTO_TEST_CASE(destination_ports_explicit_only_port_listener_port_or_blackhole_for_names) {
  auto cluster = [](const std::string& destination) {
    return reviewsRoutes("  - route: [{destination: " + destination + "}]\n")[0].route().cluster();
  };
  BOOST_TEST(cluster("{host: httpbin.other.svc.cluster.local, port: {number: 8000}}") == "outbound|8000||httpbin.other.svc.cluster.local");
  // Two ports: the listener's.
  BOOST_TEST(cluster("{host: httpbin.other.svc.cluster.local}") == "outbound|9080||httpbin.other.svc.cluster.local");
  BOOST_TEST(cluster("{host: reviews.default.svc.cluster.local}") == "outbound|9080||reviews.default.svc.cluster.local");
  BOOST_TEST(cluster("{host: unknown.example.com}") == "outbound|9080||unknown.example.com");
  BOOST_TEST(cluster("{host: httpbin.other.svc.cluster.local, port: {name: http}}") == "BlackHoleCluster");
}

BOOST_AUTO_TEST_CASE(a_single_port_service_is_reached_on_its_port_from_any_listener) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(virtualService("httpbin", "other", "[httpbin]", R"(
  http:
  - route: [{destination: {host: reviews.default.svc.cluster.local}}]
)"));
  auto node = productpageSidecar();
  xds::ProxyView view(mesh.push(), node);
  auto config = xds::buildRouteConfiguration(view, "8000");
  BOOST_REQUIRE(config.has_value());
  BOOST_TEST(config->virtual_hosts(0).routes(0).route().cluster() == "outbound|9080||reviews.default.svc.cluster.local");
}

BOOST_AUTO_TEST_CASE(redirect_and_rewrite) {
  auto redirect = reviewsRoutes("  - redirect: {uri: /v1/bookRatings, authority: newratings.default.svc.cluster.local}\n");
  BOOST_TEST(redirect[0].redirect().path_redirect() == "/v1/bookRatings");
  BOOST_TEST(redirect[0].redirect().host_redirect() == "newratings.default.svc.cluster.local");
  BOOST_TEST(int(redirect[0].redirect().response_code()) == int(rv3::RedirectAction::MOVED_PERMANENTLY));
  auto rewrite = reviewsRoutes("  - rewrite: {uri: /v1/bookRatings, authority: ratings.example}\n" + kV1);
  BOOST_TEST(rewrite[0].route().prefix_rewrite() == "/v1/bookRatings");
  BOOST_TEST(rewrite[0].route().host_rewrite_literal() == "ratings.example");
  auto uri_only = reviewsRoutes("  - rewrite: {uri: /x}\n" + kV1);
  BOOST_TEST(uri_only[0].route().host_rewrite_literal().empty());
}

BOOST_AUTO_TEST_CASE(timeouts_and_retries) {
  auto routes = reviewsRoutes(R"(
  - timeout: 10s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error, 503,connect-failure"}
)" + kV1);
  BOOST_TEST(describeRoute(routes[0]) ==
             "route prefix=/ -> outbound|9080|v1|reviews.default.svc.cluster.local timeout=10s\n"
             "        retry=3 on=gateway-error,connect-failure codes=503 per_try=2s "
             "host_predicate=envoy.retry_host_predicates.previous_hosts host_attempts=3");
  auto no_retries = reviewsRoutes("  - retries: {attempts: 0}\n" + kV1);
  BOOST_TEST(!no_retries[0].route().has_retry_policy());
  auto defaults = reviewsRoutes("  - retries: {attempts: 5}\n" + kV1);
  BOOST_TEST(defaults[0].route().retry_policy().num_retries().value() == 5u);
  BOOST_TEST(defaults[0].route().retry_policy().retry_on() ==
             "connect-failure,refused-stream,unavailable,cancelled,resource-exhausted,retriable-status-codes");
}

BOOST_AUTO_TEST_CASE(faults_become_the_fault_filters_per_route_config) {
  auto routes = reviewsRoutes(R"(
  - fault:
      delay: {percent: 10, fixedDelay: 5s}
      abort: {percentage: {value: 0.1}, httpStatus: 400}
)" + kV1);
  BOOST_TEST(describeRoute(routes[0]).ends_with("envoy.filters.http.fault: delay=5s@10% abort=400@0.1%"));
  // gRPC aborts and exponential delays were "not supported yet" in 1.1: no fault at all here.
  auto unsupported = reviewsRoutes("  - fault: {abort: {percent: 50, grpcStatus: UNAVAILABLE}}\n" + kV1);
  BOOST_TEST(unsupported[0].typed_per_filter_config().empty());
}

BOOST_AUTO_TEST_CASE(mirror_cors_websocket_and_headers) {
  auto routes = reviewsRoutes(R"(
  - mirror: {host: reviews, subset: v2}
    websocketUpgrade: true
    corsPolicy:
      allowOrigin: [http://foo.example]
      allowMethods: [POST, GET]
      allowHeaders: [X-Foo-Bar]
      exposeHeaders: [X-Expose]
      maxAge: 24h
      allowCredentials: false
    headers:
      request: {set: {x-set: a}, add: {x-add: b}, remove: [x-gone]}
      response: {set: {x-resp: c}, remove: [x-resp-gone]}
    appendHeaders: {x-legacy: d}
    removeResponseHeaders: [x-legacy-gone]
)" + kV1);
  BOOST_TEST(describeRoute(routes[0]) ==
             "route prefix=/ -> outbound|9080|v1|reviews.default.svc.cluster.local timeout=0s "
             "mirror=outbound|9080|v2|reviews.default.svc.cluster.local upgrade=websocket\n"
             "        retry=2 on=connect-failure,refused-stream,unavailable,cancelled,resource-exhausted,retriable-status-codes "
             "codes=503 host_predicate=envoy.retry_host_predicates.previous_hosts host_attempts=3\n"
             "        req+x-set=a(set) req+x-add=b(add) req+x-legacy=d(add) req-x-gone resp+x-resp=c(set) resp-x-resp-gone "
             "resp-x-legacy-gone\n"
             "        envoy.filters.http.cors: origins=exact=http://foo.example methods=POST,GET headers=X-Foo-Bar "
             "expose=X-Expose max_age=86400 credentials=false");
}

BOOST_AUTO_TEST_CASE(destination_headers_stay_on_their_weighted_cluster) {
  auto routes = reviewsRoutes(R"(
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50, headers: {request: {set: {x-v: "1"}}}}
    - {destination: {host: reviews, subset: v2}, weight: 50, appendRequestHeaders: {x-v: "2"}}
)");
  BOOST_TEST(firstLine(describeRoute(routes[0])) ==
             "route prefix=/ -> outbound|9080|v1|reviews.default.svc.cluster.local=50 req+x-v=1(set) -> "
             "outbound|9080|v2|reviews.default.svc.cluster.local=50 req+x-v=2(add) timeout=0s");
  auto single = reviewsRoutes("  - route: [{destination: {host: reviews}, headers: {response: {remove: [x-server]}}}]\n");
  BOOST_TEST(single[0].response_headers_to_remove(0) == "x-server");
}

BOOST_AUTO_TEST_CASE(consistent_hash_destination_rules_add_hash_policies) {
  auto hashed = [](const std::string& lb) {
    auto rule = "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: reviews, namespace: default}\n"
                "spec:\n  host: reviews\n  trafficPolicy: {loadBalancer: {consistentHash: " + lb + "}}\n"
                "  subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}}]\n";
    return describeRoute(reviewsRoutes("  - route: [{destination: {host: reviews}}]\n", rule)[0]);
  };
  BOOST_TEST(firstLine(hashed("{httpHeaderName: x-user}")).ends_with("hash=header:x-user"));
  BOOST_TEST(firstLine(hashed("{httpCookie: {name: session, ttl: 60s}}")).ends_with("hash=cookie:session/60s"));
  auto subset = reviewsRoutes("  - route: [{destination: {host: reviews, subset: v1}}]\n",
                              "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: reviews, namespace: default}\n"
                              "spec:\n  host: reviews\n  subsets: [{name: v1, trafficPolicy: {loadBalancer: {consistentHash: "
                              "{useSourceIp: true}}}}]\n");
  BOOST_TEST(firstLine(describeRoute(subset[0])).ends_with("hash=source_ip"));
}

BOOST_AUTO_TEST_CASE(matches_with_regexes_re2_cannot_compile_are_left_out) {
  auto routes = reviewsRoutes(R"(
  - match:
    - uri: {regex: "/(unclosed"}
    - headers: {x-a: {regex: "*bad"}}
    - uri: {prefix: /good}
)" + kV1);
  BOOST_REQUIRE(routes.size() == 1);
  BOOST_TEST(routes[0].match().prefix() == "/good");
}

BOOST_AUTO_TEST_CASE(routes_without_a_usable_destination_are_left_out) {
  auto routes = reviewsRoutes(R"(
  - match: [{uri: {prefix: /zero}}]
    route:
    - {destination: {host: reviews, subset: v1}, weight: 0}
    - {destination: {host: reviews, subset: v2}, weight: 0}
  - route: [{destination: {host: reviews, subset: v3}}]
)");
  BOOST_REQUIRE(routes.size() == 1);
  BOOST_TEST(routes[0].route().cluster() == "outbound|9080|v3|reviews.default.svc.cluster.local");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::pilot::testing
