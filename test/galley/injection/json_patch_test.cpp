// RFC 6902 patches: the diff's shape (what the webhook sends) and applying it back.
#include <boost/test/unit_test.hpp>

#include "galley/injection/json_node.h"
#include "galley/injection/json_patch.h"

using namespace monomesh::galley::injection;

namespace {

void checkRoundTrip(const std::string& a_text, const std::string& b_text) {
  YAML::Node a = YAML::Load(a_text), b = YAML::Load(b_text);
  YAML::Node patch = createJsonPatch(a, b);
  YAML::Node doc = YAML::Clone(a);
  auto err = applyJsonPatch(doc, patch);
  BOOST_TEST(!err.has_value(), err.value_or(""));
  BOOST_TEST(jsonEqual(doc, b), toJson(patch) + " gave " + toJson(doc));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_patch)

BOOST_AUTO_TEST_CASE(appends_use_dash_and_new_members_add_whole_values) {
  YAML::Node a = YAML::Load(R"({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "app"}]}})");
  YAML::Node b = YAML::Load(R"({"metadata": {"labels": {"app": "x"}, "annotations": {"sidecar.istio.io/status": "{}"}},
      "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}], "initContainers": [{"name": "istio-init"}]}})");
  BOOST_TEST(toJson(createJsonPatch(a, b)) ==
             R"([{"op":"add","path":"/metadata/annotations","value":{"sidecar.istio.io/status":"{}"}},)"
             R"({"op":"add","path":"/spec/containers/-","value":{"name":"istio-proxy"}},)"
             R"({"op":"add","path":"/spec/initContainers","value":[{"name":"istio-init"}]}])");
}

BOOST_AUTO_TEST_CASE(keys_with_slashes_and_tildes_are_escaped) {
  YAML::Node a = YAML::Load(R"({"annotations": {"a": "1"}})");
  YAML::Node b = YAML::Load(R"({"annotations": {"a": "1", "sidecar.istio.io/status": "x", "t~x": "y"}})");
  BOOST_TEST(toJson(createJsonPatch(a, b)) ==
             R"([{"op":"add","path":"/annotations/sidecar.istio.io~1status","value":"x"},{"op":"add","path":"/annotations/t~0x","value":"y"}])");
  checkRoundTrip(toJson(a), toJson(b));
}

BOOST_AUTO_TEST_CASE(equal_documents_give_an_empty_patch) {
  BOOST_TEST(toJson(createJsonPatch(YAML::Load("{a: [1, {b: c}]}"), YAML::Load("{a: [1, {b: c}]}"))) == "[]");
}

BOOST_AUTO_TEST_CASE(every_change_round_trips) {
  checkRoundTrip("{a: 1, b: 2}", "{a: 1}");                         // remove
  checkRoundTrip("{a: 1}", "{a: \"1\"}");                           // type change
  checkRoundTrip("{l: [1, 2, 3]}", "{l: [1, 2]}");                  // trailing removal
  checkRoundTrip("{l: [1, 2, 3]}", "{l: [0, 2, 4]}");               // changed items
  checkRoundTrip("{l: [1, 2, 3]}", "{l: [3]}");                     // replaced list
  checkRoundTrip("{l: []}", "{l: [1, 2]}");                         // append to empty
  checkRoundTrip("{l: [{a: 1}]}", "{l: [{a: 2, b: [x]}]}");         // nested
  checkRoundTrip("[1]", "{a: 1}");                                  // root replaced
  checkRoundTrip("{a: {b: {c: 1}}}", "{a: {b: null}}");
}

BOOST_AUTO_TEST_CASE(apply_inserts_at_an_index_and_tests) {
  YAML::Node doc = YAML::Load("{l: [a, c]}");
  auto err = applyJsonPatch(doc, YAML::Load(R"([{"op": "add", "path": "/l/1", "value": "b"},
                                                 {"op": "test", "path": "/l", "value": ["a", "b", "c"]},
                                                 {"op": "replace", "path": "/l/0", "value": "z"},
                                                 {"op": "remove", "path": "/l/2"}])"));
  BOOST_TEST(!err.has_value(), err.value_or(""));
  BOOST_TEST(toJson(doc) == R"({"l":["z","b"]})");
}

BOOST_AUTO_TEST_CASE(bad_operations_are_reported_not_crashed_on) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"op": "add"})", "operation 0: path \"\": "},
      {R"([{"op": "move", "path": "/a", "from": "/b"}])", "not supported"},
      {R"([{"op": "add", "path": "a", "value": 1}])", "not a JSON pointer"},
      {R"([{"op": "add", "path": "/x/y", "value": 1}])", "\"x\" does not exist"},
      {R"([{"op": "remove", "path": "/nope"}])", "nothing to remove"},
      {R"([{"op": "replace", "path": "/l/5", "value": 1}])", "no item 5"},
      {R"([{"op": "add", "path": "/l/01", "value": 1}])", "no item 01"},
      {R"([{"op": "add", "path": "/a/b", "value": 1}])", "not an object or a list"},
      {R"([{"op": "test", "path": "/a", "value": 2}])", "test failed"},
      {R"([{"op": "add", "path": "/a"}])", "no value"},
      {R"([{"op": "add", "path": "/~2", "value": 1}])", "not a JSON pointer"},
      {R"([{"op": "remove", "path": ""}])", "cannot remove the whole document"},
      {R"([7])", "not an object"},
  };
  for (const auto& [patch, expected] : cases) {
    BOOST_TEST_CONTEXT(patch) {
      YAML::Node doc = YAML::Load("{a: 1, l: [1]}");
      auto err = applyJsonPatch(doc, YAML::Load(patch));
      BOOST_TEST(err.has_value());
      if (patch.front() == '{') {
        BOOST_TEST(err.value_or("").find("list of operations") != std::string::npos, err.value_or(""));
      } else {
        BOOST_TEST(err.value_or("").find(expected) != std::string::npos, err.value_or(""));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
