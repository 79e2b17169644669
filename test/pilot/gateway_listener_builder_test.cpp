// Gateway listeners (LDS for routers) and gateway route configurations ("http.<port>",
// "https.<port>.<portName>.<gateway>.<namespace>"): server merging, host binding, each TLS mode,
// and that our proxy compiles every listener (with real certificate files).
#include <boost/test/unit_test.hpp>

#include "net/test_certs.h"
#include "pilot/xds/gateway_listener_builder.h"
#include "xds_test_util.h"
#include "xds_text.h"

namespace monomesh::pilot::testing {
namespace {

namespace lv3 = envoy::config::listener::v3;


// A CA, a server certificate and key on disk, for TLS servers the proxy must be able to load.
struct Certs {
  monomesh::testing::TempDir dir;
  net::tls::testing::TestCa ca{"Gateway CA"};
  std::string cert, key, ca_file;
  Certs() {
    auto leaf = ca.issue({"uk.bookinfo.com", {}, {"uk.bookinfo.com"}});
    cert = dir.write("cert.pem", leaf.cert_pem);
    key = dir.write("key.pem", leaf.key_pem);
    ca_file = dir.write("ca.pem", ca.certPem());
  }
  // `yaml` with $CERT, $KEY and $CA replaced by the files.
  std::string fill(std::string yaml) const {
    for (auto [from, to] : {std::pair{"$CERT", &cert}, {"$KEY", &key}, {"$CA", &ca_file}})
      for (auto at = yaml.find(from); at != std::string::npos; at = yaml.find(from)) yaml.replace(at, std::string(from).size(), *to);
    return yaml;
  }
};

struct Built {
  std::vector<lv3::Listener> listeners;
  std::vector<PushConflict> conflicts;
  std::string text() const { return describeListeners(listeners); }
};

Built gatewayListeners(TestMesh& mesh) {
  auto node = ingressGateway();
  xds::ProxyView view(mesh.push(), node);
  Built b;
  b.listeners = xds::buildGatewayListeners(view, b.conflicts);
  for (const auto& l : b.listeners) checkProxyAccepts(l);
  return b;
}

std::optional<envoy::config::route::v3::RouteConfiguration> gatewayRoutes(TestMesh& mesh, const std::string& name) {
  auto node = ingressGateway();
  xds::ProxyView view(mesh.push(), node);
  auto config = xds::buildRouteConfiguration(view, name);
  if (config) checkProxyAccepts(*config);
  return config;
}

std::string gateway(const std::string& name, const std::string& servers) {
  return "apiVersion: networking.istio.io/v1alpha3\nkind: Gateway\nmetadata: {name: " + name +
         ", namespace: istio-system}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n" + servers;
}

// A VirtualService in default bound to `gateways`.
std::string boundService(const std::string& name, const std::string& hosts, const std::string& gateways, const std::string& body) {
  return virtualService(name, "default", hosts, "  gateways: " + gateways + "\n" + body);
}

const std::string kToProductpage = "  http:\n  - route: [{destination: {host: productpage}}]\n";

BOOST_AUTO_TEST_SUITE(gateway_listeners)

BOOST_AUTO_TEST_CASE(bookinfo_gateway_matches_golden_files) {
  if (skipWithoutSamples()) return;
  TestMesh mesh;
  mesh.addSample("bookinfo.yaml");
  mesh.addSample("bookinfo-gateway.yaml");
  auto built = gatewayListeners(mesh);
  BOOST_TEST(built.conflicts.empty());
  checkGolden("bookinfo-gateway-listeners", built.text());
  auto routes = gatewayRoutes(mesh, "http.80");
  BOOST_REQUIRE(routes.has_value());
  checkGolden("bookinfo-gateway-routes", describeRoutes(*routes));
}

BOOST_AUTO_TEST_CASE(http_servers_bind_virtual_services_by_host_and_namespace) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(gateway("gw", R"(
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [uk.bookinfo.com, "*.example.com", default/only-default.com, other/only-other.com, ./only-gateway-ns.com]
)"));
  mesh.add(boundService("front", "[uk.bookinfo.com, a.example.com, only-default.com, only-other.com, only-gateway-ns.com]",
                          "[istio-system/gw]", kToProductpage));
  auto built = gatewayListeners(mesh);
  BOOST_TEST(built.text() ==
             "listener 0.0.0.0_80 0.0.0.0:80\n"
             "    chain sni=[]\n"
             "      envoy.filters.network.http_connection_manager stat=http.80 rds=http.80 filters=envoy.filters.http.cors,"
             "envoy.filters.http.fault,envoy.filters.http.router use_remote_address upgrade=websocket\n");
  auto routes = gatewayRoutes(mesh, "http.80");
  BOOST_REQUIRE(routes.has_value());
  std::vector<std::string> names;
  for (const auto& vh : routes->virtual_hosts()) names.push_back(vh.name());
  BOOST_TEST(names == (std::vector<std::string>{"a.example.com:80", "only-default.com:80", "uk.bookinfo.com:80"}),
             boost::test_tools::per_element());
  BOOST_TEST(routes->virtual_hosts(0).domains(1) == "a.example.com:80");
  BOOST_TEST(routes->virtual_hosts(0).routes(0).route().cluster() == "outbound|9080||productpage.default.svc.cluster.local");
}

BOOST_AUTO_TEST_CASE(https_redirect_requires_tls_and_unbound_servers_answer_404) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(gateway("gw", R"(
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [uk.bookinfo.com]
    tls: {httpsRedirect: true}
  - port: {number: 8080, name: http-alt, protocol: HTTP}
    hosts: [nothing-bound.com]
)"));
  mesh.add(boundService("front", "[uk.bookinfo.com]", "[gw.istio-system.svc.cluster.local]", kToProductpage));
  auto redirect = gatewayRoutes(mesh, "http.80");
  BOOST_REQUIRE(redirect.has_value());
  BOOST_TEST(int(redirect->virtual_hosts(0).require_tls()) == int(envoy::config::route::v3::VirtualHost::ALL));
  auto unbound = gatewayRoutes(mesh, "http.8080");
  BOOST_REQUIRE(unbound.has_value());
  BOOST_TEST(describeRoutes(*unbound) == "route_config http.8080\n  vhost blackhole:8080\n    domains *\n    route prefix=/ direct=404\n");
  for (const char* name : {"http.81", "https.443.https.gw.istio-system", "9080", ""})
    BOOST_TEST(!gatewayRoutes(mesh, name).has_value(), "name " << name);
}

BOOST_AUTO_TEST_CASE(https_simple_and_mutual_terminate_tls_per_server) {
  Certs certs;
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(certs.fill(gateway("gw", R"(
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [uk.bookinfo.com]
    tls: {mode: SIMPLE, serverCertificate: $CERT, privateKey: $KEY}
  - port: {number: 443, name: https-mtls, protocol: HTTPS}
    hosts: [eu.bookinfo.com]
    tls:
      mode: MUTUAL
      serverCertificate: $CERT
      privateKey: $KEY
      caCertificates: $CA
      subjectAltNames: [spiffe://cluster.local/ns/default/sa/client]
      minProtocolVersion: TLSV1_2
      cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]
)")));
  mesh.add(boundService("front", "[uk.bookinfo.com, eu.bookinfo.com]", "[istio-system/gw]", kToProductpage));
  auto built = gatewayListeners(mesh);
  BOOST_TEST(built.conflicts.empty());
  BOOST_REQUIRE(built.listeners.size() == 1u);
  BOOST_TEST(certs.fill(built.text()) == certs.fill(
                 "listener 0.0.0.0_443 0.0.0.0:443 +envoy.filters.listener.tls_inspector\n"
                 "    chain sni=[uk.bookinfo.com]\n"
                 "      tls cert=$CERT key=$KEY alpn=h2,http/1.1\n"
                 "      envoy.filters.network.http_connection_manager stat=https.443.https.gw.istio-system "
                 "rds=https.443.https.gw.istio-system filters=envoy.filters.http.cors,envoy.filters.http.fault,"
                 "envoy.filters.http.router use_remote_address upgrade=websocket\n"
                 "    chain sni=[eu.bookinfo.com]\n"
                 "      tls cert=$CERT key=$KEY ca=$CA san=exact=spiffe://cluster.local/ns/default/sa/client mutual "
                 "alpn=h2,http/1.1 min=TLSv1_2 max=TLS_AUTO cipher=ECDHE-ECDSA-AES128-GCM-SHA256\n"
                 "      envoy.filters.network.http_connection_manager stat=https.443.https-mtls.gw.istio-system "
                 "rds=https.443.https-mtls.gw.istio-system filters=envoy.filters.http.cors,envoy.filters.http.fault,"
                 "envoy.filters.http.router use_remote_address upgrade=websocket\n"));
  // Each HTTPS server has its own route configuration with only its hosts.
  auto uk = gatewayRoutes(mesh, "https.443.https.gw.istio-system");
  BOOST_REQUIRE(uk.has_value());
  BOOST_REQUIRE(uk->virtual_hosts_size() == 1);
  BOOST_TEST(uk->virtual_hosts(0).name() == "uk.bookinfo.com:443");
}

BOOST_AUTO_TEST_CASE(tls_settings_the_proxy_cannot_use_drop_the_server_with_a_reason) {
  Certs certs;
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(certs.fill(gateway("gw", R"(
  - port: {number: 443, name: no-ca, protocol: HTTPS}
    hosts: [a.com]
    tls: {mode: MUTUAL, serverCertificate: $CERT, privateKey: $KEY}
  - port: {number: 443, name: sds, protocol: HTTPS}
    hosts: [b.com]
    tls: {mode: SIMPLE, credentialName: b-cert}
  - port: {number: 443, name: san-no-ca, protocol: HTTPS}
    hosts: [c.com]
    tls: {mode: SIMPLE, serverCertificate: $CERT, privateKey: $KEY, subjectAltNames: [x]}
  - port: {number: 443, name: old, protocol: HTTPS}
    hosts: [d.com]
    tls: {mode: SIMPLE, serverCertificate: $CERT, privateKey: $KEY, maxProtocolVersion: TLSV1_1}
)")));
  auto built = gatewayListeners(mesh);
  BOOST_TEST(built.listeners.empty());
  BOOST_REQUIRE(built.conflicts.size() == 4u);
  BOOST_TEST(built.conflicts[0].detail.find("MUTUAL needs caCertificates") != std::string::npos);
  BOOST_TEST(built.conflicts[1].detail.find("credentialName") != std::string::npos);
  BOOST_TEST(built.conflicts[2].detail.find("subjectAltNames need caCertificates") != std::string::npos);
  BOOST_TEST(built.conflicts[3].detail.find("maxProtocolVersion") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(passthrough_routes_by_sni_from_tls_routes) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(gateway("gw", R"(
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.bookinfo.com"]
    tls: {mode: PASSTHROUGH}
)"));
  mesh.add(boundService("sni", "[\"*.bookinfo.com\"]", "[istio-system/gw]", R"(
  tls:
  - match: [{port: 443, sniHosts: [uk.bookinfo.com]}, {sniHosts: [eu.bookinfo.com], gateways: [other-gateway]}]
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{sniHosts: [de.bookinfo.com, fr.bookinfo.com]}]
    route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 20}
)"));
  auto built = gatewayListeners(mesh);
  BOOST_TEST(built.text() ==
             "listener 0.0.0.0_443 0.0.0.0:443 +envoy.filters.listener.tls_inspector\n"
             "    chain sni=[uk.bookinfo.com]\n"
             "      envoy.filters.network.tcp_proxy stat=outbound|9080|v1|reviews.default.svc.cluster.local -> "
             "outbound|9080|v1|reviews.default.svc.cluster.local\n"
             "    chain sni=[de.bookinfo.com,fr.bookinfo.com]\n"
             "      envoy.filters.network.tcp_proxy stat=sni.default -> outbound|9080|v1|reviews.default.svc.cluster.local=80 -> "
             "outbound|9080|v2|reviews.default.svc.cluster.local=20\n");
}

BOOST_AUTO_TEST_CASE(auto_passthrough_routes_each_service_subset_by_its_sni_name) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(gateway("gw", R"(
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.default.svc.cluster.local"]
    tls: {mode: AUTO_PASSTHROUGH}
)"));
  auto built = gatewayListeners(mesh);
  BOOST_REQUIRE(built.listeners.size() == 1u);
  std::vector<std::string> sni;
  for (const auto& chain : built.listeners[0].filter_chains()) sni.push_back(chain.filter_chain_match().server_names(0));
  BOOST_TEST(sni == (std::vector<std::string>{
                        "outbound_.27017_._.mongo.default.svc.cluster.local", "outbound_.9080_._.productpage.default.svc.cluster.local",
                        "outbound_.9080_._.ratings.default.svc.cluster.local", "outbound_.9080_._.reviews.default.svc.cluster.local", "outbound_.9080_.v1_.reviews.default.svc.cluster.local",
                        "outbound_.9080_.v2_.reviews.default.svc.cluster.local"}),
             boost::test_tools::per_element());
  BOOST_TEST(describeListener(built.listeners[0]).find("tcp_proxy stat=outbound|9080|v2|reviews.default.svc.cluster.local -> "
                                                       "outbound|9080|v2|reviews.default.svc.cluster.local") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tcp_servers_forward_by_tcp_routes_with_or_without_tls) {
  Certs certs;
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(certs.fill(gateway("gw", R"(
  - port: {number: 27017, name: mongo, protocol: MONGO}
    hosts: [mongo.example.com]
  - port: {number: 31400, name: tls-tcp, protocol: TLS}
    hosts: [mongo.example.com]
    tls: {mode: SIMPLE, serverCertificate: $CERT, privateKey: $KEY}
)")));
  mesh.add(boundService("mongo", "[mongo.example.com]", "[istio-system/gw]", R"(
  tcp:
  - match: [{port: 1234}]
    route: [{destination: {host: reviews}}]
  - route:
    - {destination: {host: mongo, port: {number: 27017}}, weight: 60}
    - {destination: {host: mongo.default.svc.cluster.local}, weight: 40}
)"));
  auto built = gatewayListeners(mesh);
  BOOST_TEST(certs.fill(built.text()) ==
             certs.fill("listener 0.0.0.0_27017 0.0.0.0:27017\n"
                        "    chain sni=[]\n"
                        "      envoy.filters.network.tcp_proxy stat=mongo.default -> outbound|27017||mongo.default.svc.cluster.local=60 "
                        "-> outbound|27017||mongo.default.svc.cluster.local=40\n"
                        "listener 0.0.0.0_31400 0.0.0.0:31400 +envoy.filters.listener.tls_inspector\n"
                        "    chain sni=[mongo.example.com]\n"
                        "      tls cert=$CERT key=$KEY alpn=h2,http/1.1\n"
                        "      envoy.filters.network.tcp_proxy stat=mongo.default -> outbound|27017||mongo.default.svc.cluster.local=60 "
                        "-> outbound|27017||mongo.default.svc.cluster.local=40\n"));
}

BOOST_AUTO_TEST_CASE(servers_of_several_gateways_merge_and_conflicts_keep_the_first) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(gateway("a", "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [a.com]\n"));
  mesh.add(gateway("b", "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [b.com]\n"));
  mesh.add(gateway("c", "  - port: {number: 80, name: tcp, protocol: TCP}\n    hosts: [c.com]\n"));
  mesh.add(boundService("a", "[a.com]", "[istio-system/a]", kToProductpage));
  mesh.add(boundService("b", "[b.com]", "[istio-system/b]", kToProductpage));
  auto built = gatewayListeners(mesh);
  BOOST_TEST(built.listeners.size() == 1u);
  BOOST_REQUIRE(built.conflicts.size() == 1u);
  BOOST_TEST(built.conflicts[0].detail.find("istio-system/c server tcp (80/TCP)") == 0u);
  auto routes = gatewayRoutes(mesh, "http.80");
  BOOST_REQUIRE(routes.has_value());
  BOOST_TEST(routes->virtual_hosts_size() == 2);
}

BOOST_AUTO_TEST_CASE(two_chains_with_one_sni_match_keep_the_first) {
  Certs certs;
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(certs.fill(gateway("gw", R"(
  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, serverCertificate: $CERT, privateKey: $KEY}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: ["*/*"]
    tls: {mode: SIMPLE, serverCertificate: $CERT, privateKey: $KEY}
)")));
  auto built = gatewayListeners(mesh);
  BOOST_REQUIRE(built.listeners.size() == 1u);
  BOOST_TEST(built.listeners[0].filter_chains_size() == 1);
  BOOST_TEST(built.listeners[0].listener_filters().empty());  // "*" needs no SNI
  BOOST_REQUIRE(built.conflicts.size() == 1u);
  BOOST_TEST(built.conflicts[0].detail.find("https-b") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bind_addresses_and_unselected_gateways) {
  TestMesh mesh;
  mesh.add(kRouteTestMesh);
  mesh.add(gateway("gw", "  - port: {number: 8080, name: http, protocol: HTTP}\n    bind: 127.0.0.1\n    hosts: [\"*\"]\n"));
  mesh.add(R"(
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: ["*"], tls: {mode: AUTO_PASSTHROUGH}}]
)");
  auto built = gatewayListeners(mesh);
  BOOST_REQUIRE(built.listeners.size() == 1u);
  BOOST_TEST(built.listeners[0].name() == "127.0.0.1_8080");
  BOOST_TEST(built.listeners[0].address().socket_address().address() == "127.0.0.1");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::pilot::testing
