// kube-inject over a multi-document file: workloads rewritten, the rest byte for byte, separators
// kept, and errors placed at their line in the file.
#include <boost/test/unit_test.hpp>

#include "galley/injection/yaml_stream_injection.h"
#include "injection_test_util.h"

using namespace monomesh::galley::injection;
using namespace monomesh::galley::injection::testing;

BOOST_AUTO_TEST_SUITE(yaml_stream)

BOOST_AUTO_TEST_CASE(workloads_are_rewritten_and_the_rest_passes_through) {
  const std::string service = "# the service\napiVersion: v1\nkind: Service\nmetadata:\n  name: details   # odd spacing kept\nspec:\n  ports: [{port: 9080}]\n";
  const std::string text = "---\n" + service + "---\n" + kDeployment + "---   \n\n";
  StreamInjection r = injectYamlStream(text, "app.yaml", chartInjector());
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(r.injected == 1);
  BOOST_TEST(r.output.substr(0, 4 + service.size() + 4) == "---\n" + service + "---\n");
  BOOST_TEST(r.output.substr(r.output.size() - 8) == "---   \n\n");
  std::vector<YAML::Node> docs = YAML::LoadAll(r.output);
  BOOST_TEST_REQUIRE(docs.size() == 3u);  // the trailing separator opens an empty document
  BOOST_TEST(docs[2].IsNull());
  BOOST_TEST(named(docs[1]["spec"]["template"]["spec"]["containers"], "istio-proxy").IsDefined());
  BOOST_TEST(jsonEqual(docs[0], YAML::Load(service)));
}

BOOST_AUTO_TEST_CASE(skips_are_reported_and_the_document_kept) {
  std::string text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + pod("", "  hostNetwork: true\n");
  StreamInjection r = injectYamlStream(text, "app.yaml", chartInjector());
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(r.injected == 0);
  BOOST_TEST(r.output == text);
  BOOST_TEST_REQUIRE(r.skipped.size() == 1u);
  BOOST_TEST(r.skipped[0] == "Pod shop/web: the pod has host networking enabled");
}

BOOST_AUTO_TEST_CASE(errors_name_the_file_line_in_the_whole_stream) {
  std::string text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + pod("    sidecar.istio.io/inject: false\n") +
                     "---\nkind: Service\nmetadata: {name: [unclosed\n";
  StreamInjection r = injectYamlStream(text, "app.yaml", chartInjector());
  BOOST_TEST(r.output.empty());
  BOOST_TEST_REQUIRE(r.errors.size() == 2u);
  BOOST_TEST(r.errors[0].str() ==
             "app.yaml:13:30: Pod shop/web: metadata.annotations.sidecar.istio.io/inject: must be a string (quote it: \"false\")");
  BOOST_TEST(r.errors[1].position.file == "app.yaml");
  BOOST_TEST(r.errors[1].position.line >= 23);
  BOOST_TEST(r.errors[1].message.find("invalid YAML") == 0u);
}

BOOST_AUTO_TEST_CASE(empty_and_comment_only_input_is_kept) {
  for (const std::string text : {"", "\n", "# nothing\n", "---\n---\n"}) {
    StreamInjection r = injectYamlStream(text, "x.yaml", chartInjector());
    BOOST_TEST(r.errors.empty());
    BOOST_TEST(r.output == text);
  }
}

BOOST_AUTO_TEST_SUITE_END()
