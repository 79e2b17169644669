// The /inject mutating admission webhook as a pure function: an AdmissionReview (JSON) in, the
// AdmissionReview answer out, as Istio 1.1's sidecar injector answered it. The HTTPS server
// (Galley) checks the method and Content-Type (application/json), passes the body here and
// sends `body` back with status 200 and Content-Type application/json.
#pragma once
#include <string>
#include <string_view>

#include "galley/injection/injector.h"

namespace monomesh::galley::injection {

enum class ReviewOutcome {
  Injected,    // allowed, with a JSONPatch adding the sidecar
  Skipped,     // allowed, unchanged (policy, hostNetwork, already injected, not a Pod)
  Denied,      // not allowed: the pod's injection settings are invalid (1.1 rejected such pods)
  BadRequest,  // not an AdmissionReview with a request (answered, not allowed, no uid)
};

struct InjectionReview {
  std::string body;      // {"apiVersion","kind":"AdmissionReview","response":{uid, allowed, patch, patchType, status}}
  ReviewOutcome outcome = ReviewOutcome::BadRequest;
  std::string detail;    // one line for the log: what was injected or skipped, or why not
};

// The answer echoes the request's apiVersion (admission.k8s.io/v1beta1 or v1) and uid. The
// patch (RFC 6902, base64 in `patch`, patchType JSONPatch) turns the Pod as sent into the
// injected Pod; the request's namespace stands in when the Pod has none yet.
InjectionReview reviewInjection(std::string_view request_body, const Injector& injector);

}  // namespace monomesh::galley::injection
