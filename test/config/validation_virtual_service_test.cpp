// Istio 1.1's VirtualService rules (validate_virtual_service.cpp, validate_http_route.cpp): one
// valid and one invalid case per rule, each invalid case with its exact field path.
#include <boost/test/unit_test.hpp>

#include "validation_test_util.h"

using monomesh::config::testing::runValidationCases;
using monomesh::config::testing::ValidationCase;

namespace {

const char* kVS = "VirtualService";

// An HTTP route list around one route's YAML: {hosts: [r], http: [ROUTE]}.
std::string http(const std::string& route) { return "{hosts: [r], http: [" + route + "]}"; }
std::string dest(const std::string& extra = "") { return "{destination: {host: r" + extra + "}}"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(validation_virtual_service)

BOOST_AUTO_TEST_CASE(valid) {
  runValidationCases({
      {"one destination", kVS, http("{route: [" + dest() + "]}")},
      {"weights sum to 100", kVS, http("{route: [{destination: {host: a}, weight: 30}, {destination: {host: b}, weight: 70}]}")},
      {"gateways: ns/name, mesh, legacy FQDN", kVS,
       "{hosts: [r], gateways: [istio-system/gw, mesh, gw.istio-system.svc.cluster.local], http: [{route: [" + dest() + "]}]}"},
      {"\"*\" when only bound to gateways", kVS, "{hosts: ['*'], gateways: [gw], http: [{route: [" + dest() + "]}]}"},
      {"IP and wildcard hosts", kVS, "{hosts: [10.0.0.1, '*.example.com'], http: [{route: [" + dest() + "]}]}"},
      {"redirect only", kVS, http("{redirect: {uri: /new, authority: b.com}}")},
      {"destination subset and ports", kVS,
       http("{route: [{destination: {host: r.ns.svc.cluster.local, subset: v1, port: {number: 9080}}, weight: 100}]}")},
      {"port by name", kVS, http("{route: [{destination: {host: r, port: {name: http-web}}}]}")},
      {"retries", kVS, http("{route: [" + dest() + "], retries: {attempts: 3, perTryTimeout: 2s, retryOn: '5xx,connect-failure,503,unavailable'}}")},
      {"fault", kVS, http("{route: [" + dest() + "], fault: {abort: {httpStatus: 503, percentage: {value: 0.1}}, delay: {fixedDelay: 5s, percent: 10}}}")},
      {"CORS", kVS, http("{route: [" + dest() + "], corsPolicy: {allowOrigin: ['*'], allowMethods: [GET, POST], allowHeaders: [x-a], "
                         "exposeHeaders: [x-b], maxAge: 24h, allowCredentials: true}}")},
      {"matches", kVS, http("{match: [{uri: {regex: '/api/v[0-9]+'}, headers: {end-user: {exact: jason}, x-r: {regex: 'a.*'}}, "
                            "port: 80, sourceLabels: {app: web, version: v1.0}, gateways: [mesh]}], route: [" + dest() + "]}")},
      {"header operations", kVS, http("{route: [{destination: {host: r}, headers: {request: {set: {x-a: b}}}}], "
                                      "headers: {response: {add: {x-c: d}, remove: [x-e]}}, appendHeaders: {x-f: g}}")},
      {"timeout and mirror", kVS, http("{route: [" + dest() + "], timeout: 1.5s, mirror: {host: r-mirror}}")},
      {"rewrite", kVS, http("{route: [" + dest() + "], rewrite: {uri: /v2}}")},
      {"TLS route with a covered SNI host", kVS,
       "{hosts: ['*.example.com'], tls: [{match: [{sniHosts: [a.example.com], destinationSubnets: [10.0.0.0/8], port: 443}], "
       "route: [{destination: {host: a.example.com}}]}]}"},
      {"TCP route", kVS, "{hosts: [r], tcp: [{match: [{destinationSubnets: [10.1.0.0/16, 10.2.0.1], sourceSubnet: 10.3.0.0/24, port: 27017}], "
                         "route: [{destination: {host: mongo, port: {number: 5555}}}]}]}"},
      {"exportTo", kVS, "{hosts: [r], exportTo: ['.'], http: [{route: [" + dest() + "]}]}"},
  });
}

BOOST_AUTO_TEST_CASE(hosts_gateways_and_routes) {
  runValidationCases({
      {"a host is required", kVS, "{http: [{route: [" + dest() + "]}]}", "spec.hosts", "at least one host"},
      {"hosts are domain names", kVS, "{hosts: [a_b], http: [{route: [" + dest() + "]}]}", "spec.hosts[0]", "label \"a_b\""},
      {"wildcards only in the first label", kVS, "{hosts: ['a.*.com'], http: [{route: [" + dest() + "]}]}", "spec.hosts[0]",
       "only allowed as the first label"},
      {"the TLD is not all digits", kVS, "{hosts: [a.123], http: [{route: [" + dest() + "]}]}", "spec.hosts[0]", "all digits"},
      {"\"*\" cannot apply to the mesh", kVS, "{hosts: ['*'], http: [{route: [" + dest() + "]}]}", "spec.hosts[0]",
       "applies to the mesh"},
      {"\"*\" cannot apply to the mesh, listed", kVS, "{hosts: ['*'], gateways: [gw, mesh], http: [{route: [" + dest() + "]}]}",
       "spec.hosts[0]", "applies to the mesh"},
      {"overlapping hosts", kVS, "{hosts: [a.foo.com, '*.foo.com'], http: [{route: [" + dest() + "]}]}", "spec.hosts[1]",
       "\"a.foo.com\" and \"*.foo.com\" overlap"},
      {"duplicate hosts", kVS, "{hosts: [r, r], http: [{route: [" + dest() + "]}]}", "spec.hosts[1]", "overlap"},
      {"some routes are required", kVS, "{hosts: [r]}", "spec", "needs http, tcp or tls routes"},
      {"gateway namespace is a label", kVS, "{hosts: [r], gateways: [Bad_ns/gw], http: [{route: [" + dest() + "]}]}",
       "spec.gateways[0]", "namespace \"Bad_ns\""},
      {"gateway name is a label", kVS, "{hosts: [r], gateways: [ns/g.w], http: [{route: [" + dest() + "]}]}", "spec.gateways[0]",
       "name \"g.w\""},
      {"gateway parts are not empty", kVS, "{hosts: [r], gateways: [/gw], http: [{route: [" + dest() + "]}]}", "spec.gateways[0]",
       "cannot be empty"},
      {"legacy gateway names are FQDNs", kVS, "{hosts: [r], gateways: [gw_1], http: [{route: [" + dest() + "]}]}",
       "spec.gateways[0]", "gateway \"gw_1\""},
      {"exportTo has one entry", kVS, "{hosts: [r], exportTo: ['.', '*'], http: [{route: [" + dest() + "]}]}", "spec.exportTo",
       "only one entry"},
      {"exportTo is . or *", kVS, "{hosts: [r], exportTo: [ns1], http: [{route: [" + dest() + "]}]}", "spec.exportTo[0]",
       "\"ns1\""},
  });
}

BOOST_AUTO_TEST_CASE(http_route_shape) {
  runValidationCases({
      {"route or redirect", kVS, http("{timeout: 1s}"), "spec.http[0].route", "needs route or redirect"},
      {"redirect excludes route", kVS, http("{redirect: {uri: /x}, route: [" + dest() + "]}"), "spec.http[0].redirect",
       "both redirect and route"},
      {"redirect excludes fault", kVS, http("{redirect: {uri: /x}, fault: {abort: {httpStatus: 500}}}"), "spec.http[0].redirect",
       "both redirect and fault"},
      {"redirect excludes rewrite", kVS, http("{redirect: {uri: /x}, rewrite: {uri: /y}}"), "spec.http[0].redirect",
       "both redirect and rewrite"},
      {"redirect excludes websocketUpgrade", kVS, http("{redirect: {uri: /x}, websocketUpgrade: true}"), "spec.http[0].redirect",
       "websocketUpgrade"},
      {"redirect needs uri or authority", kVS, http("{redirect: {}}"), "spec.http[0].redirect", "needs uri, authority or both"},
      {"rewrite needs uri or authority", kVS, http("{route: [" + dest() + "], rewrite: {}}"), "spec.http[0].rewrite",
       "needs uri, authority or both"},
      {"timeout at least 1ms", kVS, http("{route: [" + dest() + "], timeout: 0.0005s}"), "spec.http[0].timeout", "less than 1ms"},
      {"timeout in whole ms", kVS, http("{route: [" + dest() + "], timeout: 0.0015s}"), "spec.http[0].timeout",
       "whole number of milliseconds"},
      {"mirror is a destination", kVS, http("{route: [" + dest() + "], mirror: {host: 'a..b'}}"), "spec.http[0].mirror.host",
       "not a valid host name"},
  });
}

BOOST_AUTO_TEST_CASE(destinations_and_weights) {
  runValidationCases({
      {"weights sum to 100", kVS, http("{route: [{destination: {host: a}, weight: 40}, {destination: {host: b}, weight: 50}]}"),
       "spec.http[0].route", "weights sum to 90, must be 100"},
      {"weights sum to 100 (no weights)", kVS, http("{route: [{destination: {host: a}}, {destination: {host: b}}]}"),
       "spec.http[0].route", "weights sum to 0"},
      {"weight at most 100", kVS, http("{route: [{destination: {host: a}, weight: 150}]}"), "spec.http[0].route[0].weight",
       "150 is not in 0..100"},
      {"weight not negative", kVS, http("{route: [{destination: {host: a}, weight: -1}]}"), "spec.http[0].route[0].weight",
       "-1 is not in 0..100"},
      {"destination required", kVS, http("{route: [{weight: 100}]}"), "spec.http[0].route[0].destination", "required"},
      {"host not *", kVS, http("{route: [{destination: {host: '*'}}]}"), "spec.http[0].route[0].destination.host",
       "cannot be \"*\""},
      {"host required", kVS, http("{route: [{destination: {subset: v1}}]}"), "spec.http[0].route[0].destination.host",
       "cannot be empty"},
      {"subset is a label", kVS, http("{route: [{destination: {host: a, subset: v_1}}]}"),
       "spec.http[0].route[0].destination.subset", "\"v_1\" is not a DNS-1123 label"},
      {"port number 1..65535", kVS, http("{route: [{destination: {host: a, port: {number: 0}}}]}"),
       "spec.http[0].route[0].destination.port.number", "0 is not in 1..65535"},
      {"port name is a label", kVS, http("{route: [{destination: {host: a, port: {name: http_x}}}]}"),
       "spec.http[0].route[0].destination.port.name", "\"http_x\""},
      {"port needs number or name", kVS, http("{route: [{destination: {host: a, port: {}}}]}"),
       "spec.http[0].route[0].destination.port", "needs a number or a name"},
      {"route destination headers", kVS, http("{route: [{destination: {host: a}, headers: {request: {add: {'': b}}}}]}"),
       "spec.http[0].route[0].headers.request.add[\"\"]", "header name cannot be empty"},
  });
}

BOOST_AUTO_TEST_CASE(retries_fault_cors) {
  const std::string r = "{route: [" + dest() + "], ";
  runValidationCases({
      {"attempts > 0", kVS, http(r + "retries: {attempts: 0}}"), "spec.http[0].retries.attempts", "greater than 0"},
      {"perTryTimeout >= 1ms", kVS, http(r + "retries: {attempts: 1, perTryTimeout: 0s}}"), "spec.http[0].retries.perTryTimeout",
       "less than 1ms"},
      {"retryOn policies", kVS, http(r + "retries: {attempts: 1, retryOn: '5xx,oops'}}"), "spec.http[0].retries.retryOn",
       "\"oops\" is not a retry policy"},
      {"retryOn status codes must be known", kVS, http(r + "retries: {attempts: 1, retryOn: '299'}}"),
       "spec.http[0].retries.retryOn", "\"299\""},
      {"fault needs abort or delay", kVS, http(r + "fault: {}}"), "spec.http[0].fault", "abort, a delay or both"},
      {"abort status 0..600", kVS, http(r + "fault: {abort: {httpStatus: 700}}}"), "spec.http[0].fault.abort.httpStatus",
       "700 is not in 0..600"},
      {"abort gRPC unsupported", kVS, http(r + "fault: {abort: {grpcStatus: UNAVAILABLE}}}"),
       "spec.http[0].fault.abort.grpcStatus", "not supported"},
      {"abort HTTP/2 unsupported", kVS, http(r + "fault: {abort: {http2Error: CANCEL}}}"), "spec.http[0].fault.abort.http2Error",
       "not supported"},
      {"abort percentage tiny", kVS, http(r + "fault: {abort: {httpStatus: 500, percentage: {value: 0.00001}}}}"),
       "spec.http[0].fault.abort.percentage.value", "neither 0 nor in 0.0001..100"},
      {"abort percentage > 100", kVS, http(r + "fault: {abort: {httpStatus: 500, percentage: {value: 101}}}}"),
       "spec.http[0].fault.abort.percentage.value", "101"},
      {"abort percent 0..100", kVS, http(r + "fault: {abort: {httpStatus: 500, percent: 101}}}"), "spec.http[0].fault.abort.percent",
       "not in 0..100"},
      {"delay fixedDelay >= 1ms", kVS, http(r + "fault: {delay: {fixedDelay: 0.0001s}}}"), "spec.http[0].fault.delay.fixedDelay",
       "less than 1ms"},
      {"delay exponential unsupported", kVS, http(r + "fault: {delay: {exponentialDelay: 1s}}}"),
       "spec.http[0].fault.delay.exponentialDelay", "not supported"},
      {"delay percentage", kVS, http(r + "fault: {delay: {fixedDelay: 1s, percentage: {value: -1}}}}"),
       "spec.http[0].fault.delay.percentage.value", "-1"},
      {"CORS methods upper case", kVS, http(r + "corsPolicy: {allowMethods: [get]}}"), "spec.http[0].corsPolicy.allowMethods[0]",
       "\"get\" is not an HTTP method"},
      {"CORS methods known", kVS, http(r + "corsPolicy: {allowMethods: [GET, FETCH]}}"), "spec.http[0].corsPolicy.allowMethods[1]",
       "\"FETCH\""},
      {"CORS allowHeaders not empty", kVS, http(r + "corsPolicy: {allowHeaders: ['']}}"),
       "spec.http[0].corsPolicy.allowHeaders[0]", "header name cannot be empty"},
      {"CORS exposeHeaders not empty", kVS, http(r + "corsPolicy: {exposeHeaders: [a, '']}}"),
       "spec.http[0].corsPolicy.exposeHeaders[1]", "header name cannot be empty"},
      {"CORS maxAge whole seconds", kVS, http(r + "corsPolicy: {maxAge: 1.5s}}"), "spec.http[0].corsPolicy.maxAge",
       "whole number of seconds"},
  });
}

BOOST_AUTO_TEST_CASE(matches_and_headers) {
  const std::string route = "route: [" + dest() + "]";
  runValidationCases({
      {"match header names", kVS, http("{match: [{headers: {'': {exact: a}}}], " + route + "}"),
       "spec.http[0].match[0].headers[\"\"]", "header name cannot be empty"},
      {"uri regex compiles", kVS, http("{match: [{uri: {regex: '/a('}}], " + route + "}"), "spec.http[0].match[0].uri.regex",
       "invalid regular expression"},
      {"header regex compiles", kVS, http("{match: [{headers: {x-a: {regex: '[z-a]'}}}], " + route + "}"),
       "spec.http[0].match[0].headers[\"x-a\"].regex", "invalid regular expression"},
      {"match port", kVS, http("{match: [{port: 70000}], " + route + "}"), "spec.http[0].match[0].port",
       "70000"},
      {"match sourceLabels", kVS, http("{match: [{sourceLabels: {app: 'a b'}}], " + route + "}"),
       "spec.http[0].match[0].sourceLabels[\"app\"]", "label value \"a b\""},
      {"match gateways", kVS, http("{match: [{gateways: [ns/Bad_gw]}], " + route + "}"), "spec.http[0].match[0].gateways[0]",
       "\"Bad_gw\""},
      {"set header names", kVS, http("{" + route + ", headers: {request: {set: {'': a}}}}"),
       "spec.http[0].headers.request.set[\"\"]", "header name cannot be empty"},
      {"remove header names", kVS, http("{" + route + ", headers: {response: {remove: [a, '']}}}"),
       "spec.http[0].headers.response.remove[1]", "header name cannot be empty"},
      {"deprecated appendHeaders", kVS, http("{" + route + ", appendHeaders: {'': a}}"), "spec.http[0].appendHeaders[\"\"]",
       "header name cannot be empty"},
      {"deprecated removeRequestHeaders", kVS, http("{" + route + ", removeRequestHeaders: ['']}"),
       "spec.http[0].removeRequestHeaders[0]", "header name cannot be empty"},
  });
}

BOOST_AUTO_TEST_CASE(tls_and_tcp_routes) {
  const std::string to = "route: [{destination: {host: a.example.com}}]";
  runValidationCases({
      {"TLS route needs a match", kVS, "{hosts: [a.example.com], tls: [{" + to + "}]}", "spec.tls[0].match", "at least one match"},
      {"TLS match needs SNI hosts", kVS, "{hosts: [a.example.com], tls: [{match: [{port: 443}], " + to + "}]}",
       "spec.tls[0].match[0].sniHosts", "at least one SNI host"},
      {"SNI hosts are covered by the hosts", kVS,
       "{hosts: ['*.example.com'], tls: [{match: [{sniHosts: [b.other.com]}], " + to + "}]}", "spec.tls[0].match[0].sniHosts[0]",
       "not covered by any of the virtual service's hosts (*.example.com)"},
      {"a wildcard SNI host is not covered by a plain host", kVS,
       "{hosts: [a.example.com], tls: [{match: [{sniHosts: ['*.example.com']}], " + to + "}]}",
       "spec.tls[0].match[0].sniHosts[0]", "not covered"},
      {"SNI hosts are domain names", kVS, "{hosts: ['*'], gateways: [gw], tls: [{match: [{sniHosts: [a_b.com]}], " + to + "}]}",
       "spec.tls[0].match[0].sniHosts[0]", "not a valid host name"},
      {"TLS destination subnets", kVS,
       "{hosts: [a.example.com], tls: [{match: [{sniHosts: [a.example.com], destinationSubnets: [1.2.3.4/40]}], " + to + "}]}",
       "spec.tls[0].match[0].destinationSubnets[0]", "not a valid CIDR block"},
      {"TLS route needs destinations", kVS, "{hosts: [a.example.com], tls: [{match: [{sniHosts: [a.example.com]}]}]}",
       "spec.tls[0].route", "at least one destination"},
      {"TCP subnets are IPv4", kVS, "{hosts: [r], tcp: [{match: [{destinationSubnets: ['::1/128']}], " + to + "}]}",
       "spec.tcp[0].match[0].destinationSubnets[0]", "IPv6"},
      {"TCP source subnet", kVS, "{hosts: [r], tcp: [{match: [{sourceSubnet: 10.0.0.300}], " + to + "}]}",
       "spec.tcp[0].match[0].sourceSubnet", "not a valid IPv4 address"},
      {"TCP port", kVS, "{hosts: [r], tcp: [{match: [{port: 65536}], " + to + "}]}", "spec.tcp[0].match[0].port", "65536"},
      {"TCP route needs destinations", kVS, "{hosts: [r], tcp: [{match: [{port: 80}]}]}", "spec.tcp[0].route",
       "at least one destination"},
      {"TCP weights sum to 100", kVS, "{hosts: [r], tcp: [{route: [{destination: {host: a}, weight: 60}, {destination: {host: b}, weight: 60}]}]}",
       "spec.tcp[0].route", "weights sum to 120, must be 100"},
  });
}

BOOST_AUTO_TEST_SUITE_END()
