// /inject over Galley's webhook: HTTP-level refusals (415, 400) for anything that is not an
// AdmissionReview, deep nesting included; reviews answered as the injection library decides;
// the config files read at start (errors with file:line) and followed afterwards (a broken change
// keeps the previous injector). The HTTPS round trip is in integration/galley_inject_test.py.
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "galley/injection/json_node.h"
#include "galley/injection_webhook.h"
#include "temp_dir.h"

using namespace monomesh::galley;
using monomesh::testing::TempDir;

namespace {

const std::string kPod =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"},)"
    R"("spec":{"containers":[{"name":"web","image":"nginx"}]}})";

std::string review(const std::string& object, const std::string& api_version = "admission.k8s.io/v1") {
  return R"({"apiVersion":")" + api_version + R"(","kind":"AdmissionReview","request":{"uid":"u-1",)"
         R"("kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":)" +
         object + "}}";
}

WebhookRequest post(std::string body, std::string content_type = "application/json") {
  return WebhookRequest{"POST", "/inject", std::move(content_type), std::move(body)};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

YAML::Node response(const WebhookReply& reply) { return YAML::Load(reply.body)["response"]; }

// Runs the context until `done` or about two seconds.
template <class Pred>
bool runUntil(boost::asio::io_context& io, Pred done) {
  for (int i = 0; i < 200 && !done(); ++i) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(injection_webhook)

BOOST_AUTO_TEST_CASE(requests_that_are_not_reviews_are_refused_with_http_errors) {
  boost::asio::io_context io;
  InjectionWebhook hook(io, {});
  BOOST_TEST_REQUIRE(hook.load() == "");
  std::string deep(5000, '[');
  struct Case {
    WebhookRequest request;
    unsigned status;
    std::string text;
  };
  std::vector<Case> cases = {
      {post(review(kPod), "application/yaml"), 415, "want application/json"},
      {post(""), 400, "no body"},
      {post("{\"apiVersion\": "), 400, "could not decode body"},
      {post(std::string("\x16\x03\x01\x00\x05hello\xff\xfe", 12)), 400, "could not decode body"},
      {post("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}"), 400, "apiVersion must be"},
      {post(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})"), 400, "request is missing"},
      {post(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":)" +
            deep + "}}"),
       400, "could not decode body"},
  };
  for (const auto& c : cases) {
    WebhookReply reply = hook.serve(c.request);
    BOOST_TEST(reply.status == c.status, c.request.body.substr(0, 80));
    BOOST_TEST(has(reply.body, c.text), reply.body);
    BOOST_TEST(has(reply.content_type, "text/plain"));
  }
}

BOOST_AUTO_TEST_CASE(a_pod_gets_a_patch_in_the_reviews_api_version) {
  boost::asio::io_context io;
  InjectionWebhook hook(io, {});
  BOOST_TEST_REQUIRE(hook.load() == "");
  for (std::string version : {"admission.k8s.io/v1", "admission.k8s.io/v1beta1"}) {
    WebhookReply reply = hook.serve(post(review(kPod, version)));
    BOOST_TEST(reply.status == 200u);
    BOOST_TEST(reply.content_type == "application/json");
    BOOST_TEST(injection::stringValue(YAML::Load(reply.body)["apiVersion"]) == version);
    YAML::Node r = response(reply);
    BOOST_TEST(injection::stringValue(r["uid"]) == "u-1");
    BOOST_TEST(injection::toJson(r["allowed"]) == "true");
    BOOST_TEST(injection::stringValue(r["patchType"]) == "JSONPatch");
    BOOST_TEST(!injection::stringValue(r["patch"]).empty());
  }
  // Opted out, host networking, or not a Pod: allowed, no patch.
  for (std::string pod :
       {std::string(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","annotations":{"sidecar.istio.io/inject":"false"}},"spec":{"containers":[{"name":"a","image":"x"}]}})"),
        std::string(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"h"},"spec":{"hostNetwork":true,"containers":[{"name":"a","image":"x"}]}})")}) {
    YAML::Node r = response(hook.serve(post(review(pod))));
    BOOST_TEST(injection::toJson(r["allowed"]) == "true");
    BOOST_TEST(!injection::member(r, "patch").IsDefined(), pod);
  }
  // Invalid injection settings on the pod deny it with the reason.
  YAML::Node denied = response(hook.serve(post(review(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","annotations":{"traffic.sidecar.istio.io/includeInboundPorts":"80,http"}},"spec":{"containers":[{"name":"a","image":"x"}]}})"))));
  BOOST_TEST(injection::toJson(denied["allowed"]) == "false");
  BOOST_TEST(has(injection::stringValue(denied["status"]["message"]), "\"http\" is not a port"));
}

BOOST_AUTO_TEST_CASE(config_files_are_read_at_start_and_followed) {
  TempDir dir;
  std::string config = dir.write("config", "policy: disabled\n");
  std::string mesh = dir.write("mesh", "defaultConfig: {discoveryAddress: pilot.example:15010}\n");
  boost::asio::io_context io;
  InjectionWebhookOptions options{config, mesh, std::chrono::milliseconds(20)};
  InjectionWebhook hook(io, options);
  BOOST_TEST_REQUIRE(hook.load() == "");
  BOOST_TEST(int(hook.injector().config().policy) == int(injection::InjectionPolicy::Disabled));
  hook.startReloading();
  // Policy disabled: a pod without the annotation is left alone.
  BOOST_TEST(!injection::member(response(hook.serve(post(review(kPod)))), "patch").IsDefined());

  dir.write("config", "policy: enabled\n");
  BOOST_TEST_REQUIRE(runUntil(io, [&] { return hook.reloads() == 1; }));
  BOOST_TEST(injection::member(response(hook.serve(post(review(kPod)))), "patch").IsDefined());

  dir.write("config", "policy: sometimes\n");  // broken: the enabled injector stays
  BOOST_TEST_REQUIRE(runUntil(io, [&] { return hook.reloadErrors() == 1; }));
  BOOST_TEST(int(hook.injector().config().policy) == int(injection::InjectionPolicy::Enabled));
  BOOST_TEST(injection::member(response(hook.serve(post(review(kPod)))), "patch").IsDefined());
  hook.stop();
}

BOOST_AUTO_TEST_CASE(bad_files_fail_the_load_with_their_position) {
  TempDir dir;
  boost::asio::io_context io;
  std::string bad = dir.write("config", "policy: enabled\nbogus: 1\n");
  InjectionWebhook a(io, {bad, "", std::chrono::milliseconds(1000)});
  BOOST_TEST(has(a.load(), bad + ":2:1"), a.load());
  InjectionWebhook b(io, {"", dir.file("missing-mesh"), std::chrono::milliseconds(1000)});
  BOOST_TEST(has(b.load(), "missing-mesh"), b.load());
  std::string mesh = dir.write("mesh", "defaultConfig: {concurrency: many}\n");
  InjectionWebhook c(io, {"", mesh, std::chrono::milliseconds(1000)});
  BOOST_TEST(has(c.load(), mesh + ":1:"), c.load());
}

BOOST_AUTO_TEST_SUITE_END()
