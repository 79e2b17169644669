// The validating webhook's decision for one AdmissionRequest, as Galley 1.1's admitPilot and
// admitMixer made it: CREATE and UPDATE are validated (the object goes through the same loader
// and Istio 1.1 rules as a config file); every other operation (DELETE, CONNECT) is allowed.
// Kinds outside the endpoint's groups are refused as "unrecognized type".
#pragma once
#include <string>
#include <vector>

#include "config/schema.h"
#include "galley/admission_review.h"

namespace monomesh::galley {

// Which kinds an endpoint admits: /admitpilot (networking, authentication, rbac), /admitmixer
// (config.istio.io), /validate (all of Istio's groups).
enum class WebhookScope { Pilot, Mixer, All };

struct AdmissionDecision {
  bool allowed = false;
  std::string message;  // every error, "; "-joined: "VirtualService default/r: spec.http[0]...: ..."
  std::vector<std::string> notes;  // accepted with a remark (deprecated kind, Mixer not applied)
  // Galley 1.1's metric reasons: "" when allowed and validated, else unsupported_operation,
  // yaml_decode_error, unknown_type or invalid_resource.
  std::string reason;
  const config::Schema* kind = nullptr;  // when the object's kind is known
};

AdmissionDecision admit(const AdmissionRequest& request, WebhookScope scope,
                        const config::SchemaRegistry& registry = config::SchemaRegistry::builtin());

}  // namespace monomesh::galley
