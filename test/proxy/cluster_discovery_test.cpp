// ClusterDiscovery: CDS adds, updates and removes dynamic clusters (bootstrap ones stay); EDS
// clusters warm until their ClusterLoadAssignment or initial_fetch_timeout; a bad cluster or
// assignment rejects the whole response with a message naming it and changes nothing;
// initialization waits for the first CDS response and its warming clusters.
#include <boost/test/unit_test.hpp>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "proxy/upstream/cluster_discovery.h"
#include "proxy_test_util.h"

using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::fromYaml;
namespace cv3 = envoy::config::cluster::v3;
namespace ev3 = envoy::config::endpoint::v3;
using Resources = std::vector<google::protobuf::Any>;

namespace {

std::string staticCluster(const std::string& name, int port = 8080) {
  return "name: " + name + "\ntype: STATIC\nload_assignment: {cluster_name: " + name +
         ", endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " +
         std::to_string(port) + "}}}}]}]}\n";
}

std::string edsCluster(const std::string& name, const std::string& extra = "") {
  return "name: " + name + "\ntype: EDS\neds_cluster_config: {eds_config: {ads: {}" + extra + "}}\n";
}

std::string assignment(const std::string& name, int port, const std::string& ip = "10.0.0.1") {
  return "cluster_name: " + name + "\nendpoints:\n- locality: {region: r1, zone: z1}\n  priority: 1\n  lb_endpoints:\n" +
         "  - endpoint: {address: {socket_address: {address: " + ip + ", port_value: " + std::to_string(port) +
         "}}}\n    load_balancing_weight: 3\n";
}

template <class T>
Resources pack(const std::vector<std::string>& yamls) {
  Resources out;
  for (const auto& y : yamls) out.emplace_back().PackFrom(fromYaml<T>(y));
  return out;
}

struct Fixture {
  boost::asio::io_context io;
  monomesh::observe::StatsStore stats;
  std::vector<std::vector<std::string>> published;  // cluster names per publish
  std::map<std::string, std::vector<ClusterInfo::Target>> hosts;
  std::vector<std::string> endpoints_wanted;
  std::map<std::string, std::vector<ClusterInfo::Target>> first_targets;  // targets when first published
  int initialized = 0;
  std::unique_ptr<ClusterDiscovery> cds;

  Fixture() {
    ClusterDiscovery::Hooks h;
    h.compile = [this](const cv3::Cluster& c) { return ClusterInfo::compile(c, stats); };
    h.publish = [this](std::vector<std::shared_ptr<ClusterInfo>> all) {
      std::vector<std::string> names;
      for (const auto& i : all) {
        names.push_back(i->name);
        first_targets.try_emplace(i->name, i->targets);
      }
      published.push_back(names);
    };
    h.set_hosts = [this](const std::string& c, std::vector<ClusterInfo::Target> t) { hosts[c] = std::move(t); };
    h.want_endpoints = [this](const std::vector<std::string>& names) { endpoints_wanted = names; };
    h.initialized = [this] { ++initialized; };
    cds = std::make_unique<ClusterDiscovery>(io, stats, std::move(h));
  }

  std::vector<std::shared_ptr<ClusterInfo>> bootstrap(const std::vector<std::string>& yamls) {
    std::vector<std::shared_ptr<ClusterInfo>> out;
    for (const auto& y : yamls) out.push_back(ClusterInfo::compile(fromYaml<cv3::Cluster>(y), stats));
    return out;
  }
  std::optional<std::string> clusters(const std::string& version, const std::vector<std::string>& yamls) {
    return cds->onClusters(version, pack<cv3::Cluster>(yamls));
  }
  std::optional<std::string> endpoints(const std::string& version, const std::vector<std::string>& yamls) {
    return cds->onEndpoints(version, pack<ev3::ClusterLoadAssignment>(yamls));
  }
  int64_t stat(const std::string& name) { return stats.values()[name]; }
  std::vector<std::string> last() { return published.empty() ? std::vector<std::string>{} : published.back(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_discovery)

BOOST_AUTO_TEST_CASE(without_cds_the_bootstrap_clusters_initialize_at_once) {
  Fixture f;
  f.cds->start(f.bootstrap({staticCluster("xds-grpc")}), false, std::chrono::seconds(15));
  BOOST_TEST(f.initialized == 1);
  BOOST_TEST(f.last() == std::vector<std::string>{"xds-grpc"});
  BOOST_TEST(f.endpoints_wanted.empty());
}

BOOST_AUTO_TEST_CASE(cds_adds_static_clusters_at_once_and_eds_clusters_after_their_endpoints) {
  Fixture f;
  f.cds->start(f.bootstrap({staticCluster("xds-grpc")}), true, std::chrono::seconds(15));
  BOOST_TEST(f.initialized == 0);  // waits for the first CDS response
  BOOST_TEST(!f.clusters("1", {staticCluster("local", 9000), edsCluster("reviews")}));
  BOOST_TEST(f.last() == (std::vector<std::string>{"xds-grpc", "local"}));  // reviews is warming
  BOOST_TEST(f.endpoints_wanted == std::vector<std::string>{"reviews"});
  BOOST_TEST(f.initialized == 0);  // ... and initialization with it
  BOOST_TEST(f.cds->warmingCount() == 1u);
  BOOST_TEST(f.stat("cluster_manager.warming_clusters") == 1);

  BOOST_TEST(!f.endpoints("e1", {assignment("reviews", 9080)}));
  BOOST_TEST(f.last() == (std::vector<std::string>{"xds-grpc", "local", "reviews"}));
  BOOST_TEST(f.initialized == 1);
  const auto& t = f.first_targets.at("reviews");  // it starts with its endpoints, never empty
  BOOST_TEST_REQUIRE(t.size() == 1u);
  BOOST_TEST(t[0].address == "10.0.0.1");
  BOOST_TEST(t[0].port == 9080);
  BOOST_TEST(t[0].weight == 3u);
  BOOST_TEST(t[0].priority == 1u);
  BOOST_TEST(t[0].locality == "r1/z1/");
  BOOST_TEST(f.stat("cluster_manager.cds.update_success") == 1);
  BOOST_TEST(f.stat("cluster_manager.cluster_added") == 2);
  BOOST_TEST(f.stat("cluster_manager.active_clusters") == 3);
  BOOST_TEST(f.stat("cluster_manager.warming_clusters") == 0);

  // Later assignments reach the active cluster's hosts.
  BOOST_TEST(!f.endpoints("e2", {assignment("reviews", 9081)}));
  BOOST_TEST_REQUIRE(f.hosts.count("reviews") == 1u);
  BOOST_TEST(f.hosts["reviews"].at(0).port == 9081);
}

BOOST_AUTO_TEST_CASE(service_name_names_the_assignment) {
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {"name: outbound|9080||reviews\ntype: EDS\neds_cluster_config: {service_name: reviews.default, "
                               "eds_config: {ads: {}}}\n"}));
  BOOST_TEST(f.endpoints_wanted == std::vector<std::string>{"reviews.default"});
  BOOST_TEST(!f.endpoints("e1", {assignment("reviews.default", 9080)}));
  BOOST_TEST(f.last() == std::vector<std::string>{"outbound|9080||reviews"});
}

BOOST_AUTO_TEST_CASE(assignments_nobody_asked_for_are_ignored) {
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {edsCluster("a")}));
  // A control plane answering with more than was asked (even something broken) changes nothing.
  BOOST_TEST(!f.endpoints("e1", {assignment("other", 80), assignment("broken", 80, "not-an-ip")}));
  BOOST_TEST(f.cds->warmingCount() == 1u);
  envoy::admin::v3::ClustersConfigDump dump;
  envoy::admin::v3::EndpointsConfigDump eds;
  f.cds->dump(dump, eds);
  BOOST_TEST(eds.dynamic_endpoint_configs_size() == 0);
}

BOOST_AUTO_TEST_CASE(an_identical_response_changes_nothing) {
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {staticCluster("a")}));
  size_t publishes = f.published.size();
  BOOST_TEST(!f.clusters("2", {staticCluster("a")}));
  BOOST_TEST(f.published.size() == publishes);
  envoy::admin::v3::ClustersConfigDump dump;
  envoy::admin::v3::EndpointsConfigDump eds;
  f.cds->dump(dump, eds);
  BOOST_TEST(dump.version_info() == "2");
  BOOST_TEST_REQUIRE(dump.dynamic_active_clusters_size() == 1);
  BOOST_TEST(dump.dynamic_active_clusters(0).version_info() == "2");
}

BOOST_AUTO_TEST_CASE(removed_clusters_go_and_their_endpoints_are_forgotten) {
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {staticCluster("a"), edsCluster("b")}));
  BOOST_TEST(!f.endpoints("e1", {assignment("b", 80)}));
  BOOST_TEST(f.last() == (std::vector<std::string>{"a", "b"}));
  BOOST_TEST(!f.clusters("2", {staticCluster("a")}));
  BOOST_TEST(f.last() == std::vector<std::string>{"a"});
  BOOST_TEST(f.endpoints_wanted.empty());
  BOOST_TEST(f.stat("cluster_manager.cluster_removed") == 1);
  // Back again: it warms again (its old endpoints are not trusted).
  BOOST_TEST(!f.clusters("3", {staticCluster("a"), edsCluster("b")}));
  BOOST_TEST(f.last() == std::vector<std::string>{"a"});
  BOOST_TEST(f.cds->warmingCount() == 1u);
}

BOOST_AUTO_TEST_CASE(a_changed_cluster_serves_in_its_old_form_while_the_new_one_warms) {
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {edsCluster("b")}));
  BOOST_TEST(!f.endpoints("e1", {assignment("b", 80)}));
  BOOST_TEST(f.last() == std::vector<std::string>{"b"});
  // Another service name: the new form needs other endpoints; the old one stays meanwhile.
  BOOST_TEST(!f.clusters("2", {"name: b\ntype: EDS\neds_cluster_config: {service_name: b2, eds_config: {ads: {}}}\n"}));
  BOOST_TEST(f.cds->warmingCount() == 1u);
  BOOST_TEST(f.cds->activeCount() == 1u);
  BOOST_TEST(f.endpoints_wanted == (std::vector<std::string>{"b", "b2"}));
  BOOST_TEST(!f.endpoints("e2", {assignment("b", 80), assignment("b2", 81)}));
  BOOST_TEST(f.cds->warmingCount() == 0u);
  BOOST_TEST(f.endpoints_wanted == std::vector<std::string>{"b2"});
  BOOST_TEST(f.stat("cluster_manager.cluster_modified") == 1);
}

BOOST_AUTO_TEST_CASE(warming_only_names_new_clusters_without_an_older_form_in_force) {
  // What RDS holds routes back for: a new cluster waiting for its endpoints, not a changed one.
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {edsCluster("b"), edsCluster("c")}));
  BOOST_TEST(f.cds->warmingOnly("b"));
  BOOST_TEST(!f.cds->warmingOnly("unknown"));
  BOOST_TEST(!f.endpoints("e1", {assignment("b", 80)}));
  BOOST_TEST(!f.cds->warmingOnly("b"));
  BOOST_TEST(!f.clusters("2", {"name: b\ntype: EDS\neds_cluster_config: {service_name: b2, eds_config: {ads: {}}}\n",
                               edsCluster("c")}));
  BOOST_TEST(!f.cds->warmingOnly("b"));  // its old form serves meanwhile
  // A cluster removed while it warmed is published as gone: routes held for it wait no more.
  size_t publishes = f.published.size();
  BOOST_TEST(!f.clusters("3", {"name: b\ntype: EDS\neds_cluster_config: {service_name: b2, eds_config: {ads: {}}}\n"}));
  BOOST_TEST(!f.cds->warmingOnly("c"));
  BOOST_TEST(f.published.size() == publishes + 1);
}

BOOST_AUTO_TEST_CASE(bootstrap_clusters_cannot_be_replaced) {
  Fixture f;
  f.cds->start(f.bootstrap({staticCluster("xds-grpc", 15010)}), true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {staticCluster("xds-grpc", 1)}));
  BOOST_TEST(f.last() == std::vector<std::string>{"xds-grpc"});
  BOOST_TEST(f.first_targets.at("xds-grpc").at(0).port == 15010);
  BOOST_TEST(f.cds->activeCount() == 0u);
}

BOOST_AUTO_TEST_CASE(a_bad_cluster_rejects_the_whole_response) {
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {staticCluster("a")}));
  size_t publishes = f.published.size();
  auto error = f.clusters("2", {staticCluster("new"), "name: bad\ntype: STATIC\nlb_policy: LOAD_BALANCING_POLICY_CONFIG\n"});
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(contains(*error, "cluster \"bad\": lb_policy"), *error);
  BOOST_TEST(f.published.size() == publishes);
  BOOST_TEST(f.cds->activeCount() == 1u);
  BOOST_TEST(f.stat("cluster_manager.cds.update_rejected") == 1);
  envoy::admin::v3::ClustersConfigDump dump;
  envoy::admin::v3::EndpointsConfigDump eds;
  f.cds->dump(dump, eds);
  BOOST_TEST(dump.version_info() == "1");

  auto eds_source = f.clusters("3", {"name: e\ntype: EDS\neds_cluster_config: {eds_config: {path: /x}}\n"});
  BOOST_TEST_REQUIRE(eds_source.has_value());
  BOOST_TEST(contains(*eds_source, "cluster \"e\": eds_cluster_config.eds_config.path"), *eds_source);
  auto twice = f.clusters("4", {staticCluster("a"), staticCluster("a")});
  BOOST_TEST_REQUIRE(twice.has_value());
  BOOST_TEST(contains(*twice, "sent twice"), *twice);
  Resources wrong;
  wrong.emplace_back().PackFrom(fromYaml<ev3::ClusterLoadAssignment>(assignment("a", 1)));
  auto type = f.cds->onClusters("5", wrong);
  BOOST_TEST_REQUIRE(type.has_value());
  BOOST_TEST(contains(*type, "resources[0]: not an envoy.config.cluster.v3.Cluster"), *type);
}

BOOST_AUTO_TEST_CASE(a_bad_assignment_rejects_the_whole_response) {
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {edsCluster("a"), edsCluster("b")}));
  auto error = f.endpoints("e1", {assignment("a", 80), assignment("b", 80, "reviews.example.com")});
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(contains(*error, "cluster load assignment \"b\": endpoints[0].lb_endpoints[0].endpoint.address"), *error);
  BOOST_TEST(f.cds->warmingCount() == 2u);  // "a" did not go live either
  auto port = f.endpoints("e1", {assignment("a", 0)});
  BOOST_TEST_REQUIRE(port.has_value());
  BOOST_TEST(contains(*port, "port_value"), *port);
  auto unnamed = f.endpoints("e1", {"endpoints: []\n"});
  BOOST_TEST_REQUIRE(unnamed.has_value());
  BOOST_TEST(contains(*unnamed, "without cluster_name"), *unnamed);
}

BOOST_AUTO_TEST_CASE(a_warming_cluster_goes_live_without_hosts_after_initial_fetch_timeout) {
  Fixture f;
  f.cds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.clusters("1", {edsCluster("slow", ", initial_fetch_timeout: 0.05s")}));
  BOOST_TEST(f.initialized == 0);
  f.io.run_for(std::chrono::seconds(2));
  BOOST_TEST(f.initialized == 1);
  BOOST_TEST(f.last() == std::vector<std::string>{"slow"});
  BOOST_TEST(f.first_targets.at("slow").empty());
}

BOOST_AUTO_TEST_CASE(no_cds_response_within_its_timeout_still_initializes) {
  Fixture f;
  f.cds->start({}, true, std::chrono::milliseconds(50));
  BOOST_TEST(f.initialized == 0);
  f.io.run_for(std::chrono::seconds(2));
  BOOST_TEST(f.initialized == 1);
  // A response that comes later still applies.
  BOOST_TEST(!f.clusters("1", {staticCluster("late")}));
  BOOST_TEST(f.last() == std::vector<std::string>{"late"});
}

BOOST_AUTO_TEST_CASE(bootstrap_eds_clusters_wait_for_their_endpoints) {
  Fixture f;
  f.cds->start(f.bootstrap({edsCluster("static-eds")}), false, std::chrono::seconds(15));
  BOOST_TEST(f.initialized == 0);
  BOOST_TEST(f.endpoints_wanted == std::vector<std::string>{"static-eds"});
  BOOST_TEST(f.last() == std::vector<std::string>{"static-eds"});  // in force, with no hosts yet
  BOOST_TEST(!f.endpoints("e1", {assignment("static-eds", 80)}));
  BOOST_TEST(f.initialized == 1);
  BOOST_TEST(f.hosts.at("static-eds").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
