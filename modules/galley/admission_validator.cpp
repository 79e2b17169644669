#include "galley/admission_validator.h"

#include "config/loader.h"

namespace monomesh::galley {

namespace {

bool inScope(const config::Schema& kind, WebhookScope scope) {
  if (!config::SchemaRegistry::isIstioGroup(kind.group)) return false;
  bool mixer = kind.group == "config.istio.io";
  return scope == WebhookScope::All || (scope == WebhookScope::Mixer) == mixer;
}

std::string groupOf(const std::string& api_version) {
  size_t slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

// Errors without their position: the object arrived as JSON re-encoded on one line, so only the
// resource, the field path and the rule mean something to the user.
std::string describe(config::ConfigError error) {
  error.position = {};
  return error.str();
}

}  // namespace

AdmissionDecision admit(const AdmissionRequest& request, WebhookScope scope, const config::SchemaRegistry& registry) {
  AdmissionDecision out;
  if (request.operation != "CREATE" && request.operation != "UPDATE") {
    out.allowed = true;  // deleting or connecting never needs the object to be valid
    out.reason = "unsupported_operation";
    return out;
  }
  if (!request.object_json) {
    out.message = "request.object is missing for " + request.operation;
    out.reason = "yaml_decode_error";
    return out;
  }
  const config::Schema* kind = registry.find(request.object_api_version, request.object_kind);
  bool istio_group = config::SchemaRegistry::isIstioGroup(groupOf(request.object_api_version));
  if ((kind && !inScope(*kind, scope)) || (!kind && !istio_group)) {
    std::string name = request.object_kind.empty() ? "(no kind)" : request.object_kind;
    out.message = "unrecognized type " + name + (request.object_api_version.empty() ? "" : " (" + request.object_api_version + ")");
    out.reason = "unknown_type";
    out.kind = kind;
    return out;
  }
  config::LoadOptions options;
  options.registry = &registry;
  options.validate = true;
  if (!request.namespace_.empty()) options.default_namespace = request.namespace_;
  config::LoadResult loaded = config::loadYaml(*request.object_json, "admission:" + request.uid, options);
  out.kind = kind;
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) out.message += (out.message.empty() ? "" : "; ") + describe(e);
    out.reason = kind ? "invalid_resource" : "unknown_type";
    return out;
  }
  if (loaded.resources.size() != 1) {
    out.message = loaded.resources.empty() ? "the object is not one Istio resource"
                                           : "expected one object, got " + std::to_string(loaded.resources.size());
    out.reason = "yaml_decode_error";
    return out;
  }
  for (const auto& note : loaded.notes) out.notes.push_back(describe(note));
  out.allowed = true;
  return out;
}

}  // namespace monomesh::galley
