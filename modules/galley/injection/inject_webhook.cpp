#include "galley/injection/inject_webhook.h"

#include "galley/injection/json_node.h"
#include "galley/injection/json_patch.h"

namespace monomesh::galley::injection {

namespace {

YAML::Node answer(const std::string& api_version, const std::string& uid, bool allowed) {
  YAML::Node review;
  review["apiVersion"] = text(api_version.empty() ? "admission.k8s.io/v1beta1" : api_version);
  review["kind"] = text("AdmissionReview");
  YAML::Node response;
  if (!uid.empty()) response["uid"] = text(uid);
  response["allowed"] = boolean(allowed);
  review["response"] = response;
  return review;
}

InjectionReview refuse(const std::string& api_version, const std::string& uid, ReviewOutcome outcome, const std::string& message) {
  YAML::Node review = answer(api_version, uid, false);
  review["response"]["status"]["message"] = text(message);
  return InjectionReview{toJson(review), outcome, message};
}

}  // namespace

InjectionReview reviewInjection(std::string_view request_body, const Injector& injector) {
  if (request_body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return refuse("", "", ReviewOutcome::BadRequest, "no body found");
  YAML::Node review;
  try {
    review = YAML::Load(std::string(request_body));
  } catch (const YAML::Exception& e) {
    return refuse("", "", ReviewOutcome::BadRequest, "could not decode the AdmissionReview: " + e.msg);
  }
  if (!review.IsMap()) return refuse("", "", ReviewOutcome::BadRequest, "could not decode the AdmissionReview: not a JSON object");
  const std::string api_version = stringValue(member(review, "apiVersion"));
  const YAML::Node request = member(review, "request");
  if (!request.IsMap()) return refuse(api_version, "", ReviewOutcome::BadRequest, "the AdmissionReview has no request");
  const std::string uid = stringValue(member(request, "uid"));
  const YAML::Node kind = member(request, "kind");
  if (kind.IsMap() && !(stringValue(member(kind, "kind")) == "Pod" && stringValue(member(kind, "group")).empty())) {
    return InjectionReview{toJson(answer(api_version, uid, true)), ReviewOutcome::Skipped,
                           "not a Pod (" + stringValue(member(kind, "kind")) + "); nothing injected"};
  }
  const YAML::Node pod = member(request, "object");
  if (!pod.IsMap()) return refuse(api_version, uid, ReviewOutcome::BadRequest, "the request carries no Pod object");

  const std::string request_namespace = stringValue(member(request, "namespace"));
  InjectResult result = injector.injectPod(pod, request_namespace);
  if (!result.errors.empty()) {
    std::string message = "sidecar injection failed:";
    for (const auto& e : result.errors) message += " " + (e.path.empty() ? "" : e.path + ": ") + e.message + ";";
    message.pop_back();
    return refuse(api_version, uid, ReviewOutcome::Denied, message);
  }
  const YAML::Node meta = member(pod, "metadata");
  std::string name = stringValue(member(meta, "name"));
  if (name.empty()) name = stringValue(member(meta, "generateName")) + "*";
  std::string who = "Pod " + request_namespace + "/" + name;
  if (result.action != InjectAction::Injected) {
    return InjectionReview{toJson(answer(api_version, uid, true)), ReviewOutcome::Skipped,
                           result.skipped.empty() ? who + ": skipped" : result.skipped.front()};
  }
  YAML::Node out = answer(api_version, uid, true);
  out["response"]["patch"] = text(base64Bytes(toJson(createJsonPatch(pod, result.object))));
  out["response"]["patchType"] = text("JSONPatch");
  return InjectionReview{toJson(out), ReviewOutcome::Injected, who + ": sidecar injected"};
}

}  // namespace monomesh::galley::injection
