// Table-driven checks for Istio 1.1's semantic validation: each case is one object (kind, name,
// spec in YAML) and either no error, or exactly one error with an exact field path and a
// message fragment.
#pragma once
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config_test_util.h"

namespace monomesh::config::testing {

struct ValidationCase {
  std::string rule;          // what the case shows, for failure messages
  std::string kind;          // "VirtualService"
  std::string spec;          // YAML for `spec:` (flow style fits on one line)
  std::string path = "";     // "" = valid; else the one error's exact field path
  std::string message = "";  // a fragment of that error's message
  std::string name = "x";    // metadata.name
};

// The document for a case: apiVersion from the schema registry, namespace `default`.
inline std::string validationDocument(const ValidationCase& c) {
  const Schema* schema = SchemaRegistry::builtin().findByKind(c.kind);
  std::string api_version = schema ? schema->apiVersion() : "?";
  return "apiVersion: " + api_version + "\nkind: " + c.kind + "\nmetadata:\n  name: " + c.name + "\nspec: " + c.spec +
         "\n";
}

inline LoadResult loadValidated(const std::string& text) {
  LoadOptions options;
  options.validate = true;
  return loadYaml(text, "case.yaml", options);
}

inline void runValidationCases(const std::vector<ValidationCase>& cases) {
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.kind << ": " << c.rule) {
      LoadResult result = loadValidated(validationDocument(c));
      if (c.path.empty()) {
        BOOST_TEST(result.ok(), joinErrors(result.errors));
        BOOST_TEST(result.resources.size() == 1u);
        continue;
      }
      BOOST_TEST_REQUIRE(result.errors.size() == 1u, "expected one error at " << c.path << ", got" << joinErrors(result.errors));
      const ConfigError& e = result.errors[0];
      BOOST_TEST(e.path == c.path);
      BOOST_TEST(contains(e.message, c.message), "\"" << e.message << "\" lacks \"" << c.message << "\"");
      BOOST_TEST(e.subject == c.kind + (SchemaRegistry::builtin().findByKind(c.kind)->namespaced() ? " default/" : " ") + c.name);
      BOOST_TEST(e.position.line > 0);
      BOOST_TEST(result.resources.empty());
    }
  }
}

}  // namespace monomesh::config::testing
