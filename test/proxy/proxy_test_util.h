// Small helpers shared by the proxy module's tests: protobuf messages from YAML (the project's
// strict reader, so a typo in a test's YAML fails loudly), and exception messages.
#pragma once
#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>
#include <yaml-cpp/yaml.h>

#include "config/yaml_proto_reader.h"

namespace monomesh::proxy::testing {

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

inline std::string joinErrors(const config::ConfigErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += "\n  " + e.str();
  return out.empty() ? "(no errors)" : out;
}

// Reads `text` into a T; the test stops if the YAML does not fit the message.
template <class T>
T fromYaml(const std::string& text) {
  T message;
  config::YamlProtoReader reader("test.yaml");
  bool ok = reader.read(YAML::Load(text), message, "");
  BOOST_REQUIRE_MESSAGE(ok, "test YAML does not fit " << T::descriptor()->full_name() << ":" << joinErrors(reader.errors()));
  return message;
}

// The what() of the std::invalid_argument that `f` throws, or "(no exception)".
template <class F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace monomesh::proxy::testing
