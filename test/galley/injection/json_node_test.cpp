// JSON typing of yaml-cpp nodes, JSON text, and the YAML writer keeping every value's type.
#include <boost/test/unit_test.hpp>

#include "galley/injection/json_node.h"
#include "galley/injection/yaml_writer.h"

using namespace monomesh::galley::injection;

BOOST_AUTO_TEST_SUITE(json_node)

BOOST_AUTO_TEST_CASE(quoted_scalars_are_strings_plain_ones_resolve) {
  YAML::Node n = YAML::Load(R"({a: "15001", b: 15001, c: true, d: "true", e: ~, f: 1.5, g: abc, h: '', i: 0x1F, j: -7})");
  BOOST_TEST(int(jsonKind(n["a"])) == int(JsonKind::String));
  BOOST_TEST(int(jsonKind(n["b"])) == int(JsonKind::Number));
  BOOST_TEST(int(jsonKind(n["c"])) == int(JsonKind::Bool));
  BOOST_TEST(int(jsonKind(n["d"])) == int(JsonKind::String));
  BOOST_TEST(int(jsonKind(n["e"])) == int(JsonKind::Null));
  BOOST_TEST(int(jsonKind(n["f"])) == int(JsonKind::Number));
  BOOST_TEST(int(jsonKind(n["g"])) == int(JsonKind::String));
  BOOST_TEST(int(jsonKind(n["h"])) == int(JsonKind::String));
  BOOST_TEST(int(jsonKind(n["i"])) == int(JsonKind::Number));
  BOOST_TEST(toJson(n) == R"({"a":"15001","b":15001,"c":true,"d":"true","e":null,"f":1.5,"g":"abc","h":"","i":31,"j":-7})");
}

BOOST_AUTO_TEST_CASE(built_scalars_keep_their_type) {
  YAML::Node n;
  n["s"] = text("1337");
  n["n"] = number(1337);
  n["b"] = boolean(false);
  n["o"] = emptyObject();
  n["l"] = emptyArray();
  BOOST_TEST(toJson(n) == R"({"s":"1337","n":1337,"b":false,"o":{},"l":[]})");
}

BOOST_AUTO_TEST_CASE(equality_ignores_key_order_and_number_spelling) {
  BOOST_TEST(jsonEqual(YAML::Load("{a: 1, b: [x, 2]}"), YAML::Load(R"({"b": ["x", 2], "a": 0x1})")));
  BOOST_TEST(!jsonEqual(YAML::Load("{a: 1}"), YAML::Load(R"({"a": "1"})")));
  BOOST_TEST(!jsonEqual(YAML::Load("[1, 2]"), YAML::Load("[1]")));
  BOOST_TEST(!jsonEqual(YAML::Load("{a: 1}"), YAML::Load("{a: 1, b: 2}")));
}

BOOST_AUTO_TEST_CASE(json_escapes_control_characters_and_quotes) {
  YAML::Node n;
  n["k\"ey"] = text("line\nnext \"quoted\" \\");
  BOOST_TEST(toJson(n) == R"({"k\"ey":"line\nnext \"quoted\" \\"})");
}

BOOST_AUTO_TEST_CASE(yaml_writer_quotes_strings_that_would_read_as_other_types) {
  for (const char* s : {"15001", "true", "yes", "no", "on", "Off", "null", "~", "", "1.5", "1e3", "0x1F", "12:30", "*", "-",
                        "- x", "a: b", "x #y", " lead", "trail ", "{a}", "[a]", "&a", "!t", "%x", "@x", "`x", "'q'", "\"q\"",
                        "multi\nline", ".inf", "---", "key:", "a\xE2\x80\xA8" "z", "tab\there"}) {
    BOOST_TEST_CONTEXT("string " << s) {
      BOOST_TEST(yamlString(s).front() == '"');
      YAML::Node back = YAML::Load("v: " + yamlString(s));
      BOOST_TEST(int(jsonKind(back["v"])) == int(JsonKind::String));
      BOOST_TEST(back["v"].Scalar() == s);
    }
  }
  for (const char* s : {"-p", "REDIRECT", "45s", "1m0s", "10m", "40Mi", "istio-pilot.istio-system:15010", "/etc/certs/",
                        "sidecar~$(INSTANCE_IP)~x", "a b", "http-envoy-prom"}) {
    BOOST_TEST_CONTEXT("string " << s) { BOOST_TEST(yamlString(s) == s); }
  }
}

BOOST_AUTO_TEST_CASE(yaml_writer_round_trips_documents) {
  const char* text = R"(apiVersion: v1
kind: Pod
metadata:
  annotations:
    sidecar.istio.io/inject: "false"
    port: "15020"
  name: p
spec:
  containers:
  - name: c
    args: ["-p", "15001", "*", ""]
    ports:
    - containerPort: 80
      protocol: TCP
    nested: [[1, 2], [], {}]
  hostNetwork: false
  empty: {}
  nothing: ~
)";
  YAML::Node original = YAML::Load(text);
  std::string written = toYaml(original);
  YAML::Node back = YAML::Load(written);
  BOOST_TEST(jsonEqual(original, back), written);
  BOOST_TEST(written.find("sidecar.istio.io/inject: \"false\"\n") != std::string::npos, written);
  BOOST_TEST(written.find("  - name: c\n    args:\n    - -p\n    - \"15001\"\n    - \"*\"\n    - \"\"\n") != std::string::npos, written);
  BOOST_TEST(written.find("    - containerPort: 80\n      protocol: TCP\n") != std::string::npos, written);
  BOOST_TEST(toYaml(YAML::Load("[]")) == "[]\n");
  BOOST_TEST(toYaml(YAML::Load("\"x: y\"")) == "\"x: y\"\n");
}

BOOST_AUTO_TEST_SUITE_END()
