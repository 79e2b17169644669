// Galley's validating admission webhooks over HTTP: /admitpilot (networking, authentication and
// rbac kinds), /admitmixer (config.istio.io) and /validate (all of them). A request must be a
// POST of application/json carrying an AdmissionReview (v1 or v1beta1); one that is not gets a
// 4xx with a plain-text reason. A review is answered in its own apiVersion with the decision of
// admission_validator.h and counted in Galley 1.1's galley_validation_* metrics.
#pragma once
#include "galley/admission_validator.h"
#include "galley/webhook_server.h"

namespace monomesh::galley {

// What every admission webhook (validating and /inject) checks before deciding: an
// application/json body holding an AdmissionReview. The review, or the HTTP status (415, 400) and
// the reason to refuse the request with.
struct AdmissionRead {
  std::optional<AdmissionRequest> review;
  unsigned status = 0;
  std::string reason;
};
AdmissionRead readAdmissionRequest(const WebhookRequest& request);

WebhookReply serveAdmission(const WebhookRequest& request, WebhookScope scope);

void mountAdmissionWebhooks(WebhookServer& server);

}  // namespace monomesh::galley
