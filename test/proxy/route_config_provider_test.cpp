// RouteConfigProviders: one provider per route_config_name shared by the HCMs naming it; an RDS
// response compiles every route configuration asked for or is rejected whole with a message
// naming the configuration and the field; identical resends change nothing; without ADS an HCM
// with rds is refused.
#include <boost/test/unit_test.hpp>

#include "envoy/config/route/v3/route.pb.h"
#include "proxy/http/hcm_config.h"
#include "proxy/http/route_config_provider.h"
#include "proxy_test_util.h"

using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;
namespace rt = monomesh::runtime;
using Resources = std::vector<google::protobuf::Any>;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

namespace {

std::string routes(const std::string& name, const std::string& cluster, int status = 0) {
  std::string action = status ? "direct_response: {status: " + std::to_string(status) + "}" : "route: {cluster: " + cluster + "}";
  return "name: " + name + "\nvirtual_hosts: [{name: vh, domains: ['*'], routes: [{match: {prefix: /}, " + action + "}]}]\n";
}

Resources pack(const std::vector<std::string>& yamls) {
  Resources out;
  for (const auto& y : yamls) out.emplace_back().PackFrom(fromYaml<RouteConfiguration>(y));
  return out;
}

// A registry on a runtime with one worker (never run: what workers see is not the point here).
struct Registry {
  static rt::RuntimeOptions options() {
    rt::RuntimeOptions o;
    o.concurrency = 1;
    o.handle_signals = false;
    return o;
  }
  rt::Runtime runtime{options()};
  monomesh::observe::StatsStore stats;
  RouteConfigProviders providers{&runtime, stats};
  std::vector<std::string> arrived;

  std::optional<std::string> apply(const std::string& version, const std::vector<std::string>& yamls) {
    arrived.clear();
    return providers.apply(version, pack(yamls), arrived);
  }
  int64_t stat(const std::string& name) { return stats.values()[name]; }
};

const char* kRdsHcm =
    "stat_prefix: ingress\nrds: {route_config_name: r1, config_source: {ads: {}}}\n"
    "http_filters: [{name: envoy.filters.http.router}]\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(route_config_provider)

BOOST_FIXTURE_TEST_CASE(hcms_naming_one_route_configuration_share_its_provider, Registry) {
  auto a = HcmConfig::compile(fromYaml<HttpConnectionManager>(kRdsHcm), stats, &providers);
  auto b = HcmConfig::compile(fromYaml<HttpConnectionManager>(kRdsHcm), stats, &providers);
  BOOST_TEST_REQUIRE(a->rds != nullptr);
  BOOST_TEST(a->rds == b->rds);
  BOOST_TEST(a->rds_initial_fetch_timeout.count() == 15000);
  BOOST_TEST(providers.names() == std::vector<std::string>{"r1"});
  BOOST_TEST(!providers.received("r1"));

  BOOST_TEST(!apply("v1", {routes("r1", "backend"), routes("not-asked", "x")}));
  BOOST_TEST(arrived == std::vector<std::string>{"r1"});
  BOOST_TEST(providers.received("r1"));
  BOOST_TEST_REQUIRE(a->rds->latest() != nullptr);
  BOOST_TEST(a->rds->latest()->name() == "r1");
  BOOST_TEST(a->rds->version() == "v1");
  BOOST_TEST(!providers.has("not-asked"));
  BOOST_TEST(stat("http.ingress.rds.r1.config_reload") == 1);
  BOOST_TEST(stat("http.ingress.rds.r1.update_success") == 1);
}

BOOST_FIXTURE_TEST_CASE(identical_resends_change_nothing, Registry) {
  auto provider = providers.get("r1", "p");
  BOOST_TEST(!apply("v1", {routes("r1", "a")}));
  auto first = provider->latest();
  BOOST_TEST(!apply("v2", {routes("r1", "a")}));
  BOOST_TEST(arrived.empty());
  BOOST_TEST(provider->latest() == first);
  BOOST_TEST(provider->version() == "v2");
  BOOST_TEST(!apply("v3", {routes("r1", "b")}));
  BOOST_TEST(arrived == std::vector<std::string>{"r1"});
  BOOST_TEST(provider->latest() != first);
  BOOST_TEST(stat("http.p.rds.r1.config_reload") == 2);
}

BOOST_FIXTURE_TEST_CASE(a_bad_route_configuration_rejects_the_whole_response, Registry) {
  auto r1 = providers.get("r1", "p");
  auto r2 = providers.get("r2", "p");
  BOOST_TEST(!apply("v1", {routes("r1", "a"), routes("r2", "a")}));
  auto before = r1->latest();
  auto error = apply("v2", {routes("r1", "b"), routes("r2", "", 700)});
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(contains(*error, "route configuration \"r2\": virtual_hosts[0] (vh).routes[0]"), *error);
  BOOST_TEST(arrived.empty());
  BOOST_TEST(r1->latest() == before);  // r1 was fine, but the response is rejected whole
  BOOST_TEST(r1->version() == "v1");
  BOOST_TEST(stat("http.p.rds.r2.update_rejected") == 1);
  auto twice = apply("v3", {routes("r1", "a"), routes("r1", "a")});
  BOOST_TEST_REQUIRE(twice.has_value());
  BOOST_TEST(contains(*twice, "sent twice"), *twice);
  auto unnamed = apply("v4", {"virtual_hosts: []\n"});
  BOOST_TEST_REQUIRE(unnamed.has_value());
  BOOST_TEST(contains(*unnamed, "without a name"), *unnamed);
}

BOOST_FIXTURE_TEST_CASE(routes_to_a_new_warming_cluster_wait_until_it_is_in_force, Registry) {
  std::set<std::string> warming{"new"};
  providers.setClusterWarming([&warming](const std::string& name) { return warming.count(name) > 0; });
  auto p = providers.get("r1", "p");
  BOOST_TEST(!apply("v1", {routes("r1", "old")}));
  auto first = p->latest();
  BOOST_TEST(!apply("v2", {routes("r1", "new")}));  // accepted (ACKed), held back
  BOOST_TEST(arrived.empty());
  BOOST_TEST(p->latest() == first);
  BOOST_TEST(p->version() == "v1");
  providers.applyHeld(arrived);
  BOOST_TEST(arrived.empty());  // still warming
  warming.clear();
  providers.applyHeld(arrived);
  BOOST_TEST(arrived == std::vector<std::string>{"r1"});
  BOOST_TEST(p->version() == "v2");
  BOOST_TEST(p->latest() != first);
  BOOST_TEST(stat("http.p.rds.r1.config_reload") == 2);

  // A weighted route waits for each of its clusters; a newer response replaces what is held.
  warming = {"w2"};
  std::string weighted = "name: r1\nvirtual_hosts: [{name: vh, domains: ['*'], routes: [{match: {prefix: /}, route: "
                         "{weighted_clusters: {clusters: [{name: new, weight: 50}, {name: w2, weight: 50}]}}}]}]\n";
  BOOST_TEST(!apply("v3", {weighted}));
  BOOST_TEST(arrived.empty());
  BOOST_TEST(!apply("v4", {routes("r1", "other")}));
  BOOST_TEST(arrived == std::vector<std::string>{"r1"});
  BOOST_TEST(p->version() == "v4");
  warming.clear();
  arrived.clear();
  providers.applyHeld(arrived);
  BOOST_TEST(arrived.empty());  // v3 was dropped for v4
  BOOST_TEST(p->version() == "v4");

  // Going back to the configuration in force drops a held one too.
  warming = {"w3"};
  BOOST_TEST(!apply("v5", {routes("r1", "w3")}));
  BOOST_TEST(!apply("v6", {routes("r1", "other")}));
  warming.clear();
  providers.applyHeld(arrived);
  BOOST_TEST(arrived.empty());
  BOOST_TEST(p->version() == "v6");
  BOOST_TEST(p->config().virtual_hosts(0).routes(0).route().cluster() == "other");
}

BOOST_FIXTURE_TEST_CASE(retain_forgets_unnamed_providers, Registry) {
  auto kept = providers.get("r1", "p");
  providers.get("r2", "p");
  providers.retain({"r1"});
  BOOST_TEST(providers.names() == std::vector<std::string>{"r1"});
  BOOST_TEST(providers.get("r1", "p") == kept);
}

BOOST_AUTO_TEST_CASE(without_ads_rds_is_refused) {
  monomesh::observe::StatsStore stats;
  RouteConfigProviders providers(nullptr, stats);
  std::string error = errorOf([&] { HcmConfig::compile(fromYaml<HttpConnectionManager>(kRdsHcm), stats, &providers); });
  BOOST_TEST(contains(error, "rds: routes from RDS need dynamic_resources.ads_config"), error);
}

BOOST_AUTO_TEST_CASE(rds_config_source_must_be_ads) {
  monomesh::observe::StatsStore stats;
  std::string path = errorOf([&] {
    HcmConfig::compile(fromYaml<HttpConnectionManager>("stat_prefix: s\nrds: {route_config_name: r, config_source: {path: "
                                                       "/x}}\nhttp_filters: [{name: envoy.filters.http.router}]\n"),
                       stats);
  });
  BOOST_TEST(contains(path, "rds.config_source.path"), path);
  std::string missing = errorOf([&] {
    HcmConfig::compile(fromYaml<HttpConnectionManager>("stat_prefix: s\nrds: {route_config_name: r}\nhttp_filters: "
                                                       "[{name: envoy.filters.http.router}]\n"),
                       stats);
  });
  BOOST_TEST(contains(missing, "rds.config_source: required"), missing);
  std::string unnamed = errorOf([&] {
    HcmConfig::compile(fromYaml<HttpConnectionManager>("stat_prefix: s\nrds: {config_source: {ads: {}}}\nhttp_filters: "
                                                       "[{name: envoy.filters.http.router}]\n"),
                       stats);
  });
  BOOST_TEST(contains(unnamed, "rds.route_config_name: required"), unnamed);
}

BOOST_AUTO_TEST_SUITE_END()
