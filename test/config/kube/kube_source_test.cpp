// KubeSource end to end against the API-server double (kube_api_server.py over TLS): the first
// LIST lands in the store, watch events follow, a dropped watch resumes without a LIST, 410 Gone
// lists again and the store converges, invalid Istio objects are reported and never applied,
// bad credentials fail clearly and back off, and stopping never hangs.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>

#include "config/kube/kube_source.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "k8s/api/core/v1/core.pb.h"
#include "kube_api_double.h"
#include "temp_dir.h"

using namespace monomesh::config;
using namespace monomesh::config::kube;
using namespace monomesh::config::kube::testing;
using namespace std::chrono_literals;

namespace {

const Schema* kService = SchemaRegistry::builtin().find("v1", "Service");
const Schema* kVirtualService = SchemaRegistry::builtin().find("networking.istio.io/v1alpha3", "VirtualService");
const std::string kServices = "/api/v1/services";
const std::string kVirtualServices = "/apis/networking.istio.io/v1alpha3/virtualservices";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct Fixture {
  monomesh::testing::TempDir dir;
  KubeApiDouble api{dir.path};
  boost::asio::io_context context;
  Store store;
  std::unique_ptr<KubeSource> source;
  int synced_calls = 0;

  KubeSourceOptions options() const {
    KubeSourceOptions o;
    o.cluster_id = "east";
    o.kinds = {kService, kVirtualService};
    o.reflector.page_size = 2;  // every list here takes several pages
    o.reflector.backoff_initial = 20ms;
    o.reflector.backoff_max = 300ms;
    o.reflector.watch_timeout = 60s;
    o.reflector.watch_idle_timeout = 20s;
    o.client.connect_timeout = o.client.tls_timeout = o.client.response_timeout = 5s;
    return o;
  }

  KubeCredentials credentials(const std::string& token = "test-token", const std::string& server_name = "") {
    std::string path = dir.write("kubeconfig", api.kubeconfig(token, server_name));
    auto result = loadKubeconfig(path);
    BOOST_REQUIRE_MESSAGE(result.credentials, result.error);
    return *result.credentials;
  }

  void start(KubeCredentials creds, KubeSourceOptions o) {
    source = std::make_unique<KubeSource>(context, store, std::move(creds), std::move(o));
    source->on_synced = [this] { synced_calls++; };
    auto error = source->start();
    BOOST_REQUIRE_MESSAGE(!error, *error);
  }
  void start() { start(credentials(), options()); }

  // Runs the context until `done` holds; false after `limit`.
  bool runUntil(const std::function<bool()>& done, std::chrono::seconds limit = 15s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      context.run_for(10ms);
      if (context.stopped()) context.restart();
    }
    return true;
  }
  void runFor(std::chrono::milliseconds span) {
    auto deadline = std::chrono::steady_clock::now() + span;
    runUntil([&] { return std::chrono::steady_clock::now() > deadline; });
  }

  ResourcePtr get(const Schema* kind, const std::string& name, const std::string& ns = "default") {
    return store.snapshot()->get(kind, ns, name);
  }
  std::string versionOf(const Schema* kind, const std::string& name) {
    auto r = get(kind, name);
    return r ? r->meta.resource_version : "(absent)";
  }

  ~Fixture() {
    if (!source) return;
    source->stop();
    // Every coroutine ends promptly after stop(): the context runs out of work.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    context.restart();
    while (!context.stopped() && std::chrono::steady_clock::now() < deadline) context.run_for(10ms);
    BOOST_CHECK_MESSAGE(context.stopped(), "the source still had work 5 s after stop()");
    source.reset();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(kube_source)

BOOST_FIXTURE_TEST_CASE(initial_list_lands_with_resource_versions, Fixture) {
  std::string rv_a = api.put(serviceJson("a")), rv_b = api.put(serviceJson("b", "default", 8080));
  std::string rv_c = api.put(serviceJson("c", "other"));
  std::string rv_vs = api.put(virtualServiceJson("reviews", "reviews.default.svc.cluster.local"));
  start();
  BOOST_REQUIRE(runUntil([&] { return source->synced(); }));
  BOOST_TEST(synced_calls == 1);
  BOOST_TEST(versionOf(kService, "a") == rv_a);
  BOOST_TEST(versionOf(kService, "b") == rv_b);
  BOOST_TEST(store.snapshot()->get(kService, "other", "c")->meta.resource_version == rv_c);
  BOOST_TEST(versionOf(kVirtualService, "reviews") == rv_vs);
  BOOST_TEST(get(kService, "b")->as<k8s::io::api::core::v1::Service>().spec().ports(0).port() == 8080);
  BOOST_TEST(get(kVirtualService, "reviews")->as<istio::networking::v1alpha3::VirtualService>().hosts(0) ==
             "reviews.default.svc.cluster.local");
  BOOST_TEST(get(kService, "a")->cluster_id == "east");
  BOOST_TEST(store.snapshot()->size() == 4u);
  BOOST_TEST(source->stats().lists == 2u);
  BOOST_TEST(api.lists(kServices) == 2);  // three services, two per page
  for (const auto& status : source->status()) BOOST_TEST(status.listed);
}

BOOST_FIXTURE_TEST_CASE(empty_cluster_syncs_too, Fixture) {
  start();
  BOOST_REQUIRE(runUntil([&] { return source->synced(); }));
  BOOST_TEST(store.snapshot()->size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(watch_events_add_modify_delete, Fixture) {
  api.put(serviceJson("a"));
  api.put(virtualServiceJson("reviews", "reviews"));
  start();
  BOOST_REQUIRE(runUntil([&] { return source->synced(); }));
  BOOST_REQUIRE(runUntil([&] { return api.watches(kServices) > 0 && api.watches(kVirtualServices) > 0; }));

  std::string added = api.put(serviceJson("b"));
  BOOST_REQUIRE(runUntil([&] { return versionOf(kService, "b") == added; }));
  std::string modified = api.put(virtualServiceJson("reviews", "reviews.prod"));
  BOOST_REQUIRE(runUntil([&] { return versionOf(kVirtualService, "reviews") == modified; }));
  BOOST_TEST(get(kVirtualService, "reviews")->as<istio::networking::v1alpha3::VirtualService>().hosts(0) == "reviews.prod");
  api.remove("v1", "Service", "default", "a");
  BOOST_REQUIRE(runUntil([&] { return !get(kService, "a"); }));

  api.command(R"({"op":"bookmark"})");
  std::string now = api.command(R"({"op":"stats"})")["rv"].as<std::string>();
  BOOST_REQUIRE(runUntil([&] {
    for (const auto& s : source->status())
      if (s.resource_version != now) return false;
    return true;
  }));
  BOOST_TEST(source->stats().watch_events >= 3u);
  BOOST_TEST(source->stats().relists == 0u);
}

BOOST_FIXTURE_TEST_CASE(dropped_watch_resumes_without_a_relist, Fixture) {
  api.put(serviceJson("a"));
  start();
  BOOST_REQUIRE(runUntil([&] { return source->synced() && api.watches(kServices) == 1; }));
  int lists_before = api.lists(kServices);

  api.command(R"({"op":"drop_watches"})");
  std::string rv = api.put(serviceJson("after-drop"));
  BOOST_REQUIRE(runUntil([&] { return versionOf(kService, "after-drop") == rv; }));
  BOOST_TEST(api.lists(kServices) == lists_before);
  BOOST_TEST(api.watches(kServices) >= 2);
  BOOST_TEST(source->stats().relists == 0u);
  BOOST_TEST(source->stats().watch_drops >= 1u);
}

BOOST_FIXTURE_TEST_CASE(malformed_event_line_restarts_the_watch_without_a_relist, Fixture) {
  start();
  BOOST_REQUIRE(runUntil([&] { return source->synced() && api.watches(kServices) == 1; }));
  api.command(R"({"op":"inject","path":"/api/v1/services","line":"{\"type\":\"ADDED\",\"object\":{"})");
  BOOST_REQUIRE(runUntil([&] { return api.watches(kServices) >= 2; }));
  std::string rv = api.put(serviceJson("later"));
  BOOST_REQUIRE(runUntil([&] { return versionOf(kService, "later") == rv; }));
  BOOST_TEST(source->stats().relists == 0u);
  BOOST_TEST(source->stats().errors >= 1u);
}

BOOST_FIXTURE_TEST_CASE(gone_relists_and_the_store_converges, Fixture) {
  for (std::string mode : {"event", "status"}) {
    BOOST_TEST_CONTEXT("410 as " << mode) {
      api.put(serviceJson("keep-" + mode));
      api.put(serviceJson("drop-" + mode));
      api.put(serviceJson("change-" + mode));
      if (!source) start();
      BOOST_REQUIRE(runUntil([&] { return source->synced() && get(kService, "change-" + mode); }));
      uint64_t relists = source->stats().relists;
      int lists = api.lists(kServices);

      // While the source is cut off, objects change and the history is compacted away.
      api.command(R"({"op":"disconnect"})");
      api.remove("v1", "Service", "default", "drop-" + mode);
      std::string changed = api.put(serviceJson("change-" + mode, "default", 9090));
      std::string added = api.put(serviceJson("new-" + mode));
      api.command(R"({"op":"compact","mode":")" + mode + "\"}");
      api.command(R"({"op":"reconnect"})");

      BOOST_REQUIRE(runUntil([&] {
        return !get(kService, "drop-" + mode) && versionOf(kService, "change-" + mode) == changed &&
               versionOf(kService, "new-" + mode) == added;
      }));
      BOOST_TEST(get(kService, "keep-" + mode));
      BOOST_TEST(source->stats().relists > relists);
      BOOST_TEST(api.lists(kServices) > lists);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(invalid_istio_objects_are_reported_not_applied, Fixture) {
  const std::string bad = R"({"apiVersion":"networking.istio.io/v1alpha3","kind":"VirtualService",)"
                          R"("metadata":{"name":"broken","namespace":"default"},"spec":{"hostz":["x"]}})";
  api.put(bad);
  std::string good_rv = api.put(virtualServiceJson("reviews", "reviews"));
  start();
  BOOST_REQUIRE(runUntil([&] { return source->synced(); }));
  BOOST_TEST(!get(kVirtualService, "broken"));
  BOOST_TEST(versionOf(kVirtualService, "reviews") == good_rv);
  auto invalid = source->invalidObjects();
  BOOST_REQUIRE(invalid.count("VirtualService default/broken") == 1u);
  BOOST_TEST(contains(invalid["VirtualService default/broken"][0].str(), "spec.hostz"));

  // A valid object turned invalid by a watch event keeps its previous good version.
  BOOST_REQUIRE(runUntil([&] { return api.watches(kVirtualServices) > 0; }));
  api.put(R"({"apiVersion":"networking.istio.io/v1alpha3","kind":"VirtualService",)"
          R"("metadata":{"name":"reviews","namespace":"default"},"spec":{"hosts":"not-a-list"}})");
  BOOST_REQUIRE(runUntil([&] { return source->invalidObjects().count("VirtualService default/reviews") == 1; }));
  BOOST_TEST(versionOf(kVirtualService, "reviews") == good_rv);
  BOOST_TEST(source->stats().invalid_objects == 2u);

  // Semantic validation too: a route weight over 100.
  api.put(R"({"apiVersion":"networking.istio.io/v1alpha3","kind":"VirtualService","metadata":{"name":"reviews",)"
          R"("namespace":"default"},"spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews"},"weight":150}]}]}})");
  BOOST_REQUIRE(runUntil([&] { return source->stats().invalid_objects == 3u; }));
  BOOST_TEST(versionOf(kVirtualService, "reviews") == good_rv);
  BOOST_TEST(contains(source->invalidObjects()["VirtualService default/reviews"][0].str(), "weight"),
             source->invalidObjects()["VirtualService default/reviews"][0].str());

  // Fixing it applies it and clears the report; deleting the broken one clears its report.
  std::string fixed = api.put(virtualServiceJson("reviews", "reviews.fixed"));
  BOOST_REQUIRE(runUntil([&] { return versionOf(kVirtualService, "reviews") == fixed; }));
  api.remove("networking.istio.io/v1alpha3", "VirtualService", "default", "broken");
  BOOST_REQUIRE(runUntil([&] { return source->invalidObjects().empty(); }));
}

BOOST_FIXTURE_TEST_CASE(bad_token_fails_clearly_and_backs_off, Fixture) {
  api.put(serviceJson("a"));
  start(credentials("wrong-token"), options());
  BOOST_REQUIRE(runUntil([&] { return source->stats().errors >= 4; }));
  BOOST_TEST(!source->synced());
  for (const auto& status : source->status()) {
    BOOST_TEST(contains(status.last_error, "HTTP 401: Unauthorized"), status.last_error);
    BOOST_TEST(contains(status.last_error, "rejected the credentials of kubeconfig"), status.last_error);
  }
  BOOST_TEST(store.snapshot()->size() == 0u);
  // The server starts accepting this token: the next retry lists and the source syncs.
  api.command(R"({"op":"set_token","token":"wrong-token"})");
  BOOST_REQUIRE(runUntil([&] { return source->synced(); }));
  BOOST_TEST(get(kService, "a"));
  for (const auto& status : source->status()) BOOST_TEST(status.last_error.empty());
}

BOOST_FIXTURE_TEST_CASE(server_name_is_verified, Fixture) {
  start(credentials("test-token", "not-the-server.example"), options());
  BOOST_REQUIRE(runUntil([&] { return source->stats().errors >= 2; }));
  BOOST_TEST(!source->synced());
  std::string error = source->status()[0].last_error;
  BOOST_TEST(contains(error, "TLS handshake with https://127.0.0.1:"), error);
}

BOOST_FIXTURE_TEST_CASE(client_certificate_authenticates, Fixture) {
  api.put(serviceJson("a"));
  KubeCredentials creds = credentials("");
  creds.client_cert_pem = monomesh::testing::readAll(api.clientCertFile());
  creds.client_key_pem = monomesh::testing::readAll(api.clientKeyFile());
  start(creds, options());
  BOOST_REQUIRE(runUntil([&] { return source->synced(); }));
  BOOST_TEST(get(kService, "a"));
}

BOOST_FIXTURE_TEST_CASE(only_owned_resources_are_replaced, Fixture) {
  // Another cluster's source wrote these keys into the same store.
  Resource other;
  other.schema = kService;
  other.meta.name = "west-only";
  other.meta.namespace_ = "default";
  other.body = std::make_shared<k8s::io::api::core::v1::Service>();
  other.cluster_id = "west";
  store.apply({Upsert{other}});
  api.put(serviceJson("east-only"));
  start();
  BOOST_REQUIRE(runUntil([&] { return source->synced(); }));
  BOOST_REQUIRE(runUntil([&] { return api.watches(kServices) > 0; }));
  BOOST_TEST(get(kService, "west-only"));
  BOOST_TEST(get(kService, "east-only")->cluster_id == "east");

  // A relist that no longer has east-only deletes it; west-only stays.
  api.command(R"({"op":"disconnect"})");
  api.remove("v1", "Service", "default", "east-only");
  api.command(R"({"op":"compact"})");
  api.command(R"({"op":"reconnect"})");
  BOOST_REQUIRE(runUntil([&] { return !get(kService, "east-only"); }));
  BOOST_TEST(get(kService, "west-only"));
}

BOOST_FIXTURE_TEST_CASE(idle_watch_is_ended_by_the_client, Fixture) {
  auto o = options();
  o.kinds = {kService};
  o.reflector.watch_idle_timeout = 300ms;  // the double sends nothing while nothing changes
  start(credentials(), o);
  BOOST_REQUIRE(runUntil([&] { return source->stats().watch_drops >= 2; }));
  BOOST_TEST(contains(source->status()[0].last_error, "no data from the server for 300 ms"));
  std::string rv = api.put(serviceJson("still-works"));
  BOOST_REQUIRE(runUntil([&] { return versionOf(kService, "still-works") == rv; }));
  BOOST_TEST(source->stats().relists == 0u);
}

BOOST_FIXTURE_TEST_CASE(oversized_event_line_relists, Fixture) {
  auto o = options();
  o.kinds = {kService};
  o.reflector.max_event_line = 4096;
  start(credentials(), o);
  BOOST_REQUIRE(runUntil([&] { return source->synced() && api.watches(kServices) == 1; }));
  api.command(R"({"op":"inject","path":"/api/v1/services","line":")" + std::string(5000, 'x') + "\"}");
  BOOST_REQUIRE(runUntil([&] { return source->stats().relists >= 1; }));
  BOOST_TEST(source->stats().errors >= 1u);  // the line was logged and counted, then dropped
  std::string rv = api.put(serviceJson("after"));
  BOOST_REQUIRE(runUntil([&] { return versionOf(kService, "after") == rv; }));
}

BOOST_FIXTURE_TEST_CASE(oversized_list_and_missing_crd_fail_clearly, Fixture) {
  for (int i = 0; i < 3; ++i) api.put(serviceJson("s" + std::to_string(i)));
  auto o = options();
  o.kinds = {kService, SchemaRegistry::builtin().find("config.istio.io/v1alpha2", "rule")};
  o.reflector.max_list_body = 300;  // smaller than one page of two services
  start(credentials(), o);
  BOOST_REQUIRE(runUntil([&] { return !source->status()[0].last_error.empty() && !source->status()[1].last_error.empty(); }));
  BOOST_TEST(contains(source->status()[0].last_error, "response body larger than 300 bytes"), source->status()[0].last_error);
  BOOST_TEST(contains(source->status()[1].last_error, "HTTP 404"), source->status()[1].last_error);
  BOOST_TEST(contains(source->status()[1].last_error, "is the CRD installed?"), source->status()[1].last_error);
  BOOST_TEST(!source->synced());
  BOOST_TEST(store.snapshot()->size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(silent_server_times_out, Fixture) {
  // Accepts TCP connections (the kernel's backlog) and never says a word.
  boost::asio::ip::tcp::acceptor silent(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
  KubeCredentials creds = credentials();
  creds.server.port = std::to_string(silent.local_endpoint().port());
  auto o = options();
  o.kinds = {kService};
  o.client.tls_timeout = 300ms;
  start(creds, o);
  BOOST_REQUIRE(runUntil([&] { return source->stats().errors >= 2; }));
  BOOST_TEST(contains(source->status()[0].last_error, "handshake timed out"), source->status()[0].last_error);
  BOOST_TEST(!source->synced());
}

BOOST_FIXTURE_TEST_CASE(unreachable_server_and_bad_settings, Fixture) {
  KubeCredentials creds = credentials();
  creds.server.port = "1";  // nothing listens there
  start(creds, options());
  BOOST_REQUIRE(runUntil([&] { return source->stats().errors >= 2; }));
  BOOST_TEST(contains(source->status()[0].last_error, "connecting to https://127.0.0.1:1"), source->status()[0].last_error);

  KubeSourceOptions none = options();
  none.kinds.clear();
  KubeSource empty(context, store, credentials(), none);
  BOOST_TEST(contains(empty.start().value_or(""), "no kinds to watch"));
  KubeCredentials bad_ca = credentials();
  bad_ca.ca_pem = "not a certificate";
  KubeSource broken(context, store, bad_ca, options());
  BOOST_TEST(contains(broken.start().value_or(""), "TLS settings"));
}

BOOST_AUTO_TEST_SUITE_END()
