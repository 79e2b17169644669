#include "galley/admission_webhook.h"

#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::galley {

namespace {

struct WebhookMetrics {
  observe::Family<observe::Counter>& passed = observe::MetricsRegistry::global().counter(
      "galley_validation_passed", "Resources the validating webhook admitted", {"group", "version", "resource"});
  observe::Family<observe::Counter>& failed = observe::MetricsRegistry::global().counter(
      "galley_validation_failed", "Resources the validating webhook refused or did not validate",
      {"group", "version", "resource", "reason"});
  observe::Family<observe::Counter>& http_error = observe::MetricsRegistry::global().counter(
      "galley_validation_http_error", "Webhook requests answered with an HTTP error", {"status"});
};
WebhookMetrics& metrics() {
  static WebhookMetrics m;
  return m;
}

WebhookReply httpError(unsigned status, std::string message) {
  metrics().http_error.with({std::to_string(status)}).inc();
  observe::logScope("galley").warn("webhook request refused ({}): {}", status, message);
  return textReply(status, std::move(message));
}

void count(const AdmissionRequest& request, const AdmissionDecision& decision) {
  std::string group, version, resource;
  if (decision.kind) {
    group = decision.kind->group;
    version = decision.kind->version;
    resource = decision.kind->plural;
  } else {
    size_t slash = request.object_api_version.find('/');
    group = slash == std::string::npos ? "" : request.object_api_version.substr(0, slash);
    version = request.object_api_version.substr(slash == std::string::npos ? 0 : slash + 1);
    resource = request.object_kind;
  }
  if (decision.reason.empty()) metrics().passed.with({group, version, resource}).inc();
  else metrics().failed.with({group, version, resource, decision.reason}).inc();
}

}  // namespace

AdmissionRead readAdmissionRequest(const WebhookRequest& request) {
  AdmissionRead out;
  if (!isJsonContentType(request.content_type)) {
    out.status = 415;
    out.reason = "invalid Content-Type \"" + request.content_type + "\", want application/json";
  } else if (request.body.empty()) {
    out.status = 400;
    out.reason = "no body: expected an AdmissionReview";
  } else if (std::string error; !(out.review = parseAdmissionReview(request.body, error))) {
    out.status = 400;
    out.reason = "could not decode body: " + error;
  }
  return out;
}

WebhookReply serveAdmission(const WebhookRequest& request, WebhookScope scope) {
  AdmissionRead read = readAdmissionRequest(request);
  if (!read.review) return httpError(read.status, read.reason);
  const AdmissionRequest* review = &*read.review;
  AdmissionDecision decision = admit(*review, scope);
  count(*review, decision);
  AdmissionResponse response;
  response.uid = review->uid;
  response.allowed = decision.allowed;
  response.warnings = decision.notes;
  if (!decision.allowed) {
    response.message = decision.message;
    response.code = 400;
    observe::logScope("galley").info("webhook {} denied {} {} ({}): {}", request.path, review->operation,
                                     review->object_kind, review->uid, decision.message);
  }
  return WebhookReply{200, "application/json", renderAdmissionReview(review->api_version, response)};
}

void mountAdmissionWebhooks(WebhookServer& server) {
  server.handle("/admitpilot", [](const WebhookRequest& r) { return serveAdmission(r, WebhookScope::Pilot); });
  server.handle("/admitmixer", [](const WebhookRequest& r) { return serveAdmission(r, WebhookScope::Mixer); });
  server.handle("/validate", [](const WebhookRequest& r) { return serveAdmission(r, WebhookScope::All); });
}

}  // namespace monomesh::galley
