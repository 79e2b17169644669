// Galley's distribution source: every valid resource of a kind as MCP envelopes under the kind's
// URL, versions that change only with content, nothing before the sources synced, and debounced
// re-packing of the kinds a store change touched.
#include <boost/test/unit_test.hpp>

#include "config/loader.h"
#include "config/mcp/mcp_resource.h"
#include "galley/mcp_resource_source.h"
#include "istio/mcp/v1alpha1/resource.pb.h"

using namespace monomesh;
using galley::McpResourceSource;

namespace {

const std::string kVsUrl = "type.googleapis.com/istio.networking.v1alpha3.VirtualService";
const std::string kDrUrl = "type.googleapis.com/istio.networking.v1alpha3.DestinationRule";

std::vector<config::Change> changes(const std::string& yaml) {
  auto loaded = config::loadYaml(yaml, "test.yaml");
  BOOST_REQUIRE(loaded.ok());
  std::vector<config::Change> out;
  for (auto& r : loaded.resources) out.push_back(config::Upsert{std::move(r)});
  return out;
}

std::string vs(const std::string& name, const std::string& host) {
  return "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata: {name: " + name +
         ", namespace: default}\nspec: {hosts: [" + host + "]}\n---\n";
}

std::vector<std::string> namesOf(const net::xds::Resources& set) {
  std::vector<std::string> out;
  for (const auto& any : set.resources) {
    istio::mcp::v1alpha1::Resource r;
    BOOST_REQUIRE(r.ParseFromString(any.value()));
    out.push_back(r.metadata().name());
  }
  return out;
}

struct Fixture {
  boost::asio::io_context io;
  config::Store store;
  envoy::config::core::v3::Node node;
  std::unique_ptr<McpResourceSource> source;

  Fixture() {
    store.apply(changes(vs("a", "a.example.com") + vs("b", "b.example.com")));
    galley::McpResourceSourceOptions options;
    options.debounce_quiet = std::chrono::milliseconds(20);
    source = std::make_unique<McpResourceSource>(io, store, options);
    source->start(nullptr);
  }
  std::optional<net::xds::Resources> get(const std::string& url, std::vector<std::string> names = {}) {
    return source->resources(node, url, names);
  }
  void settle() {
    io.restart();
    io.run_for(std::chrono::milliseconds(150));
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(mcp_resource_source, Fixture)

BOOST_AUTO_TEST_CASE(serves_nothing_until_the_sources_synced) {
  BOOST_TEST(!get(kVsUrl).has_value());
  source->setServing(true);
  auto set = get(kVsUrl);
  BOOST_REQUIRE(set);
  BOOST_TEST((namesOf(*set) == std::vector<std::string>{"default/a", "default/b"}));
  BOOST_TEST((set->names == std::vector<std::string>{"default/a", "default/b"}));
  BOOST_TEST(set->resources[0].type_url() == std::string(config::mcp::kResourceTypeUrl));
}

BOOST_AUTO_TEST_CASE(every_kind_by_url_or_collection_and_unknown_urls_are_not_served) {
  source->setServing(true);
  auto by_collection = get("istio/networking/v1alpha3/virtualservices");
  BOOST_REQUIRE(by_collection);
  BOOST_TEST(by_collection->version == get(kVsUrl)->version);
  auto empty = get(kDrUrl);
  BOOST_REQUIRE(empty);
  BOOST_TEST(empty->resources.empty());
  BOOST_TEST(!empty->version.empty());
  BOOST_TEST(get("istio/authentication/v1alpha1/meshpolicies").has_value());
  BOOST_TEST(get("type.googleapis.com/k8s.io.api.core.v1.Endpoints").has_value());
  BOOST_TEST(!get("type.googleapis.com/envoy.config.cluster.v3.Cluster").has_value());
  BOOST_TEST(!get("type.googleapis.com/k8s.io.api.core.v1.Secret").has_value());
  BOOST_TEST(!get("type.googleapis.com/istio.authentication.v1alpha1.Policy").has_value());  // two kinds share it
  auto named = get(kVsUrl, {"default/b", "default/zzz"});
  BOOST_TEST((namesOf(*named) == std::vector<std::string>{"default/b"}));
}

BOOST_AUTO_TEST_CASE(versions_change_with_content_only) {
  source->setServing(true);
  std::string vs_version = get(kVsUrl)->version, dr_version = get(kDrUrl)->version;
  uint64_t repacks = source->repacks();
  store.apply(changes(vs("a", "a.example.com")));  // the same content: no store change at all
  settle();
  BOOST_TEST(source->repacks() == repacks);
  BOOST_TEST(get(kVsUrl)->version == vs_version);

  store.apply(changes(vs("a", "changed.example.com")));
  BOOST_TEST(get(kVsUrl)->version == vs_version);  // debounced: not re-packed yet
  settle();
  BOOST_TEST(get(kVsUrl)->version != vs_version);
  BOOST_TEST(get(kDrUrl)->version == dr_version);
  BOOST_TEST(source->repacks() == repacks + 1);  // only the kind that changed

  std::string changed = get(kVsUrl)->version;
  std::vector<config::Change> back_and_forth;
  auto loaded = config::loadYaml(vs("c", "c.example.com"), "t.yaml");
  back_and_forth.push_back(config::Upsert{loaded.resources.front()});
  store.apply(std::move(back_and_forth));
  store.apply({config::Delete{config::ResourceKey{loaded.resources.front().schema, "default", "c"}}});
  settle();
  BOOST_TEST(get(kVsUrl)->version == changed);  // added and removed within the quiet time: same content
}

BOOST_AUTO_TEST_CASE(deletions_are_distributed) {
  source->setServing(true);
  auto schema = config::SchemaRegistry::builtin().find("networking.istio.io/v1alpha3", "VirtualService");
  store.apply({config::Delete{config::ResourceKey{schema, "default", "a"}}});
  settle();
  BOOST_TEST((namesOf(*get(kVsUrl)) == std::vector<std::string>{"default/b"}));
}

BOOST_AUTO_TEST_SUITE_END()
