// The ValidatingWebhookConfiguration Galley registers: built from the chart's file with the CA as
// caBundle, its name and owner, 1.1's defaults; every kind of bad file or CA is an error naming
// the file and field; "current" ignores what the API server adds but not what Galley wants.
#include <boost/test/unit_test.hpp>

#include "galley/injection/json_node.h"
#include "galley/webhook_configuration.h"
#include "net/test_certs.h"
#include "temp_dir.h"

using namespace monomesh::galley;
using injection::member;
using injection::stringValue;
using injection::toJson;

namespace {

// The 1.1 chart's file, shared with integration/galley_registration_test.py.
const std::string kChartFile = monomesh::testing::readAll(MONOMESH_SOURCE_DIR "/test/galley/data/validatingwebhookconfiguration.yaml");

const std::string& caPem() {
  static const std::string pem = monomesh::net::tls::testing::TestCa("Galley CA").certPem();
  return pem;
}

WebhookConfigurationFiles files(const std::string& text, const std::string& ca = caPem()) {
  return {text, "/etc/config/validatingwebhookconfiguration.yaml", ca, "/etc/certs/root-cert.pem"};
}

std::string build(const std::string& text, DesiredWebhookConfiguration& out, const std::string& ca = caPem(),
                  std::optional<OwnerReference> owner = std::nullopt) {
  std::string all;
  for (const auto& e : buildWebhookConfiguration(files(text, ca), "istio-galley", owner, out))
    all += (all.empty() ? "" : "\n") + e.str();
  return all;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_configuration)

BOOST_AUTO_TEST_CASE(chart_file_gets_ca_bundle_name_owner_and_defaults) {
  DesiredWebhookConfiguration d;
  OwnerReference owner{"apps/v1", "Deployment", "istio-galley", "5e7c-uid"};
  BOOST_TEST_REQUIRE(build(kChartFile, d, caPem(), owner) == "");
  BOOST_TEST(d.name == "istio-galley");
  BOOST_TEST(d.collection == "/apis/admissionregistration.k8s.io/v1beta1/validatingwebhookconfigurations");
  const YAML::Node& o = d.object;
  BOOST_TEST(stringValue(o["metadata"]["name"]) == "istio-galley");
  BOOST_TEST(!member(o["metadata"], "namespace").IsDefined(), "cluster-scoped: no namespace");
  BOOST_TEST(stringValue(o["metadata"]["labels"]["app"]) == "galley");
  for (size_t i = 0; i < 2; ++i) {
    BOOST_TEST(stringValue(o["webhooks"][i]["clientConfig"]["caBundle"]) == injection::base64Bytes(caPem()));
    BOOST_TEST(stringValue(o["webhooks"][i]["failurePolicy"]) == "Fail");
    BOOST_TEST(toJson(o["webhooks"][i]["namespaceSelector"]) == "{}");
  }
  BOOST_TEST(toJson(o["metadata"]["ownerReferences"]) ==
             R"([{"apiVersion":"apps/v1","kind":"Deployment","name":"istio-galley","uid":"5e7c-uid","controller":true,)"
             R"("blockOwnerDeletion":true}])");
  // Types survive: strings stay strings, lists stay lists.
  BOOST_TEST(toJson(o["webhooks"][0]["rules"][0]["apiVersions"]) == R"(["*"])");
  BOOST_TEST(toJson(o["webhooks"][0]["clientConfig"]["service"]["path"]) == R"("/admitpilot")");
}

BOOST_AUTO_TEST_CASE(v1_files_use_the_v1_collection_and_no_owner_means_none) {
  std::string v1 = kChartFile;
  v1.replace(v1.find("admissionregistration.k8s.io/v1beta1"), 36, "admissionregistration.k8s.io/v1");
  DesiredWebhookConfiguration d;
  BOOST_TEST_REQUIRE(build(v1, d) == "");
  BOOST_TEST(d.collection == "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations");
  BOOST_TEST(!member(d.object["metadata"], "ownerReferences").IsDefined());
}

BOOST_AUTO_TEST_CASE(bad_files_are_errors_with_file_line_and_field) {
  struct Case {
    std::string text, want;
  };
  std::vector<Case> cases = {
      {"webhooks: [", "/etc/config/validatingwebhookconfiguration.yaml:"},
      {"webhooks: [", "invalid YAML"},
      {"", "expected a ValidatingWebhookConfiguration object"},
      {"- a\n- b\n", "expected a ValidatingWebhookConfiguration object"},
      {"apiVersion: v1\nkind: ValidatingWebhookConfiguration\nwebhooks: [{name: a, clientConfig: {url: x}}]\n",
       "yaml:1:13: ValidatingWebhookConfiguration: apiVersion: must be admissionregistration.k8s.io/v1beta1"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nwebhooks: [{name: a, clientConfig: {url: x}}]\n",
       "yaml:2:7: ValidatingWebhookConfiguration: kind: must be ValidatingWebhookConfiguration"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n",
       "webhooks: at least one webhook is required"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nwebhooks: []\n",
       "yaml:3:11: ValidatingWebhookConfiguration: webhooks: at least one webhook is required"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nwebhooks: [x]\n",
       "webhooks[0]: expected an object"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nwebhooks:\n- clientConfig: {url: x}\n",
       "webhooks[0].name: a name is required"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nwebhooks:\n- name: a\n",
       "webhooks[0].clientConfig: required (service or url)"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nwebhooks:\n- name: a\n  clientConfig: x\n",
       "yaml:5:17: ValidatingWebhookConfiguration: webhooks[0].clientConfig: required"},
  };
  for (const auto& c : cases) {
    DesiredWebhookConfiguration d;
    std::string errors = build(c.text, d);
    BOOST_TEST(has(errors, c.want), "file:\n" << c.text << "\nerrors:\n" << errors << "\nwanted: " << c.want);
  }
}

BOOST_AUTO_TEST_CASE(the_ca_file_must_start_with_a_certificate) {
  std::string key = monomesh::net::tls::testing::newKeyPem();
  struct Case {
    std::string ca, want;
  };
  std::vector<Case> cases = {
      {"", "/etc/certs/root-cert.pem: ValidatingWebhookConfiguration: caBundle: no PEM block in the file"},
      {"just text\n", "no PEM block"},
      {key + caPem(), "PRIVATE KEY\", not a CERTIFICATE"},
      {"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n", "caBundle: invalid certificate"},
  };
  for (const auto& c : cases) {
    DesiredWebhookConfiguration d;
    std::string errors = build(kChartFile, d, c.ca);
    BOOST_TEST(has(errors, c.want), errors << "\nwanted: " << c.want);
    BOOST_TEST((!d.object.IsDefined() || d.object.IsNull()), "nothing built");
  }
}

BOOST_AUTO_TEST_CASE(current_ignores_server_defaults_but_not_galleys_fields) {
  DesiredWebhookConfiguration d;
  OwnerReference owner{"apps/v1", "Deployment", "istio-galley", "uid-1"};
  BOOST_TEST_REQUIRE(build(kChartFile, d, caPem(), owner) == "");
  // What an API server returns: its metadata, and defaults of newer versions in each webhook.
  YAML::Node current = YAML::Clone(d.object);
  current["metadata"]["resourceVersion"] = injection::text("42");
  current["metadata"]["uid"] = injection::text("vwc-uid");
  for (size_t i = 0; i < 2; ++i) {
    current["webhooks"][i]["sideEffects"] = injection::text("Unknown");
    current["webhooks"][i]["timeoutSeconds"] = injection::number(30);
    current["webhooks"][i]["rules"][0]["scope"] = injection::text("*");
  }
  BOOST_TEST(webhookConfigurationCurrent(current, d.object));

  YAML::Node rotated = YAML::Clone(current);
  rotated["webhooks"][1]["clientConfig"]["caBundle"] = injection::text("b2xkIENB");
  BOOST_TEST(!webhookConfigurationCurrent(rotated, d.object), "a different caBundle");
  YAML::Node extra = YAML::Clone(current);
  extra["webhooks"].push_back(YAML::Clone(current["webhooks"][0]));
  BOOST_TEST(!webhookConfigurationCurrent(extra, d.object), "a webhook more");
  YAML::Node unowned = YAML::Clone(current);
  unowned["metadata"].remove("ownerReferences");
  BOOST_TEST(!webhookConfigurationCurrent(unowned, d.object), "the owner missing");
  YAML::Node policy = YAML::Clone(current);
  policy["webhooks"][0]["failurePolicy"] = injection::text("Ignore");
  BOOST_TEST(!webhookConfigurationCurrent(policy, d.object), "failurePolicy changed by hand");

  // Without an owner, an owner on the object is a difference too.
  DesiredWebhookConfiguration ownerless;
  BOOST_TEST_REQUIRE(build(kChartFile, ownerless) == "");
  BOOST_TEST(!webhookConfigurationCurrent(current, ownerless.object));
}

BOOST_AUTO_TEST_CASE(reconcile_keeps_the_servers_metadata_and_takes_galleys_webhooks) {
  DesiredWebhookConfiguration d;
  BOOST_TEST_REQUIRE(build(kChartFile, d) == "");
  YAML::Node current = YAML::Load(R"({"apiVersion": "admissionregistration.k8s.io/v1beta1",
      "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "istio-galley", "resourceVersion": "7",
      "labels": {"team": "mesh"}, "ownerReferences": [{"kind": "Deployment", "name": "old"}]},
      "webhooks": [{"name": "stale"}]})");
  YAML::Node out = reconcileWebhookConfiguration(current, d.object);
  BOOST_TEST(stringValue(out["metadata"]["resourceVersion"]) == "7");
  BOOST_TEST(stringValue(out["metadata"]["labels"]["team"]) == "mesh");
  BOOST_TEST(!member(out["metadata"], "ownerReferences").IsDefined(), "Galley has no owner: none");
  BOOST_TEST(toJson(out["webhooks"]) == toJson(d.object["webhooks"]));
  BOOST_TEST(webhookConfigurationCurrent(out, d.object));
  BOOST_TEST(stringValue(current["webhooks"][0]["name"]) == "stale", "the input is not changed");
}

BOOST_AUTO_TEST_SUITE_END()
