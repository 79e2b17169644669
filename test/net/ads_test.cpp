#include "net/xds/ads_client.h"
#include "net/xds/ads_server.h"

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

#include <boost/asio.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>

namespace monomesh::net::xds {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A source with clusters (wildcard) and endpoints (by name), versioned by hand.
struct FakeSource : ResourceSource {
  std::string cds_version = "v1";
  std::vector<std::string> clusters = {"outbound|9080||reviews.default.svc.cluster.local"};
  std::vector<std::vector<std::string>> eds_asks;
  std::function<void()> on_cluster_ask;  // observes the server while it builds an answer
  std::optional<Resources> resources(const envoy::config::core::v3::Node&, std::string_view type,
                                     const std::vector<std::string>& names) override {
    Resources r;
    if (type == type_url::kCluster) {
      if (on_cluster_ask) on_cluster_ask();
      r.version = cds_version;
      for (const auto& name : clusters) {
        envoy::config::cluster::v3::Cluster c;
        c.set_name(name);
        r.resources.emplace_back().PackFrom(c);
      }
      return r;
    }
    if (type == type_url::kEndpoint) {
      eds_asks.push_back(names);
      r.version = "e-" + std::to_string(names.size());
      for (const auto& name : names) {
        envoy::config::endpoint::v3::ClusterLoadAssignment a;
        a.set_cluster_name(name);
        r.resources.emplace_back().PackFrom(a);
      }
      return r;
    }
    return std::nullopt;
  }
};

grpc::GrpcServerOptions shortDrain() {
  grpc::GrpcServerOptions o;
  o.h2.drain_timeout = std::chrono::milliseconds(100);  // long-lived streams are cut after this
  return o;
}

struct Fixture {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
  grpc::GrpcServer grpc_server{shortDrain()};
  std::shared_ptr<FakeSource> source = std::make_shared<FakeSource>();
  AdsServer ads{grpc_server, source};
  std::shared_ptr<grpc::GrpcChannel> channel;
  std::shared_ptr<AdsClient> client;

  Fixture() {
    asio::co_spawn(io, grpc_server.acceptLoop(acceptor), asio::detached);
    channel = grpc::GrpcChannel::create(io.get_executor(), "127.0.0.1", acceptor.local_endpoint().port());
    envoy::config::core::v3::Node node;
    node.set_id("sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local");
    client = AdsClient::create(channel, node, {std::chrono::milliseconds(20), std::chrono::milliseconds(100)});
  }
  ~Fixture() {
    // Every stream ends and every coroutine finishes before the io_context goes away.
    client->stop();
    channel->close();
    grpc_server.shutdown();
    boost::system::error_code ignored;
    acceptor.close(ignored);
    io.run_for(std::chrono::milliseconds(300));
  }
  bool runUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds(5));
    return done();
  }
  const TypeStatus* serverType(std::string_view url) {
    auto streams = ads.streams();
    if (streams.empty()) return nullptr;
    static TypeStatus copy;
    auto it = streams[0].types.find(std::string(url));
    if (it == streams[0].types.end()) return nullptr;
    copy = it->second;
    return &copy;
  }
};

std::vector<std::string> names(const std::vector<google::protobuf::Any>& resources) {
  std::vector<std::string> out;
  for (const auto& any : resources) {
    envoy::config::cluster::v3::Cluster c;
    if (any.UnpackTo(&c)) out.push_back(c.name());
  }
  return out;
}

std::vector<std::string> assignmentNames(const std::vector<google::protobuf::Any>& resources) {
  std::vector<std::string> out;
  for (const auto& any : resources) {
    envoy::config::endpoint::v3::ClusterLoadAssignment a;
    if (any.UnpackTo(&a)) out.push_back(a.cluster_name());
  }
  return out;
}

BOOST_AUTO_TEST_SUITE(ads)

BOOST_AUTO_TEST_CASE(subscribe_apply_and_ack) {
  Fixture f;
  std::vector<std::string> seen;
  f.client->subscribe(std::string(type_url::kCluster), {}, [&](const std::string&, const auto& resources) {
    seen = names(resources);
    return std::optional<std::string>();
  });
  f.client->start();
  BOOST_REQUIRE(f.runUntil([&] { auto t = f.serverType(type_url::kCluster); return t && t->acked_version == "v1"; }));
  BOOST_TEST(seen == std::vector<std::string>{"outbound|9080||reviews.default.svc.cluster.local"});
  BOOST_TEST(f.client->types().at(std::string(type_url::kCluster)).version == "v1");
  BOOST_REQUIRE(f.ads.streams().size() == 1u);
  BOOST_TEST(f.ads.streams()[0].node_id == "sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local");

  // A push with a new version reaches the client; an unchanged version is not re-sent.
  f.source->clusters.push_back("outbound|9080|v2|reviews.default.svc.cluster.local");
  f.source->cds_version = "v2";
  f.ads.push();
  BOOST_REQUIRE(f.runUntil([&] { auto t = f.serverType(type_url::kCluster); return t && t->acked_version == "v2"; }));
  BOOST_TEST(seen.size() == 2u);
  auto responses = f.ads.counters().responses;
  f.ads.push();
  f.io.run_for(std::chrono::milliseconds(200));  // nothing should come
  BOOST_TEST(f.ads.counters().responses == responses);
}

BOOST_AUTO_TEST_CASE(nack_keeps_the_previous_version) {
  Fixture f;
  int calls = 0;
  f.client->subscribe(std::string(type_url::kCluster), {}, [&](const std::string& version, const auto&) {
    ++calls;
    return version == "v2" ? std::optional<std::string>("cluster x: connect_timeout: must be positive")
                           : std::optional<std::string>();
  });
  f.client->start();
  BOOST_REQUIRE(f.runUntil([&] { auto t = f.serverType(type_url::kCluster); return t && t->acked_version == "v1"; }));
  f.source->cds_version = "v2";
  f.ads.push();
  BOOST_REQUIRE(f.runUntil([&] { return f.ads.counters().nacks == 1u; }));
  auto t = f.serverType(type_url::kCluster);
  BOOST_TEST(t->acked_version == "v1");
  BOOST_TEST(t->sent_version == "v2");
  BOOST_TEST(t->last_nack == "cluster x: connect_timeout: must be positive");
  BOOST_TEST(f.client->types().at(std::string(type_url::kCluster)).version == "v1");
  BOOST_TEST(calls == 2);
}

BOOST_AUTO_TEST_CASE(changed_names_are_answered_at_once) {
  Fixture f;
  std::vector<std::string> last;
  auto apply = [&](const std::string&, const std::vector<google::protobuf::Any>& resources) {
    last = assignmentNames(resources);
    return std::optional<std::string>();
  };
  f.client->subscribe(std::string(type_url::kEndpoint), {"a"}, apply);
  f.client->start();
  BOOST_REQUIRE(f.runUntil([&] { return last == std::vector<std::string>{"a"}; }));
  f.client->subscribe(std::string(type_url::kEndpoint), {"b", "a"}, apply);
  BOOST_REQUIRE(f.runUntil([&] { return last == std::vector<std::string>{"a", "b"}; }));
  auto t = f.serverType(type_url::kEndpoint);
  BOOST_TEST(t->names == (std::vector<std::string>{"a", "b"}));
}

BOOST_AUTO_TEST_CASE(scoped_push_sends_only_the_names_it_accepts) {
  Fixture f;
  std::vector<std::string> last;
  f.client->subscribe(std::string(type_url::kEndpoint), {"a", "b"}, [&](const std::string&, const auto& resources) {
    last = assignmentNames(resources);
    return std::optional<std::string>();
  });
  f.client->start();
  BOOST_REQUIRE(f.runUntil([&] { auto t = f.serverType(type_url::kEndpoint); return t && !t->acked_version.empty(); }));
  BOOST_TEST(last == (std::vector<std::string>{"a", "b"}));

  // Only "b" changed: the source is asked for "b" alone and the response carries just it.
  f.ads.push(PushScope{{std::string(type_url::kEndpoint)}, [](std::string_view n) { return n == "b"; }});
  BOOST_REQUIRE(f.runUntil([&] { return last == std::vector<std::string>{"b"}; }));
  BOOST_TEST(f.source->eds_asks.back() == std::vector<std::string>{"b"});
  BOOST_REQUIRE(f.runUntil([&] { auto t = f.serverType(type_url::kEndpoint); return t && t->acked_version == "e-1"; }));

  // Nothing subscribed matches: the stream is not woken, the source not asked, nothing sent.
  auto asks = f.source->eds_asks.size();
  auto responses = f.ads.counters().responses;
  f.ads.push(PushScope{{std::string(type_url::kEndpoint)}, [](std::string_view n) { return n == "c"; }});
  f.io.run_for(std::chrono::milliseconds(200));
  BOOST_TEST(f.source->eds_asks.size() == asks);
  BOOST_TEST(f.ads.counters().responses == responses);

  // A scoped push and a full one pending together are served as the full one.
  f.ads.push(PushScope{{std::string(type_url::kEndpoint)}, [](std::string_view n) { return n == "a"; }});
  f.ads.push(PushScope{{std::string(type_url::kEndpoint)}, {}});
  BOOST_REQUIRE(f.runUntil([&] { return f.source->eds_asks.size() > asks; }));
  f.io.run_for(std::chrono::milliseconds(100));
  BOOST_TEST(f.source->eds_asks.back() == (std::vector<std::string>{"a", "b"}));
  BOOST_TEST(f.source->eds_asks.size() == asks + 1);
}

BOOST_AUTO_TEST_CASE(push_throttle_lets_streams_answer_a_push_in_turns) {
  Fixture f;
  f.ads.setPushThrottle(1);
  std::vector<std::shared_ptr<AdsClient>> clients = {f.client};
  for (int i = 2; i <= 4; ++i) {
    envoy::config::core::v3::Node node;
    node.set_id("sidecar~10.0.0." + std::to_string(i) + "~reviews-v1.default~default.svc.cluster.local");
    clients.push_back(AdsClient::create(f.channel, node, {std::chrono::milliseconds(20), std::chrono::milliseconds(100)}));
  }
  std::map<AdsClient*, std::string> applied;
  for (auto& c : clients) {
    c->subscribe(std::string(type_url::kCluster), {}, [&applied, raw = c.get()](const std::string& version, const auto&) {
      applied[raw] = version;
      return std::optional<std::string>();
    });
    c->start();
  }
  auto all = [&](const std::string& v) {
    return applied.size() == 4u && std::all_of(applied.begin(), applied.end(), [&](const auto& e) { return e.second == v; });
  };
  BOOST_REQUIRE(f.runUntil([&] { return all("v1"); }));  // first answers never wait for a turn
  size_t most = 0, asks = 0;
  f.source->on_cluster_ask = [&] {
    ++asks;
    most = std::max(most, f.ads.pushTurnsInUse());
  };
  f.source->cds_version = "v2";
  f.ads.push();
  BOOST_REQUIRE(f.runUntil([&] { return all("v2"); }));
  BOOST_TEST(asks == 4u);
  BOOST_TEST(most == 1u);  // one stream at a time
  BOOST_REQUIRE(f.runUntil([&] { return f.ads.pushTurnsInUse() == 0u; }));
  for (size_t i = 1; i < clients.size(); ++i) clients[i]->stop();
}

BOOST_AUTO_TEST_CASE(client_reconnects_and_resubscribes_with_its_version) {
  auto f = std::make_unique<Fixture>();
  f->client->subscribe(std::string(type_url::kCluster), {}, [](const std::string&, const auto&) {
    return std::optional<std::string>();
  });
  f->client->start();
  BOOST_REQUIRE(f->runUntil([&] { auto t = f->serverType(type_url::kCluster); return t && t->acked_version == "v1"; }));
  f->grpc_server.shutdown();  // GOAWAY: the stream ends, the client comes back on a new connection
  BOOST_REQUIRE(f->runUntil([&] { return f->client->streamsOpened() >= 2u && f->client->connected(); }));
  BOOST_REQUIRE(f->runUntil([&] { auto t = f->serverType(type_url::kCluster); return t && t->acked_version == "v1"; }));
  BOOST_TEST(f->ads.counters().streams >= 2u);
}

BOOST_AUTO_TEST_CASE(requests_without_node_or_unparsable_are_rejected) {
  Fixture f;
  grpc::Status no_node, garbage;
  bool done = false;
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
    envoy::service::discovery::v3::DiscoveryRequest r;
    r.set_type_url(std::string(type_url::kCluster));
    auto call = co_await f.channel->startCall(std::string(kAdsMethod));
    co_await call->write(r.SerializeAsString());
    no_node = co_await call->finish();
    auto call2 = co_await f.channel->startCall(std::string(kAdsMethod));
    co_await call2->write("\xff\xff\xff not protobuf");
    garbage = co_await call2->finish();
    done = true;
  }, asio::detached);
  BOOST_REQUIRE(f.runUntil([&] { return done; }));
  BOOST_TEST((no_node.code == grpc::StatusCode::invalid_argument));
  BOOST_TEST(no_node.message == "the first request must carry node.id");
  BOOST_TEST((garbage.code == grpc::StatusCode::invalid_argument));
  BOOST_TEST(f.ads.counters().rejected_streams == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::xds
