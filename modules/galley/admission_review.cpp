#include "galley/admission_review.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

namespace monomesh::galley {

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// The member `key` of `object` when it is a string; nullopt when absent; `error` when it is
// something else.
std::optional<std::string> stringMember(const Struct& object, const char* key, const std::string& where,
                                        std::string& error) {
  auto it = object.fields().find(key);
  if (it == object.fields().end() || it->second.kind_case() == Value::kNullValue) return std::nullopt;
  if (it->second.kind_case() != Value::kStringValue) {
    error = where + key + " must be a string";
    return std::nullopt;
  }
  return it->second.string_value();
}

const Struct* objectMember(const Struct& object, const char* key) {
  auto it = object.fields().find(key);
  if (it == object.fields().end() || it->second.kind_case() != Value::kStructValue) return nullptr;
  return &it->second.struct_value();
}

}  // namespace

std::optional<AdmissionRequest> parseAdmissionReview(std::string_view body, std::string& error) {
  Struct review;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &review);
  if (!status.ok()) {
    std::string why(status.message());
    error = "body is not a JSON object: " + why.substr(0, why.find('\n'));  // the parser adds a caret line
    return std::nullopt;
  }
  AdmissionRequest out;
  auto api_version = stringMember(review, "apiVersion", "", error);
  auto kind = stringMember(review, "kind", "", error);
  if (!error.empty()) return std::nullopt;
  if (!api_version || (*api_version != kAdmissionV1 && *api_version != kAdmissionV1beta1)) {
    error = "apiVersion must be " + std::string(kAdmissionV1) + " or " + std::string(kAdmissionV1beta1) +
            (api_version ? ", got \"" + *api_version + "\"" : ", and is missing");
    return std::nullopt;
  }
  if (!kind || *kind != "AdmissionReview") {
    error = "kind must be AdmissionReview" + (kind ? ", got \"" + *kind + "\"" : std::string(", and is missing"));
    return std::nullopt;
  }
  out.api_version = *api_version;
  const Struct* request = objectMember(review, "request");
  if (!request) {
    error = "request is missing or not an object";
    return std::nullopt;
  }
  auto uid = stringMember(*request, "uid", "request.", error);
  auto operation = stringMember(*request, "operation", "request.", error);
  auto namespace_ = stringMember(*request, "namespace", "request.", error);
  auto name = stringMember(*request, "name", "request.", error);
  std::optional<std::string> request_kind;
  if (const Struct* k = objectMember(*request, "kind")) request_kind = stringMember(*k, "kind", "request.kind.", error);
  if (!error.empty()) return std::nullopt;
  if (!uid || uid->empty()) {
    error = "request.uid is missing";
    return std::nullopt;
  }
  if (!operation || operation->empty()) {
    error = "request.operation is missing";
    return std::nullopt;
  }
  out.uid = *uid;
  out.operation = *operation;
  out.namespace_ = namespace_.value_or("");
  out.name = name.value_or("");
  out.kind = request_kind.value_or("");
  auto object = request->fields().find("object");
  if (object != request->fields().end() && object->second.kind_case() != Value::kNullValue) {
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(object->second, &json).ok()) {
      error = "request.object cannot be re-encoded";
      return std::nullopt;
    }
    out.object_json = std::move(json);
    if (object->second.kind_case() == Value::kStructValue) {
      std::string ignored;  // a non-string apiVersion or kind is the loader's to report
      out.object_api_version = stringMember(object->second.struct_value(), "apiVersion", "", ignored).value_or("");
      out.object_kind = stringMember(object->second.struct_value(), "kind", "", ignored).value_or("");
    }
  }
  return out;
}

std::string renderAdmissionReview(std::string_view api_version, const AdmissionResponse& response) {
  Struct review;
  auto& fields = *review.mutable_fields();
  fields["apiVersion"].set_string_value(std::string(api_version));
  fields["kind"].set_string_value("AdmissionReview");
  auto& out = *fields["response"].mutable_struct_value()->mutable_fields();
  out["uid"].set_string_value(response.uid);
  out["allowed"].set_bool_value(response.allowed);
  if (!response.allowed || !response.message.empty()) {
    auto& status = *out["status"].mutable_struct_value()->mutable_fields();
    status["message"].set_string_value(response.message);
    if (response.code != 0) status["code"].set_number_value(response.code);
  }
  if (!response.warnings.empty()) {
    auto& list = *out["warnings"].mutable_list_value();
    for (const auto& w : response.warnings) list.add_values()->set_string_value(w);
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(review, &json);
  return json;
}

}  // namespace monomesh::galley
