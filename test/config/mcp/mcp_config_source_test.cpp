// Pilot's config source from Galley: each response replaces its kind in one transaction; a bad
// or invalid response is refused whole (NACK) and the store keeps what it had; synced once
// every kind arrived. The stream itself is covered end to end in test/integration/galley_test.py.
#include <boost/test/unit_test.hpp>

#include "config/loader.h"
#include "config/mcp/mcp_config_source.h"
#include "../config_test_util.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

using namespace monomesh::config;
using monomesh::config::testing::contains;
using monomesh::config::testing::joinErrors;
using monomesh::config::testing::schemaOf;

using mcp::McpConfigSource;

namespace {

const Schema& vsKind() { return *schemaOf("networking.istio.io/v1alpha3", "VirtualService"); }
const Schema& drKind() { return *schemaOf("networking.istio.io/v1alpha3", "DestinationRule"); }

google::protobuf::Any packed(const std::string& yaml, bool validate = true) {
  LoadOptions options;
  options.validate = validate;
  LoadResult r = loadYaml(yaml, "test.yaml", options);
  BOOST_REQUIRE_MESSAGE(r.ok() && r.resources.size() == 1, joinErrors(r.errors));
  return mcp::pack(r.resources.front());
}

// `valid` false: two destinations whose weights sum to 90, which only semantic validation catches.
google::protobuf::Any vs(const std::string& name, const std::string& host, bool valid = true) {
  std::string route = valid ? "[{destination: {host: " + host + "}}]"
                            : "[{destination: {host: " + host + "}, weight: 40}, {destination: {host: x}, weight: 50}]";
  return packed("apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata: {name: " + name +
                    ", namespace: default}\nspec:\n  hosts: [" + host + "]\n  http: [{route: " + route + "}]\n",
                valid);
}

google::protobuf::Any dr(const std::string& name) {
  return packed("apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: " + name +
                ", namespace: default}\nspec: {host: " + name + "}\n");
}

struct Fixture {
  boost::asio::io_context io;
  Store store;
  McpConfigSource source{io, store, "127.0.0.1:1", [] {
                           mcp::McpConfigSourceOptions o;
                           o.kinds = {&vsKind(), &drKind()};
                           o.cluster_id = "east";
                           return o;
                         }()};
  std::vector<std::string> hosts() const {
    std::vector<std::string> out;
    for (const auto& r : store.snapshot()->list(&vsKind()))
      out.push_back(r->meta.name + "=" + r->as<istio::networking::v1alpha3::VirtualService>().hosts(0));
    return out;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(mcp_config_source, Fixture)

BOOST_AUTO_TEST_CASE(each_response_replaces_its_kind_in_one_transaction) {
  int batches = 0;
  store.watch([&](const std::vector<Event>&, const StoreSnapshot&) { batches++; });
  BOOST_TEST(!source.apply(vsKind(), "v1", {vs("a", "a.example.com"), vs("b", "b.example.com")}));
  BOOST_TEST((hosts() == std::vector<std::string>{"a=a.example.com", "b=b.example.com"}));
  BOOST_TEST(store.snapshot()->get(&vsKind(), "default", "a")->cluster_id == "east");
  BOOST_TEST(batches == 1);
  BOOST_TEST(!source.apply(vsKind(), "v2", {vs("a", "c.example.com")}));
  BOOST_TEST((hosts() == std::vector<std::string>{"a=c.example.com"}));
  BOOST_TEST(batches == 2);  // the update and the deletion together
  BOOST_TEST(!source.apply(vsKind(), "v3", {}));
  BOOST_TEST(hosts().empty());
  BOOST_TEST(source.applied() == 3u);
}

BOOST_AUTO_TEST_CASE(synced_once_every_kind_arrived) {
  int synced = 0;
  source.on_synced = [&] { synced++; };
  BOOST_TEST(!source.apply(vsKind(), "v1", {}));
  BOOST_TEST(!source.synced());
  BOOST_TEST(!source.apply(drKind(), "v1", {dr("reviews")}));
  BOOST_TEST(source.synced());
  BOOST_TEST(!source.apply(drKind(), "v2", {}));
  BOOST_TEST(synced == 1);
}

BOOST_AUTO_TEST_CASE(a_bad_response_is_refused_whole_and_the_last_good_stays) {
  BOOST_TEST(!source.apply(vsKind(), "v1", {vs("a", "a.example.com")}));
  auto version = store.version();
  google::protobuf::Any garbage;
  garbage.set_type_url(std::string(mcp::kResourceTypeUrl));
  garbage.set_value("\xff\xff");
  google::protobuf::Any not_mcp;
  not_mcp.set_type_url("type.googleapis.com/istio.networking.v1alpha3.VirtualService");
  struct Case {
    std::vector<google::protobuf::Any> resources;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{vs("b", "b.example.com"), garbage}, "VirtualService resource 1: unparsable istio.mcp.v1alpha1.Resource"},
      {{not_mcp}, "resource type is"},
      {{dr("reviews")}, "body is \"type.googleapis.com/istio.networking.v1alpha3.DestinationRule\""},
      {{vs("b", "b.example.com"), vs("b", "c.example.com")}, "VirtualService default/b appears twice"},
      // Galley validates, but Pilot does not trust the wire: Istio 1.1's rules run again.
      {{vs("b", "b.example.com", false)}, "spec.http[0].route: weights sum to 90, must be 100"},
  };
  for (const auto& c : cases) {
    auto error = source.apply(vsKind(), "bad", c.resources);
    BOOST_REQUIRE(error);
    BOOST_TEST(contains(*error, c.expected), *error << " (expected " << c.expected << ")");
    BOOST_TEST(store.version() == version);
    BOOST_TEST((hosts() == std::vector<std::string>{"a=a.example.com"}));
  }
  BOOST_TEST(source.rejected() == cases.size());
  auto status = source.status();
  auto it = std::find_if(status.begin(), status.end(), [](const auto& s) { return s.kind == &vsKind(); });
  BOOST_TEST(it->version == "v1");
  BOOST_TEST(contains(it->last_error, "weights sum to 90"));
}

BOOST_AUTO_TEST_CASE(what_another_source_wrote_is_not_deleted) {
  LoadOptions other;
  other.cluster_id = "west";
  auto loaded = loadYaml("apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\n"
                         "metadata: {name: w, namespace: default}\nspec: {hosts: [w.example.com]}\n",
                         "west.yaml", other);
  std::vector<Change> changes{Upsert{loaded.resources.front()}};
  store.apply(std::move(changes));
  BOOST_TEST(!source.apply(vsKind(), "v1", {vs("a", "a.example.com")}));
  BOOST_TEST(!source.apply(vsKind(), "v2", {}));
  BOOST_TEST((hosts() == std::vector<std::string>{"w=w.example.com"}));
}

BOOST_AUTO_TEST_CASE(unusable_addresses_are_start_errors) {
  for (const auto& [address, expected] : std::vector<std::pair<std::string, std::string>>{
           {"galley", "expected host:port"},
           {"galley:", "expected host:port"},
           {"galley:0", "is not 1..65535"},
           {"galley:99999", "is not 1..65535"},
           {"galley:90x", "is not 1..65535"},
           {"fs:///etc/istio/config", "only Galley addresses"}}) {
    McpConfigSource s(io, store, address, {});
    auto error = s.start();
    BOOST_REQUIRE(error);
    BOOST_TEST(contains(*error, expected), *error);
  }
  McpConfigSource ok(io, store, "mcp://istio-galley.istio-system.svc:9901", {});
  BOOST_TEST(!ok.start());
  ok.stop();
  io.run_for(std::chrono::milliseconds(50));
}

BOOST_AUTO_TEST_SUITE_END()
