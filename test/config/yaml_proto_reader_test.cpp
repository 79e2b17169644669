// YamlProtoReader: protobuf's JSON mapping read from YAML, with Istio's strictness rules.
#include <boost/test/unit_test.hpp>
#include <google/protobuf/any.pb.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/wrappers.pb.h>

#include "config/yaml_proto_reader.h"
#include "config_test_util.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace pb = google::protobuf;
namespace net = istio::networking::v1alpha3;
using monomesh::config::ConfigErrors;
using monomesh::config::ReadOptions;
using monomesh::config::YamlProtoReader;
using monomesh::config::testing::contains;
using monomesh::config::testing::joinErrors;

namespace {

// Reads `yaml` into `message` under the path prefix "spec" (as the loader does).
ConfigErrors readYaml(const std::string& yaml, pb::Message& message, ReadOptions options = {},
                      const std::string& path = "spec") {
  YamlProtoReader reader("test.yaml", options);
  bool ok = reader.read(YAML::Load(yaml), message, path);
  ConfigErrors errors = reader.takeErrors();
  BOOST_TEST(ok == errors.empty());
  return errors;
}

ReadOptions lenient() { return ReadOptions{false, 20}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(yaml_proto_reader)

BOOST_AUTO_TEST_CASE(reads_camel_case_field_names) {
  net::VirtualService vs;
  auto errors = readYaml("hosts: [reviews]\nexportTo: ['.']\nhttp:\n- websocketUpgrade: true\n"
                         "  removeResponseHeaders: [x-foo]\n",
                         vs);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(vs.hosts(0) == "reviews");
  BOOST_TEST(vs.export_to_size() == 1);
  BOOST_TEST(vs.export_to(0) == ".");
  BOOST_TEST(vs.http(0).websocket_upgrade());
  BOOST_TEST(vs.http(0).remove_response_headers(0) == "x-foo");
}

BOOST_AUTO_TEST_CASE(reads_snake_case_field_names) {
  net::VirtualService vs;
  auto errors = readYaml("export_to: ['*']\nhttp:\n- websocket_upgrade: true\n"
                         "  remove_response_headers: [x-foo]\n",
                         vs);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(vs.export_to(0) == "*");
  BOOST_TEST(vs.http(0).websocket_upgrade());
  BOOST_TEST(vs.http(0).remove_response_headers(0) == "x-foo");
}

BOOST_AUTO_TEST_CASE(camel_and_snake_spelling_of_one_field_is_a_duplicate) {
  net::VirtualService vs;
  auto errors = readYaml("exportTo: [a]\nexport_to: [b]\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.export_to");
  BOOST_TEST(contains(errors[0].message, "set more than once (first at line 1)"), errors[0].message);
  BOOST_TEST(errors[0].position.line == 2);
}

BOOST_AUTO_TEST_CASE(enum_by_name) {
  net::ServiceEntry se;
  auto errors = readYaml("location: MESH_INTERNAL\nresolution: DNS\n", se);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(se.location() == net::ServiceEntry::MESH_INTERNAL);
  BOOST_TEST(se.resolution() == net::ServiceEntry::DNS);
}

BOOST_AUTO_TEST_CASE(enum_by_number) {
  net::ServiceEntry se;
  auto errors = readYaml("location: 1\nresolution: 1\n", se);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(se.location() == net::ServiceEntry::MESH_INTERNAL);
  BOOST_TEST(se.resolution() == net::ServiceEntry::STATIC);
}

BOOST_AUTO_TEST_CASE(bad_enum_name_lists_allowed_values) {
  net::ServiceEntry se;
  auto errors = readYaml("hosts: [a]\nresolution: DNZ\n", se);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.resolution");
  BOOST_TEST(errors[0].message == "\"DNZ\" is not a Resolution value; expected one of NONE, STATIC, DNS");
  BOOST_TEST(errors[0].position.line == 2);
  BOOST_TEST(errors[0].position.column == 13);
}

BOOST_AUTO_TEST_CASE(unknown_enum_number_is_an_error) {
  net::ServiceEntry se;
  auto errors = readYaml("resolution: 7\n", se);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(contains(errors[0].message, "expected one of NONE, STATIC, DNS"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(int32_out_of_range) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- route:\n  - destination: {host: a}\n    weight: 3000000000\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.http[0].route[0].weight");
  BOOST_TEST(contains(errors[0].message, "out of range for a 32-bit integer"), errors[0].message);
  BOOST_TEST(errors[0].position.line == 4);
  BOOST_TEST(errors[0].position.column == 13);
}

// 1.5 is not out of range; it is not an integer. The message must not claim a range problem.
BOOST_AUTO_TEST_CASE(fraction_into_int32_is_not_called_out_of_range) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- route:\n  - weight: 1.5\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(contains(errors[0].message, "expected an integer, got the number 1.5"), errors[0].message);
  BOOST_TEST(!contains(errors[0].message, "out of range"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(negative_into_uint32) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- match:\n  - port: -1\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.http[0].match[0].port");
  BOOST_TEST(contains(errors[0].message, "a non-negative integer"), errors[0].message);
  BOOST_TEST(contains(errors[0].message, "must be 0 to 4294967295"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(quoted_number_into_int_field_is_accepted) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- route:\n  - destination: {host: a}\n    weight: \"25\"\n  match:\n"
                         "  - port: '8080'\n",
                         vs);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(vs.http(0).route(0).weight() == 25);
  BOOST_TEST(vs.http(0).match(0).port() == 8080u);
}

BOOST_AUTO_TEST_CASE(text_into_int_field_is_rejected) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- route:\n  - weight: heavy\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].message == "expected an integer, got the string \"heavy\"");
}

BOOST_AUTO_TEST_CASE(unquoted_number_into_string_is_rejected_in_strict_mode) {
  net::VirtualService vs;
  auto errors = readYaml("hosts:\n- 80\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.hosts[0]");
  BOOST_TEST(contains(errors[0].message, "the number 80"), errors[0].message);
  BOOST_TEST(contains(errors[0].message, "quote it"), errors[0].message);
  BOOST_TEST(errors[0].position.line == 2);
  BOOST_TEST(errors[0].position.column == 3);
}

BOOST_AUTO_TEST_CASE(unquoted_bool_into_string_is_rejected_in_strict_mode) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- route:\n  - destination: {host: a, subset: true}\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.http[0].route[0].destination.subset");
  BOOST_TEST(contains(errors[0].message, "the boolean true"), errors[0].message);
  BOOST_TEST(contains(errors[0].message, "quote it"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(quoted_number_into_string_is_accepted_in_strict_mode) {
  net::VirtualService vs;
  auto errors = readYaml("hosts: [\"80\", 'true']\n", vs);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(vs.hosts(0) == "80");
  BOOST_TEST(vs.hosts(1) == "true");
}

BOOST_AUTO_TEST_CASE(unquoted_number_and_bool_into_string_are_accepted_in_lenient_mode) {
  net::VirtualService vs;
  auto errors = readYaml("hosts: [80, true, 1.5]\n", vs, lenient());
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST_REQUIRE(vs.hosts_size() == 3);
  BOOST_TEST(vs.hosts(0) == "80");
  BOOST_TEST(vs.hosts(1) == "true");
  BOOST_TEST(vs.hosts(2) == "1.5");
}

BOOST_AUTO_TEST_CASE(unknown_field_in_strict_mode_names_path_line_and_column) {
  net::VirtualService vs;
  auto errors = readYaml(
      "hosts:\n"
      "- reviews\n"
      "http:\n"
      "- route:\n"
      "  - destination:\n"
      "      host: reviews\n"
      "  foo: bar\n",
      vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.http[0].foo");
  BOOST_TEST(errors[0].message == "unknown field \"foo\" in istio.networking.v1alpha3.HTTPRoute");
  BOOST_TEST(errors[0].position.file == "test.yaml");
  BOOST_TEST(errors[0].position.line == 7);
  BOOST_TEST(errors[0].position.column == 3);
  BOOST_TEST(errors[0].str() == "test.yaml:7:3: spec.http[0].foo: unknown field \"foo\" in istio.networking.v1alpha3.HTTPRoute");
}

BOOST_AUTO_TEST_CASE(unknown_field_is_ignored_in_lenient_mode) {
  net::VirtualService vs;
  auto errors = readYaml("hosts: [reviews]\nfoo: {bar: 1}\nhttp:\n- extra: [1, 2]\n  timeout: 3s\n", vs, lenient());
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(vs.hosts(0) == "reviews");
  BOOST_TEST(vs.http(0).timeout().seconds() == 3);
}

BOOST_AUTO_TEST_CASE(duplicate_key_is_an_error) {
  net::VirtualService vs;
  auto errors = readYaml("hosts: [a]\ngateways: [g]\nhosts: [b]\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.hosts");
  BOOST_TEST(errors[0].message == "set more than once (first at line 1)");
  BOOST_TEST(errors[0].position.line == 3);
  BOOST_TEST(errors[0].position.column == 1);
}

BOOST_AUTO_TEST_CASE(duplicate_map_key_is_an_error) {
  net::DestinationRule dr;
  auto errors = readYaml("subsets:\n- name: v1\n  labels:\n    version: v1\n    version: v2\n", dr);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.subsets[0].labels[\"version\"]");
  BOOST_TEST(errors[0].message == "key set more than once (first at line 4)");
  BOOST_TEST(errors[0].position.line == 5);
}

BOOST_AUTO_TEST_CASE(two_members_of_one_oneof_is_an_error) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- match:\n  - uri:\n      exact: /a\n      prefix: /b\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.http[0].match[0].uri.prefix");
  BOOST_TEST(errors[0].message == "\"exact\" and \"prefix\" cannot both be set (they are alternatives)");
  BOOST_TEST(errors[0].position.line == 5);
  BOOST_TEST(errors[0].position.column == 7);
}

BOOST_AUTO_TEST_CASE(null_member_of_a_oneof_does_not_count) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- match:\n  - uri: {exact: /a, prefix: null}\n", vs);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(vs.http(0).match(0).uri().exact() == "/a");
  BOOST_TEST(vs.http(0).match(0).uri().match_type_case() == net::StringMatch::kExact);
}

BOOST_AUTO_TEST_CASE(durations_in_go_syntax) {
  struct Case {
    const char* text;
    int64_t seconds;
    int32_t nanos;
  };
  for (const Case& c : {Case{"5s", 5, 0}, Case{"1m30s", 90, 0}, Case{"100ms", 0, 100000000}, Case{"1.5s", 1, 500000000},
                        Case{"1h", 3600, 0}, Case{"0", 0, 0}, Case{"\"250ms\"", 0, 250000000}}) {
    BOOST_TEST_CONTEXT("duration " << c.text) {
      net::HTTPRoute route;
      auto errors = readYaml(std::string("timeout: ") + c.text + "\n", route);
      BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
      BOOST_TEST(route.has_timeout());
      BOOST_TEST(route.timeout().seconds() == c.seconds);
      BOOST_TEST(route.timeout().nanos() == c.nanos);
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_duration_text) {
  for (const char* text : {"5 seconds", "5", "abc", "1.5x", "s"}) {
    BOOST_TEST_CONTEXT("duration " << text) {
      net::HTTPRoute route;
      auto errors = readYaml(std::string("timeout: ") + text + "\n", route);
      BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
      BOOST_TEST(errors[0].path == "spec.timeout");
      BOOST_TEST(contains(errors[0].message, "\"" + std::string(text) + "\" is not a duration"), errors[0].message);
    }
  }
}

BOOST_AUTO_TEST_CASE(duration_given_a_mapping_is_an_error) {
  net::HTTPRoute route;
  auto errors = readYaml("timeout: {seconds: 5}\n", route);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(contains(errors[0].message, "expected a duration"), errors[0].message);
  BOOST_TEST(contains(errors[0].message, "got a mapping"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(struct_with_nested_maps_lists_numbers_bools_and_null) {
  net::EnvoyFilter ef;
  auto errors = readYaml(
      "filters:\n"
      "- filterName: envoy.lua\n"
      "  filterType: HTTP\n"
      "  filterConfig:\n"
      "    inlineCode: \"function envoy_on_request(h) end\"\n"
      "    ratio: 0.5\n"
      "    enabled: false\n"
      "    nothing: null\n"
      "    quotedNumber: \"42\"\n"
      "    nested:\n"
      "      a: 1\n"
      "      list: [1, two, true, null, {c: d}, [x]]\n",
      ef);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  const pb::Struct& config = ef.filters(0).filter_config();
  BOOST_TEST(ef.filters(0).filter_type() == net::EnvoyFilter::Filter::HTTP);
  BOOST_TEST(config.fields().at("inlineCode").string_value() == "function envoy_on_request(h) end");
  BOOST_TEST(config.fields().at("ratio").number_value() == 0.5);
  BOOST_TEST(config.fields().at("enabled").kind_case() == pb::Value::kBoolValue);
  BOOST_TEST(config.fields().at("enabled").bool_value() == false);
  BOOST_TEST(config.fields().at("nothing").kind_case() == pb::Value::kNullValue);
  BOOST_TEST(config.fields().at("quotedNumber").kind_case() == pb::Value::kStringValue);
  const pb::Struct& nested = config.fields().at("nested").struct_value();
  BOOST_TEST(nested.fields().at("a").number_value() == 1.0);
  const pb::ListValue& list = nested.fields().at("list").list_value();
  BOOST_TEST_REQUIRE(list.values_size() == 6);
  BOOST_TEST(list.values(0).number_value() == 1.0);
  BOOST_TEST(list.values(1).string_value() == "two");
  BOOST_TEST(list.values(2).bool_value() == true);
  BOOST_TEST(list.values(3).kind_case() == pb::Value::kNullValue);
  BOOST_TEST(list.values(4).struct_value().fields().at("c").string_value() == "d");
  BOOST_TEST(list.values(5).list_value().values(0).string_value() == "x");
}

BOOST_AUTO_TEST_CASE(struct_given_a_list_is_an_error) {
  net::EnvoyFilter ef;
  auto errors = readYaml("filters:\n- filterConfig: [a, b]\n", ef);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.filters[0].filterConfig");
  BOOST_TEST(contains(errors[0].message, "expected a mapping"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(bool_wrapper_as_bare_value) {
  net::CorsPolicy cors;
  auto errors = readYaml("allowCredentials: false\n", cors);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(cors.has_allow_credentials());
  BOOST_TEST(cors.allow_credentials().value() == false);

  net::CorsPolicy cors2;
  errors = readYaml("allowCredentials: true\n", cors2);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(cors2.allow_credentials().value() == true);
}

BOOST_AUTO_TEST_CASE(bool_wrapper_rejects_a_string) {
  net::CorsPolicy cors;
  auto errors = readYaml("allowCredentials: \"true\"\n", cors);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.allowCredentials");
  BOOST_TEST(contains(errors[0].message, "expected true or false"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(uint32_wrapper_as_bare_value) {
  pb::UInt32Value value;
  auto errors = readYaml("42", value, {}, "");
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(value.value() == 42u);

  pb::UInt32Value negative;
  errors = readYaml("-3", negative, {}, "limit");
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "limit");
  BOOST_TEST(contains(errors[0].message, "must be 0 to 4294967295"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(any_resolves_a_type_compiled_into_the_binary) {
  pb::Any any;
  auto errors = readYaml(
      "\"@type\": type.googleapis.com/istio.networking.v1alpha3.VirtualService\n"
      "hosts: [reviews]\n"
      "http:\n"
      "- timeout: 2s\n",
      any, {}, "config");
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(any.type_url() == "type.googleapis.com/istio.networking.v1alpha3.VirtualService");
  net::VirtualService vs;
  BOOST_TEST_REQUIRE(any.UnpackTo(&vs));
  BOOST_TEST(vs.hosts(0) == "reviews");
  BOOST_TEST(vs.http(0).timeout().seconds() == 2);
}

BOOST_AUTO_TEST_CASE(any_holding_a_well_known_type_reads_value) {
  pb::Any any;
  auto errors = readYaml("\"@type\": type.googleapis.com/google.protobuf.Duration\nvalue: 1.5s\n", any, {}, "");
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  pb::Duration d;
  BOOST_TEST_REQUIRE(any.UnpackTo(&d));
  BOOST_TEST(d.seconds() == 1);
  BOOST_TEST(d.nanos() == 500000000);
}

BOOST_AUTO_TEST_CASE(any_with_unknown_type_is_an_error) {
  pb::Any any;
  auto errors = readYaml("\"@type\": type.googleapis.com/istio.nope.v1.Missing\nhosts: [a]\n", any, {}, "config");
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "config.@type");
  BOOST_TEST(errors[0].message == "unknown type \"type.googleapis.com/istio.nope.v1.Missing\"");
  BOOST_TEST(errors[0].position.line == 1);
  BOOST_TEST(errors[0].position.column == 10);
  BOOST_TEST(any.type_url().empty());
}

BOOST_AUTO_TEST_CASE(any_without_type_is_an_error) {
  pb::Any any;
  auto errors = readYaml("hosts: [a]\n", any, {}, "config");
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(contains(errors[0].message, "needs \"@type\""), errors[0].message);
}

BOOST_AUTO_TEST_CASE(any_checks_fields_of_the_inner_message) {
  pb::Any any;
  auto errors = readYaml("\"@type\": type.googleapis.com/istio.networking.v1alpha3.VirtualService\nhostz: [a]\n", any,
                         {}, "config");
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "config.hostz");
  BOOST_TEST(contains(errors[0].message, "unknown field \"hostz\""), errors[0].message);
}

BOOST_AUTO_TEST_CASE(string_map_is_read) {
  net::DestinationRule dr;
  auto errors = readYaml("host: reviews\nsubsets:\n- name: v1\n  labels: {version: v1, app: reviews}\n", dr);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(dr.subsets(0).labels().size() == 2u);
  BOOST_TEST(dr.subsets(0).labels().at("version") == "v1");
}

BOOST_AUTO_TEST_CASE(message_map_is_read) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- match:\n  - headers:\n      end-user: {exact: jason}\n      cookie: {regex: \"^(.*?;)?(user=jason)(;.*)?\"}\n", vs);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  const auto& headers = vs.http(0).match(0).headers();
  BOOST_TEST(headers.size() == 2u);
  BOOST_TEST(headers.at("end-user").exact() == "jason");
  BOOST_TEST(headers.at("cookie").regex() == "^(.*?;)?(user=jason)(;.*)?");
}

BOOST_AUTO_TEST_CASE(map_value_error_path_names_the_key) {
  net::HTTPRoute route;
  auto errors = readYaml("match:\n- headers:\n    end-user: jason\n", route);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.match[0].headers[\"end-user\"]");
  BOOST_TEST(errors[0].message == "expected a mapping (StringMatch), got the string \"jason\"");
  BOOST_TEST(errors[0].position.line == 3);
  BOOST_TEST(errors[0].position.column == 15);
}

BOOST_AUTO_TEST_CASE(map_value_nested_error_path) {
  net::HTTPRoute route;
  auto errors = readYaml("match:\n- headers:\n    end-user: {exact: jason, bogus: 1}\n", route);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.match[0].headers[\"end-user\"].bogus");
}

BOOST_AUTO_TEST_CASE(numeric_label_value_is_rejected_in_strict_mode) {
  net::DestinationRule dr;
  auto errors = readYaml("subsets:\n- name: v1\n  labels: {version: 1}\n", dr);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.subsets[0].labels[\"version\"]");
  BOOST_TEST(contains(errors[0].message, "quote it"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(null_means_unset) {
  net::VirtualService vs;
  auto errors = readYaml("hosts: null\ngateways: ~\nhttp:\n- timeout: null\n  retries:\n  corsPolicy: {allowCredentials: null}\n",
                         vs);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST(vs.hosts_size() == 0);
  BOOST_TEST(vs.gateways_size() == 0);
  BOOST_TEST_REQUIRE(vs.http_size() == 1);
  BOOST_TEST(!vs.http(0).has_timeout());
  BOOST_TEST(!vs.http(0).has_retries());
  BOOST_TEST(!vs.http(0).cors_policy().has_allow_credentials());
}

BOOST_AUTO_TEST_CASE(null_list_item_is_an_error) {
  net::VirtualService vs;
  auto errors = readYaml("http:\n- null\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.http[0]");
  BOOST_TEST(contains(errors[0].message, "cannot be null"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(list_where_a_mapping_is_expected) {
  net::HTTPRoute route;
  auto errors = readYaml("retries: [1, 2]\n", route);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.retries");
  BOOST_TEST(errors[0].message == "expected a mapping (HTTPRetry), got a list");
}

BOOST_AUTO_TEST_CASE(list_where_a_map_field_is_expected) {
  net::HTTPMatchRequest match;
  auto errors = readYaml("headers: [a, b]\n", match);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.headers");
  BOOST_TEST(contains(errors[0].message, "expected a mapping"), errors[0].message);
  BOOST_TEST(contains(errors[0].message, "got a list"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(top_level_list_where_a_mapping_is_expected) {
  net::VirtualService vs;
  auto errors = readYaml("- hosts: [a]\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec");
  BOOST_TEST(contains(errors[0].message, "expected a mapping (VirtualService)"), errors[0].message);
}

BOOST_AUTO_TEST_CASE(scalar_where_a_list_is_expected) {
  net::VirtualService vs;
  auto errors = readYaml("hosts: reviews\n", vs);
  BOOST_TEST_REQUIRE(errors.size() == 1u, joinErrors(errors));
  BOOST_TEST(errors[0].path == "spec.hosts");
  BOOST_TEST(errors[0].message == "expected a list of string values, got the string \"reviews\"");
}

BOOST_AUTO_TEST_CASE(a_list_replaces_what_the_message_held) {
  net::VirtualService vs;
  vs.add_hosts("old");
  auto errors = readYaml("hosts: [new]\n", vs);
  BOOST_TEST_REQUIRE(errors.empty(), joinErrors(errors));
  BOOST_TEST_REQUIRE(vs.hosts_size() == 1);
  BOOST_TEST(vs.hosts(0) == "new");
}

BOOST_AUTO_TEST_CASE(max_errors_caps_the_list) {
  net::VirtualService vs;
  auto errors = readYaml("a: 1\nb: 2\nc: 3\nd: 4\n", vs, ReadOptions{true, 2});
  BOOST_TEST(errors.size() == 2u, joinErrors(errors));
}

BOOST_AUTO_TEST_CASE(describe_node_shapes) {
  using monomesh::config::describeNode;
  BOOST_TEST(describeNode(YAML::Load("[1]")) == "a list");
  BOOST_TEST(describeNode(YAML::Load("{a: 1}")) == "a mapping");
  BOOST_TEST(describeNode(YAML::Load("80")) == "the number 80");
  BOOST_TEST(describeNode(YAML::Load("true")) == "the boolean true");
  BOOST_TEST(describeNode(YAML::Load("\"80\"")) == "the string \"80\"");
  BOOST_TEST(describeNode(YAML::Load("~")) == "nothing (null)");
}

BOOST_AUTO_TEST_SUITE_END()
