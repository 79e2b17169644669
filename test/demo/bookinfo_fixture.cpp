#include "demo/bookinfo_fixture.h"

#include <boost/test/unit_test.hpp>

namespace monomesh::demo::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Loop::Loop() : guard_(context_.get_executor()), thread_([this] { context_.run(); }) {}

Loop::~Loop() {
  guard_.reset();
  context_.stop();
  thread_.join();
}

Upstream upstreamAt(const tcp::endpoint& address, std::chrono::milliseconds timeout) {
  Upstream upstream;
  upstream.address = address;
  upstream.timeout = timeout;
  return upstream;
}

AppInstance loopbackInstance(const std::string& service, const std::string& version) {
  AppInstance instance;
  instance.service = service;
  instance.version = version;
  instance.listen = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  return instance;
}

AppInstance productpageInstance(const tcp::endpoint& details, const tcp::endpoint& reviews) {
  AppInstance productpage = loopbackInstance("productpage", "v1");
  productpage.upstreams["details"] = upstreamAt(details);
  productpage.upstreams["reviews"] = upstreamAt(reviews);
  return productpage;
}

Bookinfo::~Bookinfo() { stopAll(); }

std::string Bookinfo::tryStart(AppInstance instance) {
  auto app = std::make_unique<BookinfoApp>(loop.context(), std::move(instance));
  std::string error = loop.call([&] { return app->start(); });
  apps_.push_back(std::move(app));
  return error;
}

BookinfoApp& Bookinfo::start(AppInstance instance) {
  std::string error = tryStart(std::move(instance));
  BOOST_REQUIRE_MESSAGE(error.empty(), error);
  return *apps_.back();
}

FakeUpstream& Bookinfo::fake(FakeBehaviour behaviour) {
  fakes_.push_back(loop.call([&] { return std::make_unique<FakeUpstream>(loop.context(), behaviour); }));
  return *fakes_.back();
}

tcp::endpoint Bookinfo::startFront(const std::string& reviews_version, const tcp::endpoint& ratings,
                                   std::chrono::milliseconds ratings_timeout) {
  auto details = start(loopbackInstance("details", "v1")).localEndpoint();
  AppInstance reviews = loopbackInstance("reviews", reviews_version);
  if (reviews_version != "v1") reviews.upstreams["ratings"] = upstreamAt(ratings, ratings_timeout);
  auto reviews_at = start(reviews).localEndpoint();
  AppInstance productpage = productpageInstance(details, reviews_at);
  productpage.upstreams["ratings"] = upstreamAt(ratings);
  return start(productpage).localEndpoint();
}

tcp::endpoint Bookinfo::startAll(const std::string& reviews_version) {
  return startFront(reviews_version, start(loopbackInstance("ratings", "v1")).localEndpoint());
}

void Bookinfo::stopAll() {
  loop.call([this] {
    for (auto& app : apps_) app->stop();
    for (auto& fake : fakes_) fake->close();
    apps_.clear();
    fakes_.clear();
    return 0;
  });
}

}  // namespace monomesh::demo::test
