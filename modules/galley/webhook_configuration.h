// The ValidatingWebhookConfiguration Galley registers for its own webhook, as Istio 1.1's galley
// built it from --validation-webhook-config-file: the file's object with metadata.name set to
// --webhook-name, every webhook's clientConfig.caBundle set to the CA file (--caCertFile, which
// must hold a PEM certificate), 1.1's defaults filled in (failurePolicy Fail, namespaceSelector
// {}) and, when Galley's Deployment was found, an ownerReference to it so that Kubernetes deletes
// the cluster-scoped configuration together with Galley. Objects are JSON-typed yaml-cpp nodes
// (injection/json_node.h). Pure functions; the API calls are in webhook_registrar.h.
#pragma once
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "config/source_position.h"

namespace monomesh::galley {

// metav1.NewControllerRef: controller and blockOwnerDeletion set.
struct OwnerReference {
  std::string api_version = "apps/v1";
  std::string kind = "Deployment";
  std::string name;
  std::string uid;
};

struct WebhookConfigurationFiles {
  std::string config_text;  // the --validation-webhook-config-file content
  std::string config_file;  // its path, for messages
  std::string ca_pem;       // the --caCertFile content
  std::string ca_file;
};

struct DesiredWebhookConfiguration {
  YAML::Node object;
  std::string name;
  // "/apis/admissionregistration.k8s.io/v1beta1/validatingwebhookconfigurations": the file's
  // apiVersion decides (1.1 wrote v1beta1; clusters from Kubernetes 1.22 serve only v1).
  std::string collection;
};

// Errors name the file, line and column, and the field ("webhooks[0].clientConfig: required").
config::ConfigErrors buildWebhookConfiguration(const WebhookConfigurationFiles& files, const std::string& name,
                                               const std::optional<OwnerReference>& owner,
                                               DesiredWebhookConfiguration& out);

// Whether `current` (as the API server returns it) already says what `desired` says: every field
// of desired's webhooks is there with the same value (fields the server added, such as defaults
// of newer API versions, do not count), and the ownerReferences are desired's.
bool webhookConfigurationCurrent(const YAML::Node& current, const YAML::Node& desired);

// `current` with desired's webhooks and ownerReferences, everything else (labels, the
// resourceVersion an update needs) kept: the object 1.1 sent in its Update.
YAML::Node reconcileWebhookConfiguration(const YAML::Node& current, const YAML::Node& desired);

}  // namespace monomesh::galley
