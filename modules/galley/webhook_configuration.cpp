#include "galley/webhook_configuration.h"

#include "galley/injection/json_node.h"
#include "net/tls/pem.h"

namespace monomesh::galley {

using injection::boolean;
using injection::jsonEqual;
using injection::jsonKind;
using injection::JsonKind;
using injection::member;
using injection::stringValue;
using injection::text;

namespace {

constexpr const char* kKind = "ValidatingWebhookConfiguration";

struct Checker {
  const std::string& file;
  config::ConfigErrors errors;

  void fail(const YAML::Node& at, const std::string& path, const std::string& message) {
    config::SourcePosition position{file, 0, 0};
    if (at.IsDefined() && !at.Mark().is_null()) {
      position.line = at.Mark().line + 1;
      position.column = at.Mark().column + 1;
    }
    errors.push_back(config::ConfigError{position, kKind, path, message});
  }
};

// 1.1's loadCaCertPem: the bundle starts with a PEM CERTIFICATE that parses.
std::optional<std::string> checkCaBundle(const std::string& pem) {
  size_t begin = pem.find("-----BEGIN ");
  if (begin == std::string::npos) return "no PEM block in the file";
  if (pem.compare(begin, 27, "-----BEGIN CERTIFICATE-----") != 0) {
    size_t end = pem.find("-----", begin + 11);
    return "the first PEM block is \"" + pem.substr(begin + 11, end == std::string::npos ? 20 : end - begin - 11) +
           "\", not a CERTIFICATE";
  }
  std::string error;
  auto certificates = net::tls::readPemCertificates(pem, error);
  if (!error.empty()) return "invalid certificate: " + error;
  if (certificates.empty()) return "no certificate in the file";
  return std::nullopt;
}

// `desired` is contained in `current`: same scalars, maps with at least desired's keys, lists of
// the same length whose items contain desired's.
bool contains(const YAML::Node& current, const YAML::Node& desired) {
  JsonKind kind = jsonKind(desired);
  if (kind == JsonKind::Object) {
    if (jsonKind(current) != JsonKind::Object) return false;
    for (const auto& entry : desired) {
      YAML::Node other = member(current, entry.first.Scalar());
      if (!other.IsDefined() || !contains(other, entry.second)) return false;
    }
    return true;
  }
  if (kind == JsonKind::Array) {
    if (jsonKind(current) != JsonKind::Array || current.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i)
      if (!contains(current[i], desired[i])) return false;
    return true;
  }
  return jsonEqual(current, desired);
}

YAML::Node ownerReferences(const std::optional<OwnerReference>& owner) {
  YAML::Node ref;
  ref["apiVersion"] = text(owner->api_version);
  ref["kind"] = text(owner->kind);
  ref["name"] = text(owner->name);
  ref["uid"] = text(owner->uid);
  ref["controller"] = boolean(true);
  ref["blockOwnerDeletion"] = boolean(true);
  YAML::Node list(YAML::NodeType::Sequence);
  list.push_back(ref);
  return list;
}

}  // namespace

config::ConfigErrors buildWebhookConfiguration(const WebhookConfigurationFiles& files, const std::string& name,
                                               const std::optional<OwnerReference>& owner,
                                               DesiredWebhookConfiguration& out) {
  Checker check{files.config_file, {}};
  YAML::Node root;
  try {
    root = YAML::Load(files.config_text);
  } catch (const YAML::Exception& e) {
    return {config::ConfigError{config::SourcePosition{files.config_file, e.mark.line + 1, e.mark.column + 1}, kKind, "",
                                "invalid YAML: " + e.msg}};
  }
  if (!root.IsMap()) {
    check.fail(root, "", "expected a " + std::string(kKind) + " object");
    return check.errors;
  }
  const std::string api_version = stringValue(member(root, "apiVersion"));
  if (api_version != "admissionregistration.k8s.io/v1beta1" && api_version != "admissionregistration.k8s.io/v1")
    check.fail(member(root, "apiVersion"), "apiVersion",
               "must be admissionregistration.k8s.io/v1beta1 or admissionregistration.k8s.io/v1, got \"" + api_version + "\"");
  if (stringValue(member(root, "kind")) != kKind)
    check.fail(member(root, "kind"), "kind", "must be " + std::string(kKind));
  YAML::Node webhooks = member(root, "webhooks");
  if (!webhooks.IsSequence() || webhooks.size() == 0) {
    check.fail(webhooks.IsDefined() ? webhooks : root, "webhooks", "at least one webhook is required");
  } else {
    for (size_t i = 0; i < webhooks.size(); ++i) {
      YAML::Node hook = webhooks[i];
      std::string at = "webhooks[" + std::to_string(i) + "]";
      if (!hook.IsMap()) {
        check.fail(hook, at, "expected an object");
        continue;
      }
      if (jsonKind(member(hook, "name")) != JsonKind::String || stringValue(member(hook, "name")).empty())
        check.fail(member(hook, "name").IsDefined() ? member(hook, "name") : hook, at + ".name", "a name is required");
      YAML::Node client = member(hook, "clientConfig");
      if (!client.IsMap()) {
        check.fail(client.IsDefined() ? client : hook, at + ".clientConfig", "required (service or url)");
        continue;
      }
      // Filled in as 1.1 did, so that the server's defaults do not look like a difference.
      if (!member(hook, "failurePolicy").IsDefined()) hook["failurePolicy"] = text("Fail");
      if (!member(hook, "namespaceSelector").IsDefined()) hook["namespaceSelector"] = injection::emptyObject();
      client["caBundle"] = text(injection::base64Bytes(files.ca_pem));
    }
  }
  if (auto why = checkCaBundle(files.ca_pem))
    check.errors.push_back(config::ConfigError{config::SourcePosition{files.ca_file, 0, 0}, kKind, "caBundle", *why});
  if (!check.errors.empty()) return check.errors;

  YAML::Node metadata = member(root, "metadata");
  if (!metadata.IsMap()) {
    root["metadata"] = injection::emptyObject();
    metadata = root["metadata"];
  }
  metadata["name"] = text(name);
  metadata.remove("namespace");  // cluster-scoped
  if (owner) metadata["ownerReferences"] = ownerReferences(owner);
  else metadata.remove("ownerReferences");
  out.object = root;
  out.name = name;
  out.collection = "/apis/" + api_version + "/validatingwebhookconfigurations";
  return {};
}

bool webhookConfigurationCurrent(const YAML::Node& current, const YAML::Node& desired) {
  if (!contains(member(current, "webhooks"), member(desired, "webhooks"))) return false;
  YAML::Node want = member(member(desired, "metadata"), "ownerReferences");
  YAML::Node have = member(member(current, "metadata"), "ownerReferences");
  bool want_none = !want.IsDefined() || want.size() == 0;
  bool have_none = !have.IsDefined() || jsonKind(have) != JsonKind::Array || have.size() == 0;
  if (want_none || have_none) return want_none == have_none;
  return contains(have, want);
}

YAML::Node reconcileWebhookConfiguration(const YAML::Node& current, const YAML::Node& desired) {
  YAML::Node out = YAML::Clone(current);
  out["webhooks"] = YAML::Clone(member(desired, "webhooks"));
  if (!member(out, "metadata").IsMap()) out["metadata"] = injection::emptyObject();
  YAML::Node owners = member(member(desired, "metadata"), "ownerReferences");
  if (owners.IsDefined()) out["metadata"]["ownerReferences"] = YAML::Clone(owners);
  else out["metadata"].remove("ownerReferences");
  return out;
}

}  // namespace monomesh::galley
