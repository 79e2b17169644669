// Istio 1.1's DestinationRule and Gateway rules: one valid and one invalid case per rule, each
// invalid case with its exact field path.
#include <boost/test/unit_test.hpp>

#include "validation_test_util.h"

using monomesh::config::testing::runValidationCases;
using monomesh::config::testing::ValidationCase;

namespace {

const char* kDR = "DestinationRule";
const char* kGW = "Gateway";

std::string policy(const std::string& p) { return "{host: r, trafficPolicy: " + p + "}"; }
std::string server(const std::string& s) { return "{servers: [" + s + "]}"; }
const std::string kHttp = "port: {number: 80, name: http, protocol: HTTP}";
const std::string kHttps = "port: {number: 443, name: https, protocol: HTTPS}";

}  // namespace

BOOST_AUTO_TEST_SUITE(validation_destination_rule)

BOOST_AUTO_TEST_CASE(valid) {
  runValidationCases({
      {"host only", kDR, "{host: r}"},
      {"wildcard host, and \"*\"", kDR, "{host: '*.example.com'}"},
      {"\"*\" host", kDR, "{host: '*'}"},
      {"every policy part", kDR,
       policy("{loadBalancer: {simple: LEAST_CONN}, connectionPool: {tcp: {maxConnections: 100, connectTimeout: 30ms, "
              "tcpKeepalive: {time: 7200s, interval: 75s}}, http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1, "
              "idleTimeout: 1h}}, outlierDetection: {consecutiveErrors: 7, interval: 5m, baseEjectionTime: 15m, "
              "maxEjectionPercent: 100, minHealthPercent: 0}, tls: {mode: ISTIO_MUTUAL}}")},
      {"consistent hash by cookie", kDR, policy("{loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 0s}}}}")},
      {"MUTUAL with client certificate and key", kDR,
       policy("{tls: {mode: MUTUAL, clientCertificate: /etc/certs/c.pem, privateKey: /etc/certs/k.pem}}")},
      {"port level settings", kDR, policy("{portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: RANDOM}}]}")},
      {"subsets with policies", kDR,
       "{host: r, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}, "
       "trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}], exportTo: ['*']}"},
  });
}

BOOST_AUTO_TEST_CASE(invalid) {
  runValidationCases({
      {"host required", kDR, "{subsets: [{name: v1}]}", "spec.host", "cannot be empty"},
      {"host not an IP", kDR, "{host: 10.0.0.1}", "spec.host", "all digits"},
      {"host is a domain", kDR, "{host: 'a b'}", "spec.host", "not a valid host name"},
      {"policy not empty", kDR, policy("{}"), "spec.trafficPolicy", "at least one setting"},
      {"consecutiveErrors >= 0", kDR, policy("{outlierDetection: {consecutiveErrors: -1}}"),
       "spec.trafficPolicy.outlierDetection.consecutiveErrors", "must not be negative"},
      {"outlier interval", kDR, policy("{outlierDetection: {interval: 0.0005s}}"), "spec.trafficPolicy.outlierDetection.interval",
       "less than 1ms"},
      {"outlier baseEjectionTime", kDR, policy("{outlierDetection: {baseEjectionTime: 1.0001s}}"),
       "spec.trafficPolicy.outlierDetection.baseEjectionTime", "whole number of milliseconds"},
      {"maxEjectionPercent", kDR, policy("{outlierDetection: {maxEjectionPercent: 101}}"),
       "spec.trafficPolicy.outlierDetection.maxEjectionPercent", "101 is not in 0..100"},
      {"minHealthPercent", kDR, policy("{outlierDetection: {minHealthPercent: -5}}"),
       "spec.trafficPolicy.outlierDetection.minHealthPercent", "-5"},
      {"pool needs http or tcp", kDR, policy("{connectionPool: {}}"), "spec.trafficPolicy.connectionPool", "needs http or tcp"},
      {"http1MaxPendingRequests", kDR, policy("{connectionPool: {http: {http1MaxPendingRequests: -1}}}"),
       "spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests", "must not be negative"},
      {"http2MaxRequests", kDR, policy("{connectionPool: {http: {http2MaxRequests: -1}}}"),
       "spec.trafficPolicy.connectionPool.http.http2MaxRequests", "must not be negative"},
      {"maxRequestsPerConnection", kDR, policy("{connectionPool: {http: {maxRequestsPerConnection: -1}}}"),
       "spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection", "must not be negative"},
      {"maxRetries", kDR, policy("{connectionPool: {http: {maxRetries: -3}}}"), "spec.trafficPolicy.connectionPool.http.maxRetries",
       "-3"},
      {"idleTimeout", kDR, policy("{connectionPool: {http: {idleTimeout: 0s}}}"),
       "spec.trafficPolicy.connectionPool.http.idleTimeout", "less than 1ms"},
      {"maxConnections", kDR, policy("{connectionPool: {tcp: {maxConnections: -1}}}"),
       "spec.trafficPolicy.connectionPool.tcp.maxConnections", "must not be negative"},
      {"connectTimeout", kDR, policy("{connectionPool: {tcp: {connectTimeout: 0s}}}"),
       "spec.trafficPolicy.connectionPool.tcp.connectTimeout", "less than 1ms"},
      {"tcpKeepalive time", kDR, policy("{connectionPool: {tcp: {tcpKeepalive: {time: 0.0001s}}}}"),
       "spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.time", "less than 1ms"},
      {"cookie name", kDR, policy("{loadBalancer: {consistentHash: {httpCookie: {ttl: 10s}}}}"),
       "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name", "cookie name"},
      {"cookie ttl", kDR, policy("{loadBalancer: {consistentHash: {httpCookie: {name: user}}}}"),
       "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl", "ttl"},
      {"MUTUAL needs clientCertificate", kDR, policy("{tls: {mode: MUTUAL, privateKey: /k.pem}}"),
       "spec.trafficPolicy.tls.clientCertificate", "MUTUAL TLS needs clientCertificate"},
      {"MUTUAL needs privateKey", kDR, policy("{tls: {mode: MUTUAL, clientCertificate: /c.pem}}"),
       "spec.trafficPolicy.tls.privateKey", "MUTUAL TLS needs privateKey"},
      {"port level needs a port", kDR, policy("{portLevelSettings: [{loadBalancer: {simple: RANDOM}}]}"),
       "spec.trafficPolicy.portLevelSettings[0].port", "needs a port"},
      {"port level needs a setting", kDR, policy("{portLevelSettings: [{port: {number: 80}}]}"),
       "spec.trafficPolicy.portLevelSettings[0]", "at least one setting besides the port"},
      {"port level port number", kDR, policy("{portLevelSettings: [{port: {number: 0}, tls: {mode: DISABLE}}]}"),
       "spec.trafficPolicy.portLevelSettings[0].port.number", "0 is not in 1..65535"},
      {"port level parts are checked", kDR,
       policy("{portLevelSettings: [{port: {number: 80}, outlierDetection: {maxEjectionPercent: 200}}]}"),
       "spec.trafficPolicy.portLevelSettings[0].outlierDetection.maxEjectionPercent", "200"},
      {"subset name required", kDR, "{host: r, subsets: [{labels: {a: b}}]}", "spec.subsets[0].name", "needs a name"},
      {"subset name is a label", kDR, "{host: r, subsets: [{name: v1.0}]}", "spec.subsets[0].name", "\"v1.0\" is not a DNS-1123 label"},
      {"subset labels", kDR, "{host: r, subsets: [{name: v1, labels: {'a b': c}}]}", "spec.subsets[0].labels[\"a b\"]",
       "label key \"a b\""},
      {"subset policy not empty", kDR, "{host: r, subsets: [{name: v1, trafficPolicy: {}}]}", "spec.subsets[0].trafficPolicy",
       "at least one setting"},
      {"exportTo", kDR, "{host: r, exportTo: [ns1]}", "spec.exportTo[0]", "\"ns1\""},
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(validation_gateway)

BOOST_AUTO_TEST_CASE(valid) {
  runValidationCases({
      {"HTTP on *", kGW, server("{" + kHttp + ", hosts: ['*']}")},
      {"HTTPS SIMPLE with files", kGW,
       server("{" + kHttps + ", hosts: [a.example.com], tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}}")},
      {"HTTPS with credentialName (SDS)", kGW, server("{" + kHttps + ", hosts: [a.example.com], tls: {mode: MUTUAL, credentialName: a}}")},
      {"MUTUAL with a CA", kGW,
       server("{" + kHttps + ", hosts: ['*'], tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k, caCertificates: /ca}}")},
      {"TLS passthrough and auto passthrough", kGW,
       "{servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: ['*.a.com'], tls: {mode: PASSTHROUGH}}, "
       "{port: {number: 15443, name: tls-auto, protocol: TLS}, hosts: ['*.global'], tls: {mode: AUTO_PASSTHROUGH}}]}"},
      {"HTTP with httpsRedirect", kGW, server("{" + kHttp + ", hosts: ['*'], tls: {httpsRedirect: true}}")},
      {"namespaced hosts (prod/* included, unlike 1.1.0)", kGW,
       server("{" + kHttp + ", hosts: ['prod/*', './a.example.com', '*/*.example.com', 1.2.3.4]}")},
      {"other protocols, no port number, binds", kGW,
       "{servers: [{port: {name: mongo, protocol: MONGO}, hosts: ['*']}, {port: {number: 31400, name: tcp, protocol: tcp}, "
       "hosts: ['*'], bind: 0.0.0.0}, {port: {number: 8080, name: grpc-web, protocol: grpc-web}, hosts: ['*'], "
       "bind: 'unix:///var/run/gw.sock'}]}"},
  });
}

BOOST_AUTO_TEST_CASE(invalid) {
  runValidationCases({
      {"name is a label", kGW, server("{" + kHttp + ", hosts: ['*']}"), "metadata.name", "\"my.gw\" is not a DNS-1123 label",
       "my.gw"},
      {"servers required", kGW, "{selector: {istio: ingressgateway}}", "spec.servers", "at least one server"},
      {"hosts required", kGW, server("{" + kHttp + "}"), "spec.servers[0].hosts", "at least one host"},
      {"no short names", kGW, server("{" + kHttp + ", hosts: [foo]}"), "spec.servers[0].hosts[0]", "short names"},
      {"no short names after ns/", kGW, server("{" + kHttp + ", hosts: [prod/foo]}"), "spec.servers[0].hosts[0]", "short names"},
      {"namespace is a label", kGW, server("{" + kHttp + ", hosts: ['Prod_x/*']}"), "spec.servers[0].hosts[0]",
       "\"Prod_x\" is not a namespace"},
      {"~ is for sidecars only", kGW, server("{" + kHttp + ", hosts: ['~/*']}"), "spec.servers[0].hosts[0]", "not a namespace"},
      {"ns/ parts not empty", kGW, server("{" + kHttp + ", hosts: [/a.com]}"), "spec.servers[0].hosts[0]", "cannot be empty"},
      {"hosts are domains", kGW, server("{" + kHttp + ", hosts: [a_b.com]}"), "spec.servers[0].hosts[0]", "not a valid host name"},
      {"port required", kGW, server("{hosts: ['*']}"), "spec.servers[0].port", "needs a port"},
      {"protocol known", kGW, server("{port: {number: 80, name: h, protocol: HTTP3}, hosts: ['*']}"), "spec.servers[0].port.protocol",
       "unsupported protocol \"HTTP3\""},
      {"port number", kGW, server("{port: {number: 70000, name: h, protocol: HTTP}, hosts: ['*']}"), "spec.servers[0].port.number",
       "70000"},
      {"port name", kGW, server("{port: {number: 80, protocol: HTTP}, hosts: ['*']}"), "spec.servers[0].port.name", "needs a name"},
      {"port names unique", kGW,
       "{servers: [{" + kHttp + ", hosts: ['*']}, {port: {number: 8080, name: http, protocol: HTTP}, hosts: ['*']}]}",
       "spec.servers[1].port.name", "\"http\" is used by another server"},
      {"HTTPS needs tls", kGW, server("{" + kHttps + ", hosts: ['*']}"), "spec.servers[0].tls", "needs tls settings"},
      {"TCP has no tls", kGW, server("{port: {number: 31400, name: tcp, protocol: TCP}, hosts: ['*'], tls: {httpsRedirect: true}}"),
       "spec.servers[0].tls", "cannot have tls"},
      {"HTTP tls is httpsRedirect only", kGW,
       server("{" + kHttp + ", hosts: ['*'], tls: {mode: SIMPLE, serverCertificate: /c, privateKey: /k}}"), "spec.servers[0].tls",
       "only carry httpsRedirect"},
      {"SIMPLE needs serverCertificate", kGW, server("{" + kHttps + ", hosts: ['*'], tls: {mode: SIMPLE, privateKey: /k}}"),
       "spec.servers[0].tls.serverCertificate", "SIMPLE TLS needs serverCertificate"},
      {"SIMPLE needs privateKey", kGW, server("{" + kHttps + ", hosts: ['*'], tls: {mode: SIMPLE, serverCertificate: /c}}"),
       "spec.servers[0].tls.privateKey", "SIMPLE TLS needs privateKey"},
      {"MUTUAL needs caCertificates", kGW,
       server("{" + kHttps + ", hosts: ['*'], tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k}}"),
       "spec.servers[0].tls.caCertificates", "MUTUAL TLS needs caCertificates"},
      {"bind is an IP", kGW, server("{" + kHttp + ", hosts: ['*'], bind: localhost}"), "spec.servers[0].bind",
       "neither an IP address nor unix:///path"},
      {"bind unix path absolute", kGW, server("{" + kHttp + ", hosts: ['*'], bind: 'unix://rel/sock'}"), "spec.servers[0].bind",
       "not an absolute path"},
  });
}

BOOST_AUTO_TEST_SUITE_END()
