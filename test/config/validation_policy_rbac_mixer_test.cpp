// Istio 1.1's rules for EnvoyFilter, authentication Policy/MeshPolicy, RBAC and the Mixer kinds:
// one valid and one invalid case per rule, each invalid case with its exact field path; the
// notes that deprecated and not-yet-applied kinds carry.
#include <boost/test/unit_test.hpp>

#include "validation_test_util.h"

using monomesh::config::testing::contains;
using monomesh::config::testing::loadValidated;
using monomesh::config::testing::runValidationCases;
using monomesh::config::testing::validationDocument;
using monomesh::config::testing::ValidationCase;

namespace {

const char* kEF = "EnvoyFilter";
const char* kP = "Policy";
const char* kMP = "MeshPolicy";
const std::string kFilter = "filterName: envoy.lua, filterType: HTTP, filterConfig: {inlineCode: x}";
std::string jwt(const std::string& fields) { return "{origins: [{jwt: {" + fields + "}}]}"; }
const std::string kRef = "roleRef: {kind: ServiceRole, name: viewer}";

}  // namespace

BOOST_AUTO_TEST_SUITE(validation_envoy_filter_authn_rbac)

BOOST_AUTO_TEST_CASE(envoy_filter) {
  runValidationCases({
      {"a filter", kEF, "{workloadLabels: {app: a}, filters: [{listenerMatch: {portNumber: 80}, " + kFilter + "}]}"},
      {"inserted before another", kEF, "{filters: [{insertPosition: {index: BEFORE, relativeTo: envoy.router}, " + kFilter + "}]}"},
      {"filters required", kEF, "{workloadLabels: {app: a}}", "spec.filters", "at least one filter"},
      {"BEFORE needs relativeTo", kEF, "{filters: [{insertPosition: {index: BEFORE}, " + kFilter + "}]}",
       "spec.filters[0].insertPosition.relativeTo", "need relativeTo"},
      {"AFTER needs relativeTo", kEF, "{filters: [{insertPosition: {index: AFTER}, " + kFilter + "}]}",
       "spec.filters[0].insertPosition.relativeTo", "need relativeTo"},
      {"filterType required", kEF, "{filters: [{filterName: a, filterConfig: {}}]}", "spec.filters[0].filterType", "filterType is required"},
      {"filterName required", kEF, "{filters: [{filterType: NETWORK, filterConfig: {}}]}", "spec.filters[0].filterName",
       "filterName is required"},
      {"filterConfig required", kEF, "{filters: [{filterType: NETWORK, filterName: a}]}", "spec.filters[0].filterConfig",
       "filterConfig is required"},
  });
}

BOOST_AUTO_TEST_CASE(authentication_policy) {
  runValidationCases({
      {"namespace default", kP, "{peers: [{mtls: {}}]}", "", "", "default"},
      {"targets with ports", kP, "{targets: [{name: reviews, ports: [{number: 9080}, {name: http}]}], peers: [{mtls: {mode: PERMISSIVE}}]}",
       "", "", "reviews-mtls"},
      {"mesh policy", kMP, "{peers: [{mtls: {}}]}", "", "", "default"},
      {"JWT origins", kP,
       "{origins: [{jwt: {issuer: a@b.com, audiences: [x], jwksUri: 'https://b.com:8443/jwks?x=1', jwtHeaders: [x-jwt], "
       "jwtParams: [token], triggerRules: [{excludedPaths: [{exact: /health}], includedPaths: [{regex: '/api/.*'}]}]}}], "
       "principalBinding: USE_ORIGIN}",
       "", "", "default"},
      {"a policy without targets is named default", kP, "{peers: [{mtls: {}}]}", "metadata.name", "must be named \"default\"",
       "everything"},
      {"the default policy has no targets", kP, "{targets: [{name: a}]}", "spec.targets", "cannot have targets", "default"},
      {"targets are short names", kP, "{targets: [{name: a.b}]}", "spec.targets[0].name", "\"a.b\"", "t"},
      {"target port names", kP, "{targets: [{name: a, ports: [{name: Http_1}]}]}", "spec.targets[0].ports[0].name", "\"Http_1\"",
       "t"},
      {"target port numbers", kP, "{targets: [{name: a, ports: [{number: 0}]}]}", "spec.targets[0].ports[0].number",
       "0 is not in 1..65535", "t"},
      {"a mesh policy is named default", kMP, "{peers: [{mtls: {}}]}", "metadata.name", "MeshPolicy must be named \"default\"",
       "mesh"},
      {"a mesh policy has no targets", kMP, "{targets: [{name: a}]}", "spec.targets", "cannot have targets", "default"},
      {"issuer required", kP, jwt("jwksUri: 'https://a.com/k'"), "spec.origins[0].jwt.issuer", "needs an issuer", "default"},
      {"issuers unique", kP, "{peers: [{jwt: {issuer: a}}], origins: [{jwt: {issuer: a}}]}", "spec.origins[0].jwt.issuer",
       "\"a\" is defined more than once", "default"},
      {"audiences not empty", kP, jwt("issuer: a, audiences: ['']"), "spec.origins[0].jwt.audiences[0]", "cannot be empty",
       "default"},
      {"jwksUri http or https", kP, jwt("issuer: a, jwksUri: 'ftp://a.com/k'"), "spec.origins[0].jwt.jwksUri", "http or https",
       "default"},
      {"jwksUri port", kP, jwt("issuer: a, jwksUri: 'https://a.com:x/k'"), "spec.origins[0].jwt.jwksUri", "\"x\" is not a number",
       "default"},
      {"jwksUri host", kP, jwt("issuer: a, jwksUri: 'https:///k'"), "spec.origins[0].jwt.jwksUri", "has no host", "default"},
      {"jwtHeaders not empty", kP, jwt("issuer: a, jwtHeaders: ['']"), "spec.origins[0].jwt.jwtHeaders[0]", "cannot be empty",
       "default"},
      {"jwtParams not empty", kP, jwt("issuer: a, jwtParams: [a, '']"), "spec.origins[0].jwt.jwtParams[1]", "cannot be empty",
       "default"},
      {"origins carry a jwt", kP, "{origins: [{}]}", "spec.origins[0].jwt", "needs a jwt", "default"},
      {"trigger rule regex", kP, jwt("issuer: a, triggerRules: [{includedPaths: [{regex: '('}]}]"),
       "spec.origins[0].jwt.triggerRules[0].includedPaths[0].regex", "invalid regular expression", "default"},
  });
}

BOOST_AUTO_TEST_CASE(rbac) {
  runValidationCases({
      {"a role", "ServiceRole", "{rules: [{services: ['*'], methods: [GET], constraints: [{key: 'destination.labels[version]', values: [v1]}]}]}"},
      {"a binding by user", "ServiceRoleBinding", "{subjects: [{user: '*'}], " + kRef + "}"},
      {"a binding by properties", "ServiceRoleBinding", "{subjects: [{properties: {source.namespace: abc}}], " + kRef + "}"},
      {"cluster config with inclusion", "ClusterRbacConfig", "{mode: ON_WITH_INCLUSION, inclusion: {namespaces: [default]}}", "", "",
       "default"},
      {"empty exclusion is allowed", "ClusterRbacConfig", "{mode: ON_WITH_EXCLUSION, exclusion: {}}", "", "", "default"},
      {"rules required", "ServiceRole", "{rules: []}", "spec.rules", "at least one rule"},
      {"services required", "ServiceRole", "{rules: [{methods: [GET]}]}", "spec.rules[0].services", "at least one service"},
      {"constraint key", "ServiceRole", "{rules: [{services: [a], constraints: [{values: [b]}]}]}", "spec.rules[0].constraints[0].key",
       "needs a key"},
      {"constraint values", "ServiceRole", "{rules: [{services: [a], constraints: [{key: k}]}]}",
       "spec.rules[0].constraints[0].values", "at least one value"},
      {"subjects required", "ServiceRoleBinding", "{" + kRef + "}", "spec.subjects", "at least one subject"},
      {"a subject names someone", "ServiceRoleBinding", "{subjects: [{}], " + kRef + "}", "spec.subjects[0]",
       "needs user, group or properties"},
      {"hidden subject fields alone do not count (1.1.0)", "ServiceRoleBinding", "{subjects: [{names: [a]}], " + kRef + "}",
       "spec.subjects[0]", "needs user, group or properties"},
      {"roleRef required", "ServiceRoleBinding", "{subjects: [{user: a}]}", "spec.roleRef", "roleRef is required"},
      {"roleRef kind", "ServiceRoleBinding", "{subjects: [{user: a}], roleRef: {kind: ClusterRole, name: a}}", "spec.roleRef.kind",
       "\"ClusterRole\""},
      {"roleRef name", "ServiceRoleBinding", "{subjects: [{user: a}], roleRef: {kind: ServiceRole}}", "spec.roleRef.name",
       "needs the name"},
      {"cluster config named default", "ClusterRbacConfig", "{mode: 'ON'}", "metadata.name", "must be named \"default\"", "rbac"},
      {"inclusion for ON_WITH_INCLUSION", "ClusterRbacConfig", "{mode: ON_WITH_INCLUSION}", "spec.inclusion", "needs inclusion",
       "default"},
      {"exclusion for ON_WITH_EXCLUSION", "ClusterRbacConfig", "{mode: ON_WITH_EXCLUSION}", "spec.exclusion", "needs exclusion",
       "default"},
      {"namespace config named default", "RbacConfig", "{mode: 'OFF'}", "metadata.name", "RbacConfig must be named \"default\"",
       "rbac"},
  });
}

BOOST_AUTO_TEST_CASE(rbac_config_is_accepted_with_a_deprecation_note) {
  auto result = loadValidated(validationDocument({"", "RbacConfig", "{mode: 'ON'}", "", "", "default"}));
  BOOST_TEST_REQUIRE(result.ok(), monomesh::config::testing::joinErrors(result.errors));
  BOOST_TEST_REQUIRE(result.notes.size() == 1u);
  BOOST_TEST(result.notes[0].subject == "RbacConfig default/default");
  BOOST_TEST(contains(result.notes[0].message, "deprecated; use ClusterRbacConfig"));
  BOOST_TEST(result.notes[0].position.line == 2);  // the kind
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(validation_mixer)

BOOST_AUTO_TEST_CASE(runtime_and_legacy_kinds) {
  runValidationCases({
      {"rule", "rule", "{match: 'true', actions: [{handler: h.prometheus, instances: [m.metric]}]}"},
      {"instance", "instance", "{compiledTemplate: metric, params: {value: '1'}}"},
      {"handler", "handler", "{compiledAdapter: prometheus, params: {metrics: []}}"},
      {"attribute manifest", "attributemanifest", "{name: istio-proxy, attributes: {source.ip: {valueType: IP_ADDRESS}}}"},
      {"legacy adapter kind", "prometheus", "{metrics: [{name: a, kind: COUNTER}]}"},
      {"actions name a handler", "rule", "{actions: [{instances: [a]}]}", "spec.actions[0].handler", "needs a handler"},
      {"instances name a template", "instance", "{params: {}}", "spec.compiledTemplate", "compiledTemplate or template"},
      {"handlers name an adapter", "handler", "{params: {}}", "spec.compiledAdapter", "compiledAdapter or adapter"},
      {"attributes have a type", "attributemanifest", "{attributes: {a: {description: x}}}", "spec.attributes[\"a\"].valueType",
       "needs a valueType"},
  });
}

BOOST_AUTO_TEST_CASE(mixer_client_kinds) {
  const std::string binding = "services: [{name: reviews, namespace: default}]";
  runValidationCases({
      {"API spec", "HTTPAPISpec",
       "{attributes: {attributes: {api.service: {stringValue: petstore}}}, patterns: [{httpMethod: GET, uriTemplate: /pets}, "
       "{http_method: POST, regex: '/pets/.*'}], apiKeys: [{query: key}, {header: x-key}]}"},
      {"API spec binding", "HTTPAPISpecBinding", "{" + binding + ", apiSpecs: [{name: petstore, namespace: default}]}"},
      {"quota spec", "QuotaSpec", "{rules: [{match: [{clause: {request.path: {exact: /a}}}], quotas: [{quota: rq, charge: 1}]}]}"},
      {"quota spec binding", "QuotaSpecBinding", "{services: [{service: '*'}], quotaSpecs: [{name: rq}]}"},
      {"patterns required", "HTTPAPISpec", "{apiKeys: [{query: key}]}", "spec.patterns", "at least one pattern"},
      {"patterns are a list", "HTTPAPISpec", "{patterns: 7}", "spec.patterns", "expected a list"},
      {"httpMethod required", "HTTPAPISpec", "{patterns: [{uriTemplate: /a}]}", "spec.patterns[0].httpMethod", "needs httpMethod"},
      {"uriTemplate or regex", "HTTPAPISpec", "{patterns: [{httpMethod: GET}]}", "spec.patterns[0]", "uriTemplate or regex"},
      {"uriTemplate not empty", "HTTPAPISpec", "{patterns: [{httpMethod: GET, uriTemplate: ''}]}", "spec.patterns[0].uriTemplate",
       "cannot be empty"},
      {"API key not empty", "HTTPAPISpec", "{patterns: [{httpMethod: GET, regex: a}], apiKeys: [{cookie: ''}]}",
       "spec.apiKeys[0].cookie", "cannot be empty"},
      {"string attributes not empty", "HTTPAPISpec",
       "{attributes: {attributes: {api.service: {stringValue: ''}}}, patterns: [{httpMethod: GET, regex: a}]}",
       "spec.attributes.attributes[\"api.service\"].stringValue", "cannot be empty"},
      {"binding services required", "HTTPAPISpecBinding", "{apiSpecs: [{name: a}]}", "spec.services", "at least one service"},
      {"service by name or service", "HTTPAPISpecBinding", "{services: [{name: a, service: a.b.svc}], apiSpecs: [{name: a}]}",
       "spec.services[0]", "not both"},
      {"service needs one", "HTTPAPISpecBinding", "{services: [{namespace: a}], apiSpecs: [{name: a}]}", "spec.services[0]",
       "needs name or service"},
      {"service name a label", "HTTPAPISpecBinding", "{services: [{name: a.b}], apiSpecs: [{name: a}]}", "spec.services[0].name",
       "\"a.b\""},
      {"spec refs required", "HTTPAPISpecBinding", "{" + binding + "}", "spec.apiSpecs", "at least one HTTPAPISpec"},
      {"spec ref name", "HTTPAPISpecBinding", "{" + binding + ", apiSpecs: [{namespace: a}]}", "spec.apiSpecs[0].name",
       "needs a name"},
      {"spec ref namespace", "HTTPAPISpecBinding", "{" + binding + ", apiSpecs: [{name: a, namespace: A_b}]}",
       "spec.apiSpecs[0].namespace", "\"A_b\""},
      {"quota rules required", "QuotaSpec", "{}", "spec.rules", "at least one rule"},
      {"quotas required", "QuotaSpec", "{rules: [{match: []}]}", "spec.rules[0].quotas", "at least one quota"},
      {"quota name", "QuotaSpec", "{rules: [{quotas: [{charge: 1}]}]}", "spec.rules[0].quotas[0].quota", "needs a name"},
      {"quota charge > 0", "QuotaSpec", "{rules: [{quotas: [{quota: rq, charge: 0}]}]}", "spec.rules[0].quotas[0].charge",
       "greater than 0"},
      {"clause values not empty", "QuotaSpec", "{rules: [{match: [{clause: {request.path: {prefix: ''}}}], quotas: [{quota: a, charge: 1}]}]}",
       "spec.rules[0].match[0].clause[\"request.path\"].prefix", "cannot be empty"},
      {"quota spec refs required", "QuotaSpecBinding", "{" + binding + "}", "spec.quotaSpecs", "at least one QuotaSpec"},
  });
}

BOOST_AUTO_TEST_CASE(mixer_kinds_carry_a_not_applied_note) {
  for (const char* kind : {"rule", "handler", "instance", "attributemanifest", "prometheus", "HTTPAPISpec", "QuotaSpec"}) {
    BOOST_TEST_CONTEXT(kind) {
      std::string spec = std::string(kind) == "rule"       ? "{actions: [{handler: h}]}"
                         : std::string(kind) == "handler"  ? "{compiledAdapter: a}"
                         : std::string(kind) == "instance" ? "{compiledTemplate: t}"
                         : std::string(kind) == "HTTPAPISpec" ? "{patterns: [{httpMethod: GET, uriTemplate: /}]}"
                         : std::string(kind) == "QuotaSpec"   ? "{rules: [{quotas: [{quota: q, charge: 1}]}]}"
                                                              : "{}";
      auto result = loadValidated(validationDocument({"", kind, spec}));
      BOOST_TEST_REQUIRE(result.ok(), monomesh::config::testing::joinErrors(result.errors));
      BOOST_TEST_REQUIRE(result.notes.size() == 1u);
      BOOST_TEST(contains(result.notes[0].message, "not applied until the telemetry work lands"));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
