// Kubernetes' AdmissionReview (admission.k8s.io/v1 and v1beta1) as JSON, read with protobuf's
// JSON parser into google.protobuf.Struct (so any JSON is read safely: depth and size bounded,
// errors instead of exceptions) and written back the same way, in the apiVersion it came in.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace monomesh::galley {

inline constexpr std::string_view kAdmissionV1 = "admission.k8s.io/v1";
inline constexpr std::string_view kAdmissionV1beta1 = "admission.k8s.io/v1beta1";

struct AdmissionRequest {
  std::string api_version;  // kAdmissionV1 or kAdmissionV1beta1
  std::string uid;
  std::string operation;    // CREATE, UPDATE, DELETE, CONNECT
  std::string namespace_;   // request.namespace, "" when absent
  std::string kind;         // request.kind.kind, "" when absent
  std::string name;         // request.name, "" when absent
  // request.object re-serialized as JSON text (valid YAML for the loader); nullopt when absent
  // or null (DELETE).
  std::optional<std::string> object_json;
  std::string object_api_version;  // the object's own apiVersion and kind, "" when absent
  std::string object_kind;
};

// Reads an AdmissionReview; nullopt with `error` ("body is not JSON: ...", "request.uid is
// missing") when the body is not one. A review whose object is bad is still a review.
std::optional<AdmissionRequest> parseAdmissionReview(std::string_view body, std::string& error);

struct AdmissionResponse {
  std::string uid;
  bool allowed = false;
  std::string message;  // status.message, when denied
  int code = 0;         // status.code, when denied
  std::vector<std::string> warnings;
};

// {"apiVersion": api_version, "kind": "AdmissionReview", "response": {...}}
std::string renderAdmissionReview(std::string_view api_version, const AdmissionResponse& response);

}  // namespace monomesh::galley
