// AdmissionReview JSON in and out: both apiVersions, and every kind of body that is not a review
// (a clear error, never a crash); the webhook's decisions on reviews, HTTP-level refusals.
#include <boost/test/unit_test.hpp>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "galley/admission_review.h"
#include "galley/admission_webhook.h"

using namespace monomesh::galley;

namespace {

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

std::string review(const std::string& api_version, const std::string& operation, const std::string& object,
                   const std::string& extra = "") {
  return R"({"apiVersion": ")" + api_version + R"(", "kind": "AdmissionReview", "request": {"uid": "u-1", )" +
         R"("kind": {"group": "networking.istio.io", "version": "v1alpha3", "kind": "VirtualService"}, )" +
         R"("namespace": "prod", "operation": ")" + operation + R"(", "object": )" + object + extra + "}}";
}

const std::string kGoodVs = R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
  "metadata": {"name": "reviews", "uid": "x", "generation": 1, "creationTimestamp": "2019-03-01T10:00:00Z",
               "managedFields": [{"manager": "kubectl"}]},
  "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}})";

const std::string kBadWeights = R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
  "metadata": {"name": "reviews"}, "spec": {"hosts": ["reviews"], "http": [{"route": [
    {"destination": {"host": "a"}, "weight": 40}, {"destination": {"host": "b"}, "weight": 50}]}]}})";

google::protobuf::Struct parse(const std::string& json) {
  google::protobuf::Struct s;
  BOOST_REQUIRE(google::protobuf::util::JsonStringToMessage(json, &s).ok());
  return s;
}

WebhookReply post(const std::string& body, WebhookScope scope = WebhookScope::Pilot,
                  const std::string& content_type = "application/json") {
  return serveAdmission(WebhookRequest{"POST", "/admitpilot", content_type, body}, scope);
}

const google::protobuf::Struct& responseOf(const google::protobuf::Struct& review) {
  return review.fields().at("response").struct_value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(admission_review)

BOOST_AUTO_TEST_CASE(reads_both_api_versions) {
  for (auto version : {kAdmissionV1, kAdmissionV1beta1}) {
    std::string error;
    auto r = parseAdmissionReview(review(std::string(version), "CREATE", kGoodVs), error);
    BOOST_REQUIRE_MESSAGE(r, error);
    BOOST_TEST(r->api_version == version);
    BOOST_TEST(r->uid == "u-1");
    BOOST_TEST(r->operation == "CREATE");
    BOOST_TEST(r->namespace_ == "prod");
    BOOST_TEST(r->kind == "VirtualService");
    BOOST_TEST(r->object_kind == "VirtualService");
    BOOST_TEST(r->object_api_version == "networking.istio.io/v1alpha3");
    BOOST_REQUIRE(r->object_json);
    BOOST_TEST(contains(*r->object_json, "\"reviews\""));
  }
  std::string error;
  auto deleted = parseAdmissionReview(review("admission.k8s.io/v1", "DELETE", "null"), error);
  BOOST_REQUIRE(deleted);
  BOOST_TEST(!deleted->object_json);
}

BOOST_AUTO_TEST_CASE(bodies_that_are_not_reviews_are_errors) {
  struct Case {
    std::string body, expected;
  };
  std::string deep = std::string(5000, '[') + std::string(5000, ']');
  std::string deep_object;
  for (int i = 0; i < 3000; ++i) deep_object += "{\"a\":";
  deep_object += "1" + std::string(3000, '}');
  std::vector<Case> cases = {
      {"", "not a JSON object"},
      {"not json", "not a JSON object"},
      {"[1, 2]", "not a JSON object"},
      {"\"text\"", "not a JSON object"},
      {"{\"apiVersion\": \"admission.k8s.io/v1\"", "not a JSON object"},
      {deep, "not a JSON object"},
      {deep_object, "not a JSON object"},
      {"{}", "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1, and is missing"},
      {R"({"apiVersion": 1})", "apiVersion must be a string"},
      {R"({"apiVersion": "admission.k8s.io/v2", "kind": "AdmissionReview"})", "got \"admission.k8s.io/v2\""},
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": "Pod"})", "kind must be AdmissionReview, got \"Pod\""},
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"})", "request is missing"},
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": []})", "request is missing"},
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE"}})",
       "request.uid is missing"},
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 7}})",
       "request.uid must be a string"},
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u"}})",
       "request.operation is missing"},
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "operation": "CREATE", "kind": {"kind": false}}})",
       "request.kind.kind must be a string"},
      {"{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\xff\"}", ""},  // either way refused
  };
  for (const auto& c : cases) {
    std::string error;
    BOOST_TEST(!parseAdmissionReview(c.body, error), c.body.substr(0, 80));
    BOOST_TEST(contains(error, c.expected), error << " (expected " << c.expected << ")");
  }
}

BOOST_AUTO_TEST_CASE(answers_in_the_reviews_own_api_version) {
  AdmissionResponse denied{"u-1", false, "VirtualService prod/r: spec.hosts: bad", 400, {}};
  auto v1 = parse(renderAdmissionReview(kAdmissionV1, denied));
  BOOST_TEST(v1.fields().at("apiVersion").string_value() == "admission.k8s.io/v1");
  BOOST_TEST(v1.fields().at("kind").string_value() == "AdmissionReview");
  const auto& response = responseOf(v1);
  BOOST_TEST(response.fields().at("uid").string_value() == "u-1");
  BOOST_TEST(response.fields().at("allowed").bool_value() == false);
  BOOST_TEST(response.fields().at("status").struct_value().fields().at("message").string_value() == denied.message);
  BOOST_TEST(response.fields().at("status").struct_value().fields().at("code").number_value() == 400);
  auto beta = parse(renderAdmissionReview(kAdmissionV1beta1, AdmissionResponse{"u-2", true, "", 0, {"a note"}}));
  BOOST_TEST(beta.fields().at("apiVersion").string_value() == "admission.k8s.io/v1beta1");
  BOOST_TEST(responseOf(beta).fields().at("allowed").bool_value());
  BOOST_TEST(!responseOf(beta).fields().contains("status"));
  BOOST_TEST(responseOf(beta).fields().at("warnings").list_value().values(0).string_value() == "a note");
}

BOOST_AUTO_TEST_CASE(webhook_decisions) {
  struct Case {
    std::string body;
    WebhookScope scope;
    bool allowed;
    std::string message;
  };
  std::string mixer_rule = R"({"apiVersion": "config.istio.io/v1alpha2", "kind": "rule", "metadata": {"name": "r"},
                               "spec": {"actions": [{"handler": "h", "instances": ["i"]}]}})";
  std::string pod = R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})";
  std::string quoted_label = R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
    "metadata": {"name": "r"}, "spec": {"host": "r", "subsets": [{"name": "v1", "labels": {"version": 1}}]}})";
  std::vector<Case> cases = {
      {review("admission.k8s.io/v1", "CREATE", kGoodVs), WebhookScope::Pilot, true, ""},
      {review("admission.k8s.io/v1", "UPDATE", kGoodVs), WebhookScope::All, true, ""},
      {review("admission.k8s.io/v1", "CREATE", kBadWeights), WebhookScope::Pilot, false,
       "VirtualService prod/reviews: spec.http[0].route: weights sum to 90, must be 100"},
      {review("admission.k8s.io/v1", "CREATE", quoted_label), WebhookScope::Pilot, false, "quote it"},
      {review("admission.k8s.io/v1", "DELETE", "null"), WebhookScope::Pilot, true, ""},
      {review("admission.k8s.io/v1", "DELETE", kBadWeights), WebhookScope::Pilot, true, ""},
      {review("admission.k8s.io/v1", "CREATE", "null"), WebhookScope::Pilot, false, "request.object is missing"},
      {review("admission.k8s.io/v1", "CREATE", "[1]"), WebhookScope::Pilot, false, "unrecognized type (no kind)"},
      {review("admission.k8s.io/v1", "CREATE", pod), WebhookScope::All, false, "unrecognized type Pod (v1)"},
      {review("admission.k8s.io/v1", "CREATE", mixer_rule), WebhookScope::Pilot, false, "unrecognized type rule"},
      {review("admission.k8s.io/v1", "CREATE", mixer_rule), WebhookScope::Mixer, true, ""},
      {review("admission.k8s.io/v1", "CREATE", kGoodVs), WebhookScope::Mixer, false, "unrecognized type VirtualService"},
      {review("admission.k8s.io/v1", "CREATE",
              R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "Widget", "metadata": {"name": "w"}})"),
       WebhookScope::Pilot, false, "unknown kind \"Widget\" in networking.istio.io"},
      {review("admission.k8s.io/v1", "CREATE",
              R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService", "metadata": {"name": "r"},
                  "spec": {"hosts": ["r"], "bogus": 1}})"),
       WebhookScope::Pilot, false, "bogus"},
  };
  for (const auto& c : cases) {
    WebhookReply reply = post(c.body, c.scope);
    BOOST_TEST(reply.status == 200u, reply.body);
    BOOST_TEST(reply.content_type == "application/json");
    auto response = responseOf(parse(reply.body));
    BOOST_TEST(response.fields().at("uid").string_value() == "u-1");
    BOOST_TEST(response.fields().at("allowed").bool_value() == c.allowed, c.body.substr(0, 200) << " -> " << reply.body);
    if (!c.allowed) {
      std::string message = response.fields().at("status").struct_value().fields().at("message").string_value();
      BOOST_TEST(contains(message, c.message), message << " (expected " << c.message << ")");
    }
  }
}

BOOST_AUTO_TEST_CASE(http_level_refusals) {
  BOOST_TEST(post(review("admission.k8s.io/v1", "CREATE", kGoodVs), WebhookScope::Pilot, "text/yaml").status == 415u);
  BOOST_TEST(post(review("admission.k8s.io/v1", "CREATE", kGoodVs), WebhookScope::Pilot, "").status == 415u);
  BOOST_TEST(post(review("admission.k8s.io/v1", "CREATE", kGoodVs), WebhookScope::Pilot,
                  "application/json; charset=utf-8").status == 200u);
  WebhookReply empty = post("");
  BOOST_TEST(empty.status == 400u);
  BOOST_TEST(contains(empty.body, "no body"));
  WebhookReply garbage = post("{\"apiVersion\": ");
  BOOST_TEST(garbage.status == 400u);
  BOOST_TEST(contains(garbage.body, "could not decode body"));
}

BOOST_AUTO_TEST_SUITE_END()
