// The /inject AdmissionReview answer: the patch turns the Pod as sent into the injected Pod;
// skipped pods are allowed unchanged; invalid settings deny; bad requests get a clear answer.
#include <openssl/evp.h>

#include <boost/test/unit_test.hpp>

#include "galley/injection/inject_webhook.h"
#include "galley/injection/json_patch.h"
#include "injection_test_util.h"

using namespace monomesh::galley::injection;
using namespace monomesh::galley::injection::testing;

namespace {

std::string base64Decode(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()), int(in.size()));
  BOOST_TEST_REQUIRE(n >= 0);
  size_t pad = in.size() >= 2 ? size_t(in[in.size() - 1] == '=') + size_t(in[in.size() - 2] == '=') : 0;
  out.resize(size_t(n) - pad);
  return out;
}

const char* const kPodJson =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"details-v1-5d7b9f-","labels":{"app":"details","version":"v1"}},)"
    R"("spec":{"containers":[{"name":"details","image":"istio/examples-bookinfo-details-v1:1.10.1","ports":[{"containerPort":9080,"protocol":"TCP"}]}],)"
    R"("serviceAccountName":"bookinfo-details","volumes":[{"name":"token","secret":{"secretName":"t"}}]}})";

std::string review(const std::string& pod, const std::string& api_version = "admission.k8s.io/v1beta1") {
  return R"({"apiVersion":")" + api_version + R"(","kind":"AdmissionReview","request":{"uid":"0df28fbd-5f5f-11e8-bc74-36e6bb280816",)"
         R"("kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},)"
         R"("namespace":"bookinfo","operation":"CREATE","object":)" + pod + "}}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(inject_webhook)

BOOST_AUTO_TEST_CASE(patch_applied_to_the_pod_gives_the_injected_pod) {
  Injector injector = chartInjector();
  InjectionReview r = reviewInjection(review(kPodJson), injector);
  BOOST_TEST(int(r.outcome) == int(ReviewOutcome::Injected), r.detail);
  BOOST_TEST(r.detail == "Pod bookinfo/details-v1-5d7b9f-*: sidecar injected");
  YAML::Node answer = YAML::Load(r.body);
  BOOST_TEST(stringValue(answer["apiVersion"]) == "admission.k8s.io/v1beta1");
  BOOST_TEST(stringValue(answer["kind"]) == "AdmissionReview");
  BOOST_TEST(stringValue(answer["response"]["uid"]) == "0df28fbd-5f5f-11e8-bc74-36e6bb280816");
  BOOST_TEST(toJson(answer["response"]["allowed"]) == "true");
  BOOST_TEST(stringValue(answer["response"]["patchType"]) == "JSONPatch");

  YAML::Node patch = YAML::Load(base64Decode(stringValue(answer["response"]["patch"])));
  std::vector<std::string> paths;
  for (const auto& op : patch) paths.push_back(stringValue(op["op"]) + " " + stringValue(op["path"]));
  BOOST_TEST(paths == (std::vector<std::string>{"add /metadata/annotations", "add /spec/containers/-", "add /spec/volumes/-",
                                                "add /spec/volumes/-", "add /spec/initContainers"}),
             boost::test_tools::per_element());

  YAML::Node pod = YAML::Load(kPodJson);
  YAML::Node patched = YAML::Clone(pod);
  auto err = applyJsonPatch(patched, patch);
  BOOST_TEST(!err.has_value(), err.value_or(""));
  InjectResult expected = injector.injectPod(pod, "bookinfo");
  BOOST_TEST(jsonEqual(patched, expected.object));
  BOOST_TEST(stringValue(named(patched["spec"]["volumes"], "istio-certs")["secret"]["secretName"]) == "istio.bookinfo-details");
  // The request's namespace names the service cluster when the pod has none yet.
  BOOST_TEST(argAfter(named(patched["spec"]["containers"], "istio-proxy")["args"], "--service-cluster") == "details.bookinfo");
}

BOOST_AUTO_TEST_CASE(admission_v1_is_answered_in_kind) {
  InjectionReview r = reviewInjection(review(kPodJson, "admission.k8s.io/v1"), chartInjector());
  BOOST_TEST(stringValue(YAML::Load(r.body)["apiVersion"]) == "admission.k8s.io/v1");
}

BOOST_AUTO_TEST_CASE(skipped_pods_are_allowed_unchanged) {
  std::string opted_out = kPodJson;
  opted_out.replace(opted_out.find("\"labels\""), 8, R"("annotations":{"sidecar.istio.io/inject":"false"},"labels")");
  std::string host = kPodJson;
  host.replace(host.find("\"serviceAccountName\""), 20, R"("hostNetwork":true,"serviceAccountName")");
  for (const auto& pod : {opted_out, host}) {
    InjectionReview r = reviewInjection(review(pod), chartInjector());
    BOOST_TEST(int(r.outcome) == int(ReviewOutcome::Skipped));
    BOOST_TEST(r.body == R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"0df28fbd-5f5f-11e8-bc74-36e6bb280816","allowed":true}})");
  }
  std::string deployment = review(kPodJson);
  deployment.replace(deployment.find(R"("kind":"Pod"})"), 13, R"("kind":"Deployment"})");
  BOOST_TEST(int(reviewInjection(deployment, chartInjector()).outcome) == int(ReviewOutcome::Skipped));
}

BOOST_AUTO_TEST_CASE(invalid_settings_deny_the_pod) {
  std::string bad = kPodJson;
  bad.replace(bad.find("\"labels\""), 8, R"("annotations":{"traffic.sidecar.istio.io/includeInboundPorts":"80,http"},"labels")");
  InjectionReview r = reviewInjection(review(bad), chartInjector());
  BOOST_TEST(int(r.outcome) == int(ReviewOutcome::Denied));
  YAML::Node answer = YAML::Load(r.body);
  BOOST_TEST(toJson(answer["response"]["allowed"]) == "false");
  BOOST_TEST(stringValue(answer["response"]["status"]["message"]) ==
             "sidecar injection failed: metadata.annotations.traffic.sidecar.istio.io/includeInboundPorts: \"http\" is not a port (0-65535)");
}

BOOST_AUTO_TEST_CASE(bad_requests_get_an_answer_not_a_crash) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no body found"},
      {"   \n", "no body found"},
      {"{\"apiVersion\": ", "could not decode the AdmissionReview"},
      {"[1, 2]", "not a JSON object"},
      {"{\"kind\":\"AdmissionReview\"}", "has no request"},
      {R"({"request":{"uid":"u"}})", "carries no Pod object"},
      {R"({"request":{"uid":"u","object":"pod"}})", "carries no Pod object"},
      {std::string(300, '[') + std::string(300, ']'), "not a JSON object"},
      {std::string(5000, '['), "could not decode"},
  };
  for (const auto& [body, expected] : cases) {
    BOOST_TEST_CONTEXT(body.substr(0, 40)) {
      InjectionReview r = reviewInjection(body, chartInjector());
      BOOST_TEST(int(r.outcome) == int(ReviewOutcome::BadRequest));
      YAML::Node answer = YAML::Load(r.body);
      BOOST_TEST(toJson(answer["response"]["allowed"]) == "false");
      BOOST_TEST(stringValue(answer["response"]["status"]["message"]).find(expected) != std::string::npos,
                 stringValue(answer["response"]["status"]["message"]));
    }
  }
  InjectionReview with_uid = reviewInjection(R"({"request":{"uid":"u"}})", chartInjector());
  BOOST_TEST(stringValue(YAML::Load(with_uid.body)["response"]["uid"]) == "u");
}

BOOST_AUTO_TEST_SUITE_END()
