// --networksConfig: Istio 1.1's MeshNetworks read with every error placed (file:line:column, field),
// endpoints given their network (by registry, else by CIDR, unless they name one), split-horizon
// EDS (other networks' endpoints replaced by their gateways, weighted by how many they stand for;
// networks without gateways unreachable), cache keys per network, and the file followed at run
// time (a broken or vanished file keeps the last good networks).
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "observe/metrics.h"
#include "observe/prometheus_text.h"
#include "pilot/model/mesh_networks.h"
#include "pilot/server/mesh_networks_watch.h"
#include "temp_dir.h"
#include "xds_test_util.h"

namespace monomesh::pilot {

using testing::TestMesh;

namespace {

constexpr const char* kNetworks = R"(networks:
  east:
    endpoints:
    - fromRegistry: Kubernetes
    gateways:
    - address: 192.0.2.1
      port: 15443
  west:
    endpoints:
    - fromRegistry: cluster-west
    - fromCidr: 10.20.0.0/16
    gateways:
    - address: 192.0.2.2
      port: 15443
    - registryServiceName: istio-ingressgateway.istio-system.svc.cluster.local
      port: 443
  dark:
    endpoints:
    - fromCidr: 10.30.0.0/16
)";

MeshNetworks parsed(const std::string& text) {
  config::ConfigErrors errors;
  auto networks = MeshNetworks::parse(text, "networks.yaml", errors);
  std::string all;
  for (const auto& e : errors) all += "\n  " + e.str();
  BOOST_REQUIRE_MESSAGE(networks.has_value(), "rejected:" << all);
  return std::move(*networks);
}

// The single error `text` gets, as printed.
std::string errorOf(const std::string& text) {
  config::ConfigErrors errors;
  auto networks = MeshNetworks::parse(text, "networks.yaml", errors);
  BOOST_TEST(!networks.has_value());
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  return errors[0].str();
}

// reviews: two endpoints from the Kubernetes registry (network east) and three that a ServiceEntry
// for the same host brings from cluster-west; a ServiceEntry from a registry no network claims,
// whose endpoints name a network or fall in a CIDR; the ingress gateway with a LoadBalancer address.
void addTwoClusters(TestMesh& mesh) {
  mesh.add(testing::k8sService("reviews", "default", "10.0.0.11", "[{name: http, port: 9080}]") + R"(
apiVersion: v1
kind: Endpoints
metadata: {name: reviews, namespace: default}
subsets: [{addresses: [{ip: 10.1.0.1}, {ip: 10.1.0.2}], ports: [{name: http, port: 9080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec: {clusterIP: 10.0.0.99, type: LoadBalancer, ports: [{name: tls, port: 443}]}
status: {loadBalancer: {ingress: [{ip: 203.0.113.7}]}}
)");
  mesh.addFromCluster(R"(
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: reviews-west, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  ports: [{number: 9080, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 10.2.0.1}, {address: 10.2.0.2}, {address: 10.2.0.3}]
)",
                      "cluster-west");
  mesh.addFromCluster(R"(
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: db, namespace: default}
spec:
  hosts: [db.example.com]
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 10.30.0.5}, {address: 10.20.0.9}, {address: 10.30.0.6, network: east}]
)",
                      "cluster-other");
}

std::vector<std::pair<std::string, uint32_t>> reached(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla) {
  std::vector<std::pair<std::string, uint32_t>> out;
  for (const auto& group : cla.endpoints())
    for (const auto& e : group.lb_endpoints())
      out.emplace_back(e.endpoint().address().socket_address().address() + ":" +
                           std::to_string(e.endpoint().address().socket_address().port_value()),
                       e.has_load_balancing_weight() ? e.load_balancing_weight().value() : 1u);
  std::sort(out.begin(), out.end());
  return out;
}

ProxyNode onNetwork(const std::string& id, const std::string& network) {
  return testing::proxyNode(id, {{"NETWORK", network}});
}

using Reached = std::vector<std::pair<std::string, uint32_t>>;

}  // namespace

BOOST_AUTO_TEST_SUITE(mesh_networks)

BOOST_AUTO_TEST_CASE(networks_by_registry_then_by_the_longest_cidr) {
  auto networks = parsed(std::string(kNetworks) + "  inner:\n    endpoints:\n    - fromCidr: 10.20.5.0/24\n");
  BOOST_TEST(networks.names() == (std::vector<std::string>{"dark", "east", "inner", "west"}));
  BOOST_TEST(networks.networkOf("Kubernetes", "10.20.1.1") == "east");  // the registry decides first
  BOOST_TEST(networks.networkOf("cluster-west", "10.1.0.1") == "west");
  BOOST_TEST(networks.networkOf("other", "10.20.1.1") == "west");
  BOOST_TEST(networks.networkOf("other", "10.20.5.1") == "inner");  // /24 inside west's /16
  BOOST_TEST(networks.networkOf("other", "10.40.0.1") == "");
  BOOST_TEST(networks.networkOf("other", "db.example.com") == "");  // DNS endpoints: in no block
  BOOST_TEST(networks.networkOf("other", "fd00::1") == "");
  BOOST_REQUIRE(networks.gateways("west") != nullptr);
  BOOST_TEST(networks.gateways("west")->size() == 2u);
  BOOST_TEST(networks.gateways("dark")->empty());
  BOOST_TEST(networks.gateways("nowhere") == nullptr);
  BOOST_TEST(parsed("").empty());
  BOOST_TEST(parsed("networks: {}\n").empty());
  BOOST_TEST(parsed("{\"networks\": {\"n1\": {\"endpoints\": [{\"fromCidr\": \"10.0.0.1\"}]}}}").networkOf("", "10.0.0.1") ==
             "n1");
}

BOOST_AUTO_TEST_CASE(every_kind_of_bad_file_is_an_error_at_its_line) {
  BOOST_TEST(errorOf("networks:\n  n1:\n    endpoints:\n    - fromCidr: 10.0.0.0/33\n") ==
             "networks.yaml:4:7: networks[\"n1\"].endpoints[0].fromCidr: \"10.0.0.0/33\" is not a valid CIDR block (a.b.c.d/nn)");
  BOOST_TEST(errorOf("networks:\n  n1:\n    endpoints:\n    - {}\n") ==
             "networks.yaml:4:7: networks[\"n1\"].endpoints[0]: set fromCidr or fromRegistry");
  BOOST_TEST(errorOf("networks:\n  n1:\n    endpoints:\n    - fromRegistry: \"\"\n").find(
                 "networks[\"n1\"].endpoints[0].fromRegistry: must name a registry") != std::string::npos);
  BOOST_TEST(errorOf("networks:\n  n1:\n    gateways:\n    - {address: gw.example.com, port: 443}\n") ==
             "networks.yaml:4:8: networks[\"n1\"].gateways[0].address: \"gw.example.com\" is not a valid IPv4 address "
             "(gateway addresses are not resolved; give an IP)");
  BOOST_TEST(errorOf("networks:\n  n1:\n    gateways:\n    - address: 192.0.2.1\n      port: 0\n") ==
             "networks.yaml:5:7: networks[\"n1\"].gateways[0].port: port number 0 is not in 1..65535");
  BOOST_TEST(errorOf("networks:\n  n1:\n    gateways:\n    - {port: 443}\n").find(
                 "networks[\"n1\"].gateways[0]: set address or registryServiceName") != std::string::npos);
  BOOST_TEST(errorOf("networks:\n  n1:\n    gateways:\n    - {registryServiceName: \"not a host\", port: 443}\n")
                 .find("gateways[0].registryServiceName") != std::string::npos);
  BOOST_TEST(errorOf("networks:\n  a:\n    endpoints: [{fromRegistry: c1}]\n  b:\n    endpoints: [{fromRegistry: c1}]\n") ==
             "networks.yaml:5:18: networks[\"b\"].endpoints[0].fromRegistry: registry \"c1\" already belongs to network "
             "\"a\"; an endpoint is on one network");
  BOOST_TEST(errorOf("networks:\n  a:\n    endpoints: [{fromCidr: 10.0.0.0/8}]\n  b:\n    endpoints: [{fromCidr: 10.0.0.0/8}]\n")
                 .find("CIDR block \"10.0.0.0/8\" already belongs to network \"a\"") != std::string::npos);
  // What the reader rejects: an unknown field, a wrong type, both members of a oneof, bad YAML.
  BOOST_TEST(errorOf("networks:\n  n1:\n    endpoint: []\n").find("networks.yaml:3:5") == 0u);
  BOOST_TEST(errorOf("networks:\n  n1:\n    gateways:\n    - {address: 192.0.2.1, port: many}\n").find("port") !=
             std::string::npos);
  BOOST_TEST(errorOf("networks:\n  n1:\n    endpoints:\n    - {fromCidr: 10.0.0.0/8, fromRegistry: c1}\n").find(
                 "cannot both be set") != std::string::npos);
  BOOST_TEST(errorOf("networks: [unclosed\n").find("invalid YAML") != std::string::npos);
  config::ConfigErrors errors;
  BOOST_TEST(!MeshNetworks::load("/nonexistent/monomesh/meshNetworks", errors).has_value());
  BOOST_TEST(errors.at(0).str() == "/nonexistent/monomesh/meshNetworks: cannot read the mesh networks file");
}

BOOST_AUTO_TEST_CASE(endpoints_get_the_network_of_their_registry_or_cidr_unless_they_name_one) {
  TestMesh mesh;
  addTwoClusters(mesh);
  mesh.registryOptions().networks = std::make_shared<const MeshNetworks>(parsed(kNetworks));
  const auto& push = mesh.push();
  std::map<std::string, std::string> network;
  for (const auto& host : {"reviews.default.svc.cluster.local", "db.example.com"})
    for (const auto& e : push.endpoints(host)) network[e.address] = e.network;
  BOOST_TEST(network["10.1.0.1"] == "east");
  BOOST_TEST(network["10.2.0.3"] == "west");
  BOOST_TEST(network["10.30.0.5"] == "dark");  // cluster-other has no network: by CIDR
  BOOST_TEST(network["10.20.0.9"] == "west");
  BOOST_TEST(network["10.30.0.6"] == "east");  // named in the ServiceEntry: kept
}

BOOST_AUTO_TEST_CASE(split_horizon_eds_replaces_other_networks_by_their_gateways) {
  TestMesh mesh;
  addTwoClusters(mesh);
  mesh.registryOptions().networks = std::make_shared<const MeshNetworks>(parsed(kNetworks));
  const auto& push = mesh.push();
  const std::string reviews = "outbound|9080||reviews.default.svc.cluster.local";

  auto east = onNetwork("sidecar~10.1.0.9~client-1.default~default.svc.cluster.local", "east");
  xds::ProxyView east_view(push, east);
  // Its own two endpoints, and west's three behind each of west's gateways (the address, and the
  // ingress service's LoadBalancer address), weighted 3.
  BOOST_TEST(reached(*xds::buildLoadAssignment(east_view, reviews)) ==
             (Reached{{"10.1.0.1:9080", 1}, {"10.1.0.2:9080", 1}, {"192.0.2.2:15443", 3}, {"203.0.113.7:443", 3}}));
  auto cla = *xds::buildLoadAssignment(east_view, reviews);
  BOOST_TEST(cla.endpoints(0).load_balancing_weight().value() == 8u);  // the locality's weight: the sum

  auto west = onNetwork("sidecar~10.2.0.9~client-2.default~default.svc.cluster.local", "west");
  xds::ProxyView west_view(push, west);
  BOOST_TEST(reached(*xds::buildLoadAssignment(west_view, reviews)) ==
             (Reached{{"10.2.0.1:9080", 1}, {"10.2.0.2:9080", 1}, {"10.2.0.3:9080", 1}, {"192.0.2.1:15443", 2}}));

  // db: dark has no gateway, so its endpoint is out of reach from east; east's own stays.
  const std::string db = "outbound|5432||db.example.com";
  BOOST_TEST(reached(*xds::buildLoadAssignment(east_view, db)) ==
             (Reached{{"10.30.0.6:5432", 1}, {"192.0.2.2:15443", 1}, {"203.0.113.7:443", 1}}));
  // A proxy naming no network is on none: every endpoint with a network is elsewhere.
  auto nowhere = testing::proxyNode("sidecar~10.9.0.9~client-3.default~default.svc.cluster.local");
  xds::ProxyView nowhere_view(push, nowhere);
  BOOST_TEST(reached(*xds::buildLoadAssignment(nowhere_view, db)) ==
             (Reached{{"192.0.2.1:15443", 1}, {"192.0.2.2:15443", 1}, {"203.0.113.7:443", 1}}));

  // Proxies on one network share one cached assignment; another network has its own.
  auto east2 = onNetwork("sidecar~10.1.0.8~client-4.default~default.svc.cluster.local", "east");
  xds::ProxyView east2_view(push, east2);
  BOOST_TEST(xds::loadAssignmentKey(east_view, reviews) == xds::loadAssignmentKey(east2_view, reviews));
  BOOST_TEST(xds::loadAssignmentKey(east_view, reviews) != xds::loadAssignmentKey(west_view, reviews));
}

BOOST_AUTO_TEST_CASE(without_networks_eds_is_not_split) {
  TestMesh mesh;
  addTwoClusters(mesh);
  const auto& push = mesh.push();
  auto east = onNetwork("sidecar~10.1.0.9~client-1.default~default.svc.cluster.local", "east");
  auto west = onNetwork("sidecar~10.2.0.9~client-2.default~default.svc.cluster.local", "west");
  xds::ProxyView east_view(push, east), west_view(push, west);
  const std::string reviews = "outbound|9080||reviews.default.svc.cluster.local";
  BOOST_TEST(reached(*xds::buildLoadAssignment(east_view, reviews)).size() == 5u);
  BOOST_TEST(xds::loadAssignmentKey(east_view, reviews) == xds::loadAssignmentKey(west_view, reviews));
}

BOOST_AUTO_TEST_CASE(the_file_is_followed_and_a_broken_one_keeps_the_last_good_networks) {
  monomesh::testing::TempDir dir;
  auto path = dir.write("meshNetworks", kNetworks);
  boost::asio::io_context io;
  MeshNetworksWatch watch(io, path, std::chrono::milliseconds(10));
  BOOST_TEST(watch.load(true) == "");
  BOOST_REQUIRE(watch.networks() != nullptr);
  BOOST_TEST(watch.networks()->size() == 3u);
  std::vector<std::shared_ptr<const MeshNetworks>> applied;
  watch.start([&](std::shared_ptr<const MeshNetworks> n) { applied.push_back(std::move(n)); });
  auto invalid = [] {
    auto text = observe::renderPrometheus(observe::MetricsRegistry::global());
    return text.find("\nmonomesh_pilot_networks_config_invalid 1") != std::string::npos;
  };

  io.run_for(std::chrono::milliseconds(50));
  BOOST_TEST(applied.empty());  // unchanged: nothing to apply
  dir.write("meshNetworks", "networks:\n  only:\n    endpoints: [{fromCidr: 10.0.0.0/8}]\n");
  io.run_for(std::chrono::milliseconds(50));
  BOOST_REQUIRE(applied.size() == 1u);
  BOOST_TEST(applied[0]->names() == std::vector<std::string>{"only"});
  BOOST_TEST(!invalid());

  dir.write("meshNetworks", "networks:\n  only:\n    endpoints: [{fromCidr: 10.0.0.0/99}]\n");
  io.run_for(std::chrono::milliseconds(50));
  BOOST_TEST(applied.size() == 1u);
  BOOST_TEST(watch.networks()->names() == std::vector<std::string>{"only"});  // the last good one
  BOOST_TEST(invalid());
  dir.remove("meshNetworks");
  io.run_for(std::chrono::milliseconds(50));
  BOOST_TEST(applied.size() == 1u);
  BOOST_TEST(invalid());

  dir.write("meshNetworks", kNetworks);
  io.run_for(std::chrono::milliseconds(50));
  BOOST_REQUIRE(applied.size() == 2u);
  BOOST_TEST(applied[1]->size() == 3u);
  BOOST_TEST(!invalid());
  watch.stop();
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_an_error_only_when_the_flag_named_it) {
  boost::asio::io_context io;
  MeshNetworksWatch implicit(io, "/nonexistent/monomesh/meshNetworks");
  BOOST_TEST(implicit.load(false) == "");
  BOOST_TEST(implicit.networks() == nullptr);
  MeshNetworksWatch named(io, "/nonexistent/monomesh/meshNetworks");
  BOOST_TEST(named.load(true) == "cannot read /nonexistent/monomesh/meshNetworks");
  monomesh::testing::TempDir dir;
  MeshNetworksWatch broken(io, dir.write("bad", "networks:\n  n1:\n    gateways: [{address: 192.0.2.1}]\n"));
  BOOST_TEST(broken.load(false) ==
             dir.file("bad") + ":3:16: networks[\"n1\"].gateways[0].port: port number 0 is not in 1..65535");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace monomesh::pilot
