// Istio 1.1's ServiceEntry and Sidecar rules: one valid and one invalid case per rule, each
// invalid case with its exact field path.
#include <boost/test/unit_test.hpp>

#include "validation_test_util.h"

using monomesh::config::testing::runValidationCases;
using monomesh::config::testing::ValidationCase;

namespace {

const char* kSE = "ServiceEntry";
const char* kSC = "Sidecar";

const std::string kPort = "ports: [{number: 80, name: http, protocol: HTTP}]";
std::string entry(const std::string& rest) { return "{hosts: [a.example.com], " + kPort + ", " + rest + "}"; }
std::string egress(const std::string& listener) { return "{egress: [" + listener + "]}"; }
std::string ingress(const std::string& listener) { return "{ingress: [" + listener + "], egress: [{hosts: ['*/*']}]}"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(validation_service_entry)

BOOST_AUTO_TEST_CASE(valid) {
  runValidationCases({
      {"DNS without endpoints", kSE, entry("resolution: DNS, location: MESH_EXTERNAL")},
      {"STATIC endpoints with declared ports", kSE,
       entry("resolution: STATIC, endpoints: [{address: 10.0.0.1, ports: {http: 8080}, labels: {app: a}}, {address: 10.0.0.2}]")},
      {"NONE with CIDR addresses and a wildcard host", kSE,
       "{hosts: ['*.example.com'], addresses: [10.0.0.0/8, 192.168.1.1], " + kPort + ", resolution: NONE}"},
      {"unix socket endpoint", kSE, entry("resolution: STATIC, endpoints: [{address: 'unix:///var/run/a.sock'}]")},
      {"several hosts on HTTP and TLS ports", kSE,
       "{hosts: [a.com, b.com], ports: [{number: 80, name: http, protocol: HTTP}, {number: 443, name: tls, protocol: TLS}], "
       "resolution: DNS}"},
      {"DNS endpoints by name and IP", kSE,
       entry("resolution: DNS, endpoints: [{address: us.a.example.com, ports: {http: 8080}}, {address: 10.1.1.1}], exportTo: ['.']")},
      {"STATIC CIDR addresses", kSE, entry("addresses: [10.1.0.0/16], resolution: STATIC, endpoints: [{address: 10.1.0.1}]")},
  });
}

BOOST_AUTO_TEST_CASE(invalid) {
  runValidationCases({
      {"hosts required", kSE, "{" + kPort + "}", "spec.hosts", "at least one host"},
      {"host not *", kSE, "{hosts: ['*'], " + kPort + "}", "spec.hosts[0]", "\"*\" is not allowed"},
      {"hosts are domains", kSE, "{hosts: ['a..com'], " + kPort + "}", "spec.hosts[0]", "not a valid host name"},
      {"addresses are IPv4", kSE, entry("addresses: [1.2.3]"), "spec.addresses[0]", "not a valid IPv4 address"},
      {"no IPv6 addresses", kSE, entry("addresses: ['2001:db8::1']"), "spec.addresses[0]", "IPv6"},
      {"CIDR only with NONE or STATIC", kSE, entry("addresses: [10.0.0.0/8], resolution: DNS"), "spec.addresses",
       "only with resolution NONE or STATIC"},
      {"port names are labels", kSE, "{hosts: [a.com], ports: [{number: 80, name: Http_1, protocol: HTTP}]}", "spec.ports[0].name",
       "\"Http_1\""},
      {"port names required", kSE, "{hosts: [a.com], ports: [{number: 80, protocol: HTTP}]}", "spec.ports[0].name", "cannot be empty"},
      {"protocols known", kSE, "{hosts: [a.com], ports: [{number: 80, name: http, protocol: SPDY}]}", "spec.ports[0].protocol",
       "unsupported protocol \"SPDY\""},
      {"port numbers 1..65535", kSE, "{hosts: [a.com], ports: [{number: 0, name: http, protocol: HTTP}]}", "spec.ports[0].number",
       "0 is not in 1..65535"},
      {"port names unique", kSE,
       "{hosts: [a.com], ports: [{number: 80, name: http, protocol: HTTP}, {number: 81, name: http, protocol: HTTP}]}",
       "spec.ports[1].name", "defined twice"},
      {"port numbers unique", kSE,
       "{hosts: [a.com], ports: [{number: 80, name: a, protocol: HTTP}, {number: 80, name: b, protocol: HTTP}]}",
       "spec.ports[1].number", "80 is defined twice"},
      {"NONE takes no endpoints", kSE, entry("resolution: NONE, endpoints: [{address: 10.0.0.1}]"), "spec.endpoints",
       "resolution NONE takes no endpoints"},
      {"STATIC needs endpoints", kSE, entry("resolution: STATIC"), "spec.endpoints", "at least one endpoint"},
      {"STATIC endpoints are IPs", kSE, entry("resolution: STATIC, endpoints: [{address: a.example.com}]"),
       "spec.endpoints[0].address", "not a valid IPv4 address"},
      {"endpoint ports are declared", kSE, entry("resolution: STATIC, endpoints: [{address: 10.0.0.1, ports: {https: 8443}}]"),
       "spec.endpoints[0].ports[\"https\"]", "not one of the service entry's ports"},
      {"endpoint port numbers", kSE, entry("resolution: STATIC, endpoints: [{address: 10.0.0.1, ports: {http: 0}}]"),
       "spec.endpoints[0].ports[\"http\"]", "0 is not in 1..65535"},
      {"unix endpoints have no ports", kSE,
       entry("resolution: STATIC, endpoints: [{address: 'unix:///a.sock', ports: {http: 80}}]"), "spec.endpoints[0].ports",
       "cannot have ports"},
      {"unix endpoints need exactly one port", kSE,
       "{hosts: [a.com], ports: [{number: 80, name: a, protocol: HTTP}, {number: 81, name: b, protocol: HTTP}], "
       "resolution: STATIC, endpoints: [{address: 'unix:///a.sock'}]}",
       "spec.ports", "exactly one port"},
      {"unix paths absolute", kSE, entry("resolution: STATIC, endpoints: [{address: 'unix://a.sock'}]"),
       "spec.endpoints[0].address", "not an absolute path"},
      {"endpoint labels", kSE, entry("resolution: STATIC, endpoints: [{address: 10.0.0.1, labels: {a: 'b c'}}]"),
       "spec.endpoints[0].labels[\"a\"]", "label value"},
      {"DNS without endpoints needs FQDN hosts", kSE, "{hosts: ['*.a.com'], " + kPort + ", resolution: DNS}", "spec.hosts[0]",
       "must be a fully qualified name"},
      {"DNS endpoints are names or IPs", kSE, entry("resolution: DNS, endpoints: [{address: a_b}]"), "spec.endpoints[0].address",
       "not a valid host name"},
      {"DNS endpoint ports declared", kSE, entry("resolution: DNS, endpoints: [{address: a.b.com, ports: {https: 443}}]"),
       "spec.endpoints[0].ports[\"https\"]", "not one of the service entry's ports"},
      {"several hosts need HTTP or TLS ports", kSE,
       "{hosts: [a.com, b.com], ports: [{number: 27017, name: mongo, protocol: MONGO}], resolution: DNS}", "spec.hosts",
       "several hosts"},
      {"exportTo", kSE, entry("exportTo: ['*', '.']"), "spec.exportTo", "only one entry"},
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(validation_sidecar)

BOOST_AUTO_TEST_CASE(valid) {
  runValidationCases({
      {"egress only", kSC, egress("{hosts: ['*/*']}")},
      {"namespace forms", kSC, egress("{hosts: ['./*', '~/*', 'istio-system/*', 'prod/a.example.com', '*/*.example.com']}")},
      {"ports, then the catch-all last", kSC,
       "{egress: [{port: {number: 9080, protocol: HTTP, name: egresshttp}, bind: 127.0.0.1, hosts: ['prod/*']}, "
       "{hosts: ['istio-system/*']}]}"},
      {"ingress endpoints", kSC,
       "{workloadSelector: {labels: {app: a}}, ingress: [{port: {number: 9080, protocol: HTTP, name: http}, "
       "defaultEndpoint: '127.0.0.1:8080'}, {port: {number: 9081, protocol: HTTP}, defaultEndpoint: ':8081'}, "
       "{port: {number: 9082, protocol: HTTP}, defaultEndpoint: 'unix:///var/run/a.sock'}], egress: [{hosts: ['*/*']}]}"},
      {"unix socket listeners", kSC,
       "{ingress: [{port: {number: 0, protocol: HTTP}, bind: 'unix:///var/run/in.sock', captureMode: NONE, "
       "defaultEndpoint: '127.0.0.1:80'}], egress: [{port: {number: 0, protocol: HTTP}, bind: 'unix:///var/run/out.sock', "
       "hosts: ['*/*']}]}"},
  });
}

BOOST_AUTO_TEST_CASE(invalid) {
  runValidationCases({
      {"egress required", kSC, "{ingress: []}", "spec.egress", "at least one egress listener"},
      {"workloadSelector needs labels", kSC, "{workloadSelector: {}, egress: [{hosts: ['*/*']}]}", "spec.workloadSelector.labels",
       "needs labels"},
      {"ingress needs a port", kSC, ingress("{defaultEndpoint: '127.0.0.1:80'}"), "spec.ingress[0].port", "needs a port"},
      {"ingress needs defaultEndpoint", kSC, ingress("{port: {number: 80, protocol: HTTP}}"), "spec.ingress[0].defaultEndpoint",
       "needs a defaultEndpoint"},
      {"defaultEndpoint on loopback", kSC, ingress("{port: {number: 80, protocol: HTTP}, defaultEndpoint: '10.0.0.1:80'}"),
       "spec.ingress[0].defaultEndpoint", "must be 127.0.0.1:PORT"},
      {"defaultEndpoint port number", kSC, ingress("{port: {number: 80, protocol: HTTP}, defaultEndpoint: '127.0.0.1:http'}"),
       "spec.ingress[0].defaultEndpoint", "\"http\" is not a number"},
      {"defaultEndpoint port range", kSC, ingress("{port: {number: 80, protocol: HTTP}, defaultEndpoint: ':0'}"),
       "spec.ingress[0].defaultEndpoint", "0 is not in 1..65535"},
      {"defaultEndpoint unix path", kSC, ingress("{port: {number: 80, protocol: HTTP}, defaultEndpoint: 'unix://a.sock'}"),
       "spec.ingress[0].defaultEndpoint", "not an absolute path"},
      {"ingress ports unique", kSC,
       "{ingress: [{port: {number: 80, protocol: HTTP}, defaultEndpoint: ':80'}, {port: {number: 80, protocol: TCP}, "
       "defaultEndpoint: ':81'}], egress: [{hosts: ['*/*']}]}",
       "spec.ingress[1].port.number", "80 is used by another listener"},
      {"port 0 needs a unix bind", kSC, ingress("{port: {number: 0, protocol: HTTP}, defaultEndpoint: ':80'}"),
       "spec.ingress[0].bind", "port 0 needs a unix:///path bind"},
      {"port 0 capture mode", kSC,
       ingress("{port: {number: 0, protocol: HTTP}, bind: 'unix:///a.sock', captureMode: IPTABLES, defaultEndpoint: ':80'}"),
       "spec.ingress[0].captureMode", "DEFAULT or NONE"},
      {"unix sockets unique", kSC,
       "{egress: [{port: {number: 0, protocol: HTTP}, bind: 'unix:///a.sock', hosts: ['*/*']}, "
       "{port: {number: 0, protocol: TCP}, bind: 'unix:///a.sock', hosts: ['*/*']}]}",
       "spec.egress[1].bind", "is used by another listener"},
      {"port names are labels", kSC, egress("{port: {number: 80, protocol: HTTP, name: a_b}, hosts: ['*/*']}"),
       "spec.egress[0].port.name", "\"a_b\""},
      {"protocols known", kSC, egress("{port: {number: 80, protocol: QUIC}, hosts: ['*/*']}"), "spec.egress[0].port.protocol",
       "\"QUIC\""},
      {"port numbers", kSC, egress("{port: {number: 70000, protocol: HTTP}, hosts: ['*/*']}"), "spec.egress[0].port.number",
       "70000"},
      {"bind is IPv4", kSC, egress("{port: {number: 80, protocol: HTTP}, bind: '::1', hosts: ['*/*']}"), "spec.egress[0].bind",
       "IPv6"},
      {"catch-all last", kSC, "{egress: [{hosts: ['*/*']}, {port: {number: 80, protocol: HTTP}, hosts: ['*/*']}]}", "spec.egress[0]",
       "must be the last one"},
      {"only one catch-all", kSC, "{egress: [{hosts: ['*/*']}, {hosts: ['./*']}]}", "spec.egress[0]", "must be the last one"},
      {"egress needs hosts", kSC, egress("{port: {number: 80, protocol: HTTP}}"), "spec.egress[0].hosts", "at least one host"},
      {"hosts are ns/dnsName", kSC, egress("{hosts: [a.example.com]}"), "spec.egress[0].hosts[0]", "namespace/dnsName"},
      {"no short names", kSC, egress("{hosts: [ns/foo]}"), "spec.egress[0].hosts[0]", "short names"},
      {"no IPs", kSC, egress("{hosts: [ns/10.0.0.1]}"), "spec.egress[0].hosts[0]", "all digits"},
      {"namespace is a label", kSC, egress("{hosts: ['Ns_1/*']}"), "spec.egress[0].hosts[0]", "\"Ns_1\" is not a namespace"},
  });
}

BOOST_AUTO_TEST_SUITE_END()
