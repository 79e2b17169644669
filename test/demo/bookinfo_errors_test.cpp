// The bookinfo application when things go wrong: dead or slow dependencies give bookinfo's
// messages within its timeouts, bad requests get clear answers, configuration errors are named,
// and stop() ends everything, even requests in flight.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <optional>

#include "demo/bookinfo_fixture.h"
#include "demo/test_client.h"

namespace monomesh::demo::test {

namespace http = boost::beast::http;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;


BOOST_AUTO_TEST_SUITE(demo_bookinfo_errors)

BOOST_AUTO_TEST_CASE(dead_ratings_gives_the_bookinfo_message) {
  Bookinfo mesh;
  auto at = mesh.startFront("v2", deadEndpoint());
  auto page = httpGet(at, "/productpage");
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "Ratings service is currently unavailable"));
  BOOST_TEST(contains(page.body(), "Reviewer1"));
  BOOST_TEST(contains(page.body(), "reviews-v2"));
  BOOST_TEST(!contains(page.body(), "class=\"stars\""));
  auto json = httpGet(at, "/api/v1/products/0/reviews");
  BOOST_TEST(json.status() == 200u);
  BOOST_TEST(contains(json.body(), "\"rating\":{\"error\":\"Ratings service is currently unavailable\"}"));
  BOOST_TEST(contains(json.body(), "\"ratingsError\":\"connect: "));
}

BOOST_AUTO_TEST_CASE(ratings_error_status_gives_the_bookinfo_message) {
  Bookinfo mesh;
  FakeBehaviour abort;
  abort.status = 500;
  abort.body = "fault filter abort";
  auto at = mesh.startFront("v3", mesh.fake(abort).endpoint());
  auto page = httpGet(at, "/productpage");
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "Ratings service is currently unavailable"));
  BOOST_TEST(contains(page.body(), "reviews-v3"));
}

BOOST_AUTO_TEST_CASE(slow_ratings_trips_the_reviews_timeout) {
  Bookinfo mesh;
  FakeBehaviour silent;
  silent.silent = true;
  FakeUpstream& ratings = mesh.fake(silent);
  auto at = mesh.startFront("v2", ratings.endpoint(), milliseconds(300));
  auto page = httpGet(at, "/productpage");
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "Ratings service is currently unavailable"));
  BOOST_TEST(contains(page.body(), "reviews-v2"));
  auto json = httpGet(at, "/api/v1/products/0/reviews");
  BOOST_TEST(contains(json.body(), "\"ratingsError\":\"timed out after 300 ms\""));
  BOOST_TEST(ratings.requests().size() == 2u);  // reviews does not retry ratings
}

BOOST_AUTO_TEST_CASE(reviews_v3_waits_bookinfos_two_and_a_half_seconds) {
  Bookinfo mesh;
  FakeBehaviour slow;
  slow.delay = milliseconds(4000);  // past v3's 2.5 s, within v2's 10 s
  slow.body = "{\"ratings\":{\"Reviewer1\":1,\"Reviewer2\":1}}";
  FakeUpstream& ratings = mesh.fake(slow);
  AppInstance reviews = loopbackInstance("reviews", "v3");
  reviews.upstreams["ratings"] = upstreamAt(ratings.endpoint());
  auto at = mesh.start(reviews).localEndpoint();
  auto started = Clock::now();
  auto json = httpGet(at, "/reviews/0");
  auto waited = Clock::now() - started;
  BOOST_TEST(json.status() == 200u);
  BOOST_TEST(contains(json.body(), "\"ratingsError\":\"timed out after 2500 ms\""));
  BOOST_TEST(waited >= milliseconds(2400));
}

BOOST_AUTO_TEST_CASE(bookinfo_timeouts_match_istios_fault_injection_task) {
  AppInstance productpage = loopbackInstance("productpage", "v1");
  AppInstance v2 = loopbackInstance("reviews", "v2"), v3 = loopbackInstance("reviews", "v3");
  // jason's page fails after ~6 s under a 7 s ratings delay: productpage gives reviews 3 s, twice ...
  BOOST_TEST(bookinfoTimeout(productpage, "reviews").count() == 3000);
  BOOST_TEST(bookinfoAttempts(productpage, "reviews") == 2u);
  BOOST_TEST(bookinfoTimeout(productpage, "details").count() == 3000);
  BOOST_TEST(bookinfoAttempts(productpage, "details") == 1u);
  // ... while reviews v2 would have waited 10 s for ratings; v3 (the fix) waits 2.5 s.
  BOOST_TEST(bookinfoTimeout(v2, "ratings").count() == 10000);
  BOOST_TEST(bookinfoTimeout(v3, "ratings").count() == 2500);
  BOOST_TEST(bookinfoAttempts(v2, "ratings") == 1u);
  productpage.upstreams["reviews"].timeout = milliseconds(500);
  Upstream reviews = effectiveUpstream(productpage, "reviews");
  BOOST_TEST(reviews.timeout.count() == 500);
  BOOST_TEST(reviews.attempts == 2u);
  BOOST_TEST(reviews.host == "reviews:9080");
  using Names = std::vector<std::string>;
  BOOST_TEST(requiredDependencies(productpage) == (Names{"details", "reviews"}), boost::test_tools::per_element());
  BOOST_TEST(optionalDependencies(productpage) == Names{"ratings"}, boost::test_tools::per_element());
  BOOST_TEST(requiredDependencies(v3) == Names{"ratings"}, boost::test_tools::per_element());
  BOOST_TEST(requiredDependencies(loopbackInstance("reviews", "v1")).empty());
  BOOST_TEST(requiredDependencies(loopbackInstance("ratings", "v1")).empty());
}

BOOST_AUTO_TEST_CASE(slow_reviews_is_tried_twice_then_reported) {
  Bookinfo mesh;
  FakeBehaviour silent;
  silent.silent = true;
  FakeUpstream& reviews = mesh.fake(silent);
  auto details = mesh.start(loopbackInstance("details", "v1")).localEndpoint();
  AppInstance productpage = productpageInstance(details, reviews.endpoint());
  productpage.upstreams["reviews"].timeout = milliseconds(200);
  auto at = mesh.start(productpage).localEndpoint();
  auto page = httpGet(at, "/productpage");
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "Error fetching product reviews!"));
  BOOST_TEST(contains(page.body(), "Sorry, product reviews are currently unavailable for this book."));
  BOOST_TEST(contains(page.body(), "William Shakespeare"));
  BOOST_TEST(reviews.requests().size() == 2u);
  auto api = httpGet(at, "/api/v1/products/0/reviews");
  BOOST_TEST(api.status() == 500u);
  BOOST_TEST(api.body() == "{\"error\":\"Sorry, product reviews are currently unavailable for this book.\"}");
}

BOOST_AUTO_TEST_CASE(dead_details_and_reviews_still_give_a_page) {
  Bookinfo mesh;
  AppInstance productpage = productpageInstance(deadEndpoint(), deadEndpoint());
  auto at = mesh.start(productpage).localEndpoint();
  auto page = httpGet(at, "/productpage");
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "Error fetching product details!"));
  BOOST_TEST(contains(page.body(), "Sorry, product details are currently unavailable for this book."));
  BOOST_TEST(contains(page.body(), "Sorry, product reviews are currently unavailable for this book."));
  BOOST_TEST(httpGet(at, "/api/v1/products/0").status() == 500u);
  BOOST_TEST(httpGet(at, "/api/v1/products/0/ratings").status() == 503u);  // no ratings configured
}

BOOST_AUTO_TEST_CASE(upstream_error_status_is_passed_on_by_the_api) {
  Bookinfo mesh;
  FakeBehaviour unavailable;
  unavailable.status = 503;
  unavailable.body = "no healthy upstream";
  auto& details = mesh.fake(unavailable);
  AppInstance productpage = productpageInstance(details.endpoint(), details.endpoint());
  auto at = mesh.start(productpage).localEndpoint();
  auto api = httpGet(at, "/api/v1/products/0");
  BOOST_TEST(api.status() == 503u);
  BOOST_TEST(api.body() == "{\"error\":\"Sorry, product details are currently unavailable for this book.\"}");
  auto page = httpGet(at, "/productpage");
  BOOST_TEST(page.status() == 200u);
  BOOST_TEST(contains(page.body(), "Error fetching product details!"));
}

BOOST_AUTO_TEST_CASE(bad_requests_get_clear_answers_and_never_crash) {
  Bookinfo mesh;
  auto productpage = mesh.startAll("v2");
  BOOST_TEST(httpGet(productpage, "/nothing-here").status() == 404u);

  AppInstance ratings_instance = loopbackInstance("ratings", "v1");
  ratings_instance.limits.max_body_bytes = 1024;
  auto ratings = mesh.start(ratings_instance).localEndpoint();
  BOOST_TEST(httpGet(ratings, "/nothing").status() == 404u);
  BOOST_TEST(httpGet(ratings, "/ratings/").status() == 400u);
  BOOST_TEST(httpGet(ratings, "/ratings/12x").status() == 400u);
  BOOST_TEST(httpGet(ratings, "/ratings/1234567890").status() == 400u);
  http::request<http::string_body> post{http::verb::post, "/ratings/0", 11};
  auto wrong_method = httpSend(ratings, post);
  BOOST_TEST(wrong_method.status() == 405u);
  BOOST_TEST(wrong_method.header("Allow") == "GET, HEAD");

  auto huge_header = httpGet(ratings, "/ratings/0", {{"x-huge", std::string(20000, 'a')}});
  BOOST_TEST(huge_header.status() == 431u);
  BOOST_TEST(huge_header.header("Connection") == "close");
  http::request<http::string_body> big{http::verb::post, "/ratings/0", 11};
  big.body() = std::string(4096, 'b');
  BOOST_TEST(httpSend(ratings, big).status() == 413u);

  for (const std::string& garbage :
       {std::string("NOT HTTP AT ALL\r\n\r\n"), std::string("GET / HTTP/1.1\r\nHost x\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), std::string("\x16\x03\x01\x02\x00", 5) +
            std::string(64, '\x01') + "\r\n\r\n"}) {
    std::string reply = rawExchange(ratings, garbage);
    BOOST_TEST(reply.rfind("HTTP/1.1 400", 0) == 0u, garbage.substr(0, 20) << " -> " << reply.substr(0, 40));
  }

  auto head = httpSend(ratings, http::request<http::string_body>{http::verb::head, "/ratings/0", 11});
  BOOST_TEST(head.status() == 200u);
  BOOST_TEST(head.body().empty());
  BOOST_TEST(head.header("Content-Length") != "0");

  // Still serving after all that.
  BOOST_TEST(httpGet(ratings, "/health").status() == 200u);
  BOOST_TEST(httpGet(productpage, "/productpage").status() == 200u);
}

BOOST_AUTO_TEST_CASE(slow_and_surplus_clients_are_cut_off) {
  Bookinfo mesh;
  AppInstance impatient = loopbackInstance("details", "v1");
  impatient.limits.io_timeout = milliseconds(300);
  auto details = mesh.start(impatient).localEndpoint();
  // Half a request, then silence: the server's deadline closes it, long before the client's.
  auto started = Clock::now();
  BOOST_TEST(rawExchange(details, "GET /details/0 HTTP/1.1\r\nHost:", std::chrono::seconds(20)).empty());
  BOOST_TEST((Clock::now() - started) < std::chrono::seconds(10));

  AppInstance small = loopbackInstance("ratings", "v1");
  small.limits.max_connections = 2;
  auto ratings = mesh.start(small).localEndpoint();
  // Two idle connections fill the server; a third is closed at once; then it serves again.
  boost::asio::io_context context;
  boost::asio::ip::tcp::socket first(context), second(context);
  first.connect(ratings);
  second.connect(ratings);
  std::this_thread::sleep_for(milliseconds(50));
  BOOST_TEST(rawExchange(ratings, "GET /health HTTP/1.1\r\nHost: d\r\n\r\n", std::chrono::seconds(20)).empty());
  first.close();
  second.close();
  unsigned status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    status = httpGet(ratings, "/health").status();
  }
  BOOST_TEST(status == 200u);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_many_requests_on_one_connection) {
  Bookinfo mesh;
  auto ratings = mesh.start(loopbackInstance("ratings", "v1")).localEndpoint();
  std::string requests;
  for (int i = 0; i < 3; ++i) requests += "GET /ratings/" + std::to_string(i) + " HTTP/1.1\r\nHost: r\r\n\r\n";
  requests += "GET /health HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n";
  std::string reply = rawExchange(ratings, requests);
  size_t answers = 0;
  for (size_t at = reply.find("HTTP/1.1 200"); at != std::string::npos; at = reply.find("HTTP/1.1 200", at + 1)) ++answers;
  BOOST_TEST(answers == 4u);
  BOOST_TEST(contains(reply, "\"id\":2,"));
}

BOOST_AUTO_TEST_CASE(configuration_errors_are_named) {
  Bookinfo mesh;
  auto expect = [&](AppInstance instance, const std::string& part) {
    std::string error = mesh.tryStart(std::move(instance));
    BOOST_TEST(contains(error, part), error);
  };
  expect(loopbackInstance("catalogue", "v1"), "service: \"catalogue\" is not one of");
  expect(loopbackInstance("reviews", "v4"), "version: reviews comes in v1, v2 and v3");
  expect(loopbackInstance("details", ""), "version: empty");
  expect(loopbackInstance("reviews", "v2"), "reviews-v2: upstreams.ratings: reviews-v2 calls ratings");
  expect(loopbackInstance("productpage", "v1"), "upstreams.details");
  AppInstance extra = loopbackInstance("details", "v1");
  extra.upstreams["ratings"] = upstreamAt(deadEndpoint());
  expect(extra, "upstreams.ratings: details-v1 never calls ratings");
  AppInstance bad_host = loopbackInstance("reviews", "v2");
  bad_host.upstreams["ratings"] = upstreamAt(deadEndpoint());
  bad_host.upstreams["ratings"].host = "ratings\r\nx: y";
  expect(bad_host, "upstreams.ratings.host");
  AppInstance port_zero = loopbackInstance("reviews", "v3");
  port_zero.upstreams["ratings"] = Upstream{};
  expect(port_zero, "upstreams.ratings.address: port 0");
  AppInstance bad_name = loopbackInstance("ratings", "v1");
  bad_name.name = "ratings v1";
  expect(bad_name, "name: \"ratings v1\"");

  auto taken = mesh.start(loopbackInstance("ratings", "v1")).localEndpoint();
  AppInstance clash = loopbackInstance("ratings", "v1");
  clash.listen = taken;
  expect(clash, "ratings-v1: listen 127.0.0.1:" + std::to_string(taken.port()) + ": ");
}

BOOST_AUTO_TEST_CASE(stop_ends_requests_in_flight_and_frees_the_port) {
  auto loop = std::make_unique<Loop>();
  FakeBehaviour silent;
  silent.silent = true;
  auto ratings = loop->call([&] { return std::make_unique<FakeUpstream>(loop->context(), silent); });
  AppInstance instance = loopbackInstance("reviews", "v2");
  instance.upstreams["ratings"] = upstreamAt(ratings->endpoint());
  auto app = std::make_unique<BookinfoApp>(loop->context(), instance);
  BOOST_REQUIRE(loop->call([&] { return app->start(); }).empty());
  auto at = app->localEndpoint();
  std::thread client([&] { (void)httpGet(at, "/reviews/0", {}, std::chrono::seconds(20)); });
  for (int i = 0; i < 200 && ratings->requests().empty(); ++i) std::this_thread::sleep_for(milliseconds(10));
  BOOST_REQUIRE_EQUAL(ratings->requests().size(), 1u);
  auto started = Clock::now();
  loop->call([&] {
    app->stop();
    ratings->close();
    return 0;
  });
  client.join();  // the client sees the connection close, not its 20 s deadline
  BOOST_TEST((Clock::now() - started) < std::chrono::seconds(10));
  BOOST_TEST(app->localEndpoint().port() == 0u);
  // The same port can be taken again, and start() after stop() serves again.
  AppInstance again = loopbackInstance("ratings", "v1");
  again.listen = at;
  BookinfoApp second(loop->context(), again);
  BOOST_TEST(loop->call([&] { return second.start(); }) == "");
  BOOST_TEST(httpGet(at, "/health").status() == 200u);
  loop->call([&] {
    second.stop();
    app.reset();
    ratings.reset();
    return 0;
  });
}

BOOST_AUTO_TEST_CASE(stop_leaves_no_work_behind) {
  // Everything on one io_context without a work guard: once stop() has run, the context must
  // run out of work by itself (no timer, accept or read left pending), with a request in flight
  // through productpage -> reviews -> a ratings that never answers.
  namespace asio = boost::asio;
  asio::io_context context;
  std::optional<FakeUpstream> ratings;
  ratings.emplace(context, FakeBehaviour{.silent = true});
  AppInstance reviews_instance = loopbackInstance("reviews", "v2");
  reviews_instance.upstreams["ratings"] = upstreamAt(ratings->endpoint());
  BookinfoApp reviews(context, reviews_instance);
  BOOST_REQUIRE(reviews.start().empty());
  BookinfoApp details(context, loopbackInstance("details", "v1"));
  BOOST_REQUIRE(details.start().empty());
  BookinfoApp productpage(context, productpageInstance(details.localEndpoint(), reviews.localEndpoint()));
  BOOST_REQUIRE(productpage.start().empty());

  asio::ip::tcp::socket client(context);
  client.connect(productpage.localEndpoint());
  const std::string request = "GET /productpage HTTP/1.1\r\nHost: p\r\n\r\n";
  asio::write(client, asio::buffer(request));
  char reply[256];
  boost::system::error_code client_error;
  client.async_read_some(asio::buffer(reply), [&](boost::system::error_code ec, size_t) { client_error = ec; });
  asio::steady_timer stop_timer(context);
  std::function<void()> stop_when_ratings_asked = [&] {
    if (ratings->requests().empty()) {
      stop_timer.expires_after(milliseconds(10));
      stop_timer.async_wait([&](boost::system::error_code) { stop_when_ratings_asked(); });
      return;
    }
    productpage.stop();
    reviews.stop();
    details.stop();
    ratings->close();
  };
  stop_when_ratings_asked();
  context.run_for(std::chrono::seconds(20));
  BOOST_TEST(context.stopped());  // ran out of work rather than out of time
  BOOST_TEST(ratings->requests().size() == 1u);
  BOOST_TEST(client_error == asio::error::eof);
  ratings.reset();
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace monomesh::demo::test
