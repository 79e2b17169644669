// The bookinfo application end to end on loopback: the product page with each reviews version,
// sign-in and the end-user it forwards, tracing headers across two hops, the JSON API and
// connection reuse to dependencies.
#include <boost/test/unit_test.hpp>

#include "demo/bookinfo_fixture.h"
#include "demo/forwarded_headers.h"
#include "demo/test_client.h"

namespace monomesh::demo::test {

namespace http = boost::beast::http;


BOOST_AUTO_TEST_SUITE(demo_bookinfo_app)

BOOST_AUTO_TEST_CASE(reviews_v1_shows_no_stars) {
  Bookinfo mesh;
  auto productpage = mesh.startAll("v1");
  auto page = httpGet(productpage, "/productpage");
  BOOST_REQUIRE_MESSAGE(page.error.empty(), page.error);
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(page.header("Content-Type") == "text/html; charset=utf-8");
  BOOST_TEST(contains(page.body(), "reviews-v1"));
  BOOST_TEST(contains(page.body(), "William Shakespeare"));
  BOOST_TEST(contains(page.body(), "Reviewer1"));
  BOOST_TEST(contains(page.body(), "Reviewer2"));
  BOOST_TEST(!contains(page.body(), "class=\"stars\""));
  BOOST_TEST(!contains(page.body(), "ratings-v1"));
  BOOST_TEST(!contains(page.body(), "Error fetching"));
}

BOOST_AUTO_TEST_CASE(reviews_v2_shows_black_stars_from_ratings) {
  Bookinfo mesh;
  auto productpage = mesh.startAll("v2");
  auto page = httpGet(productpage, "/productpage");
  BOOST_REQUIRE_MESSAGE(page.error.empty(), page.error);
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "reviews-v2"));
  BOOST_TEST(contains(page.body(), "ratings-v1"));
  BOOST_TEST(contains(page.body(), "<span class=\"stars\" style=\"color:black\">\u2605\u2605\u2605\u2605\u2605</span>"));
  BOOST_TEST(contains(page.body(), "<span class=\"stars\" style=\"color:black\">\u2605\u2605\u2605\u2605\u2606</span>"));
  BOOST_TEST(!contains(page.body(), "color:red"));
}

BOOST_AUTO_TEST_CASE(reviews_v3_shows_red_stars) {
  Bookinfo mesh;
  auto productpage = mesh.startAll("v3");
  auto page = httpGet(productpage, "/productpage");
  BOOST_REQUIRE_MESSAGE(page.error.empty(), page.error);
  BOOST_TEST(contains(page.body(), "reviews-v3"));
  BOOST_TEST(contains(page.body(), "ratings-v1"));
  BOOST_TEST(contains(page.body(), "<span class=\"stars\" style=\"color:red\">\u2605\u2605\u2605\u2605\u2606</span>"));
  BOOST_TEST(!contains(page.body(), "color:black"));
}

BOOST_AUTO_TEST_CASE(services_answer_their_json) {
  Bookinfo mesh;
  auto ratings = mesh.start(loopbackInstance("ratings", "v1")).localEndpoint();
  auto details = mesh.start(loopbackInstance("details", "v1")).localEndpoint();
  AppInstance reviews = loopbackInstance("reviews", "v3");
  reviews.name = "reviews-v3-b";
  reviews.upstreams["ratings"] = upstreamAt(ratings);
  auto reviews_at = mesh.start(reviews).localEndpoint();

  auto r = httpGet(ratings, "/ratings/7");
  BOOST_TEST(r.body() == "{\"id\":7,\"ratings\":{\"Reviewer1\":5,\"Reviewer2\":4},\"instance\":\"ratings-v1\"}");
  BOOST_TEST(r.header("Content-Type") == "application/json");
  auto d = httpGet(details, "/details/0");
  BOOST_TEST(contains(d.body(), "\"author\":\"William Shakespeare\""));
  BOOST_TEST(contains(d.body(), "\"ISBN-13\":\"123-1234567890\""));
  auto v = httpGet(reviews_at, "/reviews/0");
  BOOST_TEST(contains(v.body(), "\"reviewsVersion\":\"reviews-v3\""));
  BOOST_TEST(contains(v.body(), "\"instance\":\"reviews-v3-b\""));
  BOOST_TEST(contains(v.body(), "\"ratingsInstance\":\"ratings-v1\""));
  BOOST_TEST(contains(v.body(), "\"rating\":{\"stars\":5,\"color\":\"red\"}"));
  for (const auto& [at, body] : {std::pair{ratings, "{\"status\":\"Ratings is healthy\"}"},
                                 std::pair{details, "{\"status\":\"Details is healthy\"}"},
                                 std::pair{reviews_at, "{\"status\":\"Reviews is healthy\"}"}}) {
    auto health = httpGet(at, "/health");
    BOOST_TEST(health.status() == 200u);
    BOOST_TEST(health.body() == body);
  }
}

BOOST_AUTO_TEST_CASE(landing_page_and_health) {
  Bookinfo mesh;
  auto productpage = mesh.startAll("v1");
  auto landing = httpGet(productpage, "/");
  BOOST_TEST(landing.status() == 200u);
  BOOST_TEST(contains(landing.body(), "href=\"/productpage"));
  auto health = httpGet(productpage, "/health");
  BOOST_TEST(health.status() == 200u);
}

BOOST_AUTO_TEST_CASE(login_sets_cookie_and_productpage_forwards_end_user) {
  Bookinfo mesh;
  auto details = mesh.start(loopbackInstance("details", "v1")).localEndpoint();
  FakeBehaviour reviews_answer;
  reviews_answer.body = "{\"id\":\"0\",\"reviewsVersion\":\"reviews-v9\",\"reviews\":[]}";
  FakeUpstream& reviews = mesh.fake(reviews_answer);
  AppInstance productpage = productpageInstance(details, reviews.endpoint());
  productpage.upstreams["reviews"].host = "reviews.default.svc.cluster.local:9080";
  auto at = mesh.start(productpage).localEndpoint();

  http::request<http::string_body> login{http::verb::post, "/login", 11};
  login.set(http::field::content_type, "application/x-www-form-urlencoded");
  login.body() = "username=jason&passwd=x%26y";
  auto signed_in = httpSend(at, login);
  BOOST_TEST(signed_in.status() == 302u);
  BOOST_TEST(signed_in.header("Location") == "/productpage");
  BOOST_TEST(signed_in.header("Set-Cookie") == "user=jason; Path=/");

  auto page = httpGet(at, "/productpage", {{"Cookie", "session=1; user=jason"}});
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "signed in as <b class=\"user\">jason</b>"));
  BOOST_TEST(contains(page.body(), "reviews-v9"));
  auto seen = reviews.requests();
  BOOST_REQUIRE_EQUAL(seen.size(), 1u);
  BOOST_TEST(seen[0].target == "/reviews/0");
  BOOST_TEST(seen[0].header("end-user") == "jason");
  BOOST_TEST(seen[0].header("cookie") == "user=jason");
  BOOST_TEST(seen[0].header("host") == "reviews.default.svc.cluster.local:9080");

  auto anonymous = httpGet(at, "/productpage");
  BOOST_TEST(contains(anonymous.body(), "action=\"/login\""));
  seen = reviews.requests();
  BOOST_REQUIRE_EQUAL(seen.size(), 2u);
  BOOST_TEST(seen[1].header("end-user").empty());
  BOOST_TEST(seen[1].header("host") == "reviews.default.svc.cluster.local:9080");

  auto signed_out = httpGet(at, "/logout", {{"Cookie", "user=jason"}});
  BOOST_TEST(signed_out.status() == 302u);
  BOOST_TEST(signed_out.header("Location") == "/productpage");
  BOOST_TEST(contains(signed_out.header("Set-Cookie"), "user=;"));
  BOOST_TEST(contains(signed_out.header("Set-Cookie"), "Max-Age=0"));
}

BOOST_AUTO_TEST_CASE(login_refuses_bad_user_names) {
  Bookinfo mesh;
  auto productpage = mesh.startAll("v1");
  for (std::string body : std::vector<std::string>{"username=", "passwd=x", "username=a%0d%0aSet-Cookie:%20x=1", "username=<script>",
                           "username=" + std::string(65, 'a')}) {
    http::request<http::string_body> login{http::verb::post, "/login", 11};
    login.body() = body;
    auto answer = httpSend(productpage, login);
    BOOST_TEST(answer.status() == 400u, body);
    BOOST_TEST(answer.header("Set-Cookie").empty());
  }
  auto get_login = httpGet(productpage, "/login");
  BOOST_TEST(get_login.status() == 405u);
  BOOST_TEST(get_login.header("Allow") == "POST");
  // A cookie that is not a valid user name is ignored, not echoed.
  auto page = httpGet(productpage, "/productpage", {{"Cookie", "user=<b>x</b>"}});
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(!contains(page.body(), "<b>x</b>"));
}

BOOST_AUTO_TEST_CASE(tracing_headers_cross_two_hops) {
  Bookinfo mesh;
  FakeBehaviour ratings_answer;
  ratings_answer.body = "{\"id\":0,\"ratings\":{\"Reviewer1\":3,\"Reviewer2\":1},\"instance\":\"ratings-fake\"}";
  FakeUpstream& ratings = mesh.fake(ratings_answer);
  auto at = mesh.startFront("v2", ratings.endpoint());

  Headers tracing = {{"x-request-id", "7b1c0f6e-0000-4000-8000-000000000001"},
                     {"x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"},
                     {"x-b3-spanid", "a2fb4a1d1a96d312"},
                     {"x-b3-parentspanid", "0020000000000001"},
                     {"x-b3-sampled", "1"},
                     {"x-b3-flags", "0"},
                     {"x-ot-span-context", "463ac35c9f6413ad;a2fb4a1d1a96d312;0000000000000000;cs"},
                     {"x-not-forwarded", "1"},
                     {"Cookie", "user=jason"}};
  auto page = httpGet(at, "/productpage", tracing);
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "ratings-fake"));
  BOOST_TEST(contains(page.body(), "style=\"color:black\">\u2605\u2605\u2605\u2606\u2606</span>"));
  auto seen = ratings.requests();
  BOOST_REQUIRE_EQUAL(seen.size(), 1u);
  BOOST_TEST(seen[0].target == "/ratings/0");
  BOOST_TEST(seen[0].header("host") == "ratings:9080");
  for (size_t i = 0; i < kTracingHeaders.size(); ++i)
    BOOST_TEST(seen[0].header(std::string(kTracingHeaders[i])) == tracing[i].second, kTracingHeaders[i]);
  BOOST_TEST(seen[0].header("x-not-forwarded").empty());
  BOOST_TEST(seen[0].header("end-user") == "jason");
  BOOST_TEST(seen[0].header("cookie") == "user=jason");
}

BOOST_AUTO_TEST_CASE(product_api_answers_json) {
  Bookinfo mesh;
  auto at = mesh.startAll("v2");
  auto products = httpGet(at, "/api/v1/products");
  BOOST_TEST(products.status() == 200u);
  BOOST_TEST(products.header("Content-Type") == "application/json");
  BOOST_TEST(contains(products.body(), "\"title\":\"The Comedy of Errors\""));
  auto product = httpGet(at, "/api/v1/products/0");
  BOOST_TEST(product.status() == 200u);
  BOOST_TEST(contains(product.body(), "\"publisher\":\"PublisherA\""));
  auto reviews = httpGet(at, "/api/v1/products/0/reviews");
  BOOST_TEST(contains(reviews.body(), "\"reviewsVersion\":\"reviews-v2\""));
  auto ratings = httpGet(at, "/api/v1/products/0/ratings");
  BOOST_TEST(contains(ratings.body(), "\"Reviewer1\":5"));
  BOOST_TEST(httpGet(at, "/api/v1/products/abc").status() == 400u);
  BOOST_TEST(httpGet(at, "/api/v1/products/0/nothing").status() == 404u);
  BOOST_TEST(httpGet(at, "/api/v1/productsX").status() == 404u);
}

BOOST_AUTO_TEST_CASE(connections_to_dependencies_are_reused) {
  Bookinfo mesh;
  FakeBehaviour answer;
  answer.body = "{\"reviewsVersion\":\"reviews-v1\",\"reviews\":[]}";
  FakeUpstream& reviews = mesh.fake(answer);
  FakeBehaviour dropping = answer;
  dropping.drop_after_answer = true;  // closes idle connections behind the client's back
  FakeUpstream& details = mesh.fake(dropping);
  AppInstance productpage = productpageInstance(details.endpoint(), reviews.endpoint());
  auto at = mesh.start(productpage).localEndpoint();
  for (int i = 0; i < 3; ++i) {
    auto page = httpGet(at, "/productpage");
    BOOST_TEST(page.status() == 200u);
    BOOST_TEST(!contains(page.body(), "Error fetching"), i);
  }
  BOOST_TEST(reviews.connections() == 1u);
  BOOST_TEST(reviews.requests().size() == 3u);
  BOOST_TEST(details.requests().size() == 3u);  // a dropped connection was replaced, not failed
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace monomesh::demo::test
