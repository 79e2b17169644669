// Registers Galley's validating webhook with Kubernetes, as Istio 1.1's galley did with
// --validation-webhook-config-file: the ValidatingWebhookConfiguration of
// webhook_configuration.h is created when absent and updated when it differs; the config and CA
// files are followed (a CA rotation re-applies the caBundle; a broken file is logged, counted and
// the last good object stays); and the object is checked again every reconcile interval (1.1:
// every second), so one deleted or edited by hand comes back. Galley's Deployment
// (--deployment-namespace/--deployment-name, apps/v1) is looked up first for the ownerReference;
// when it cannot be found the configuration is registered without one ("must be deleted
// manually", as 1.1 warned).
//
// An update is sent when the file set changed, when Galley (re)started, or when someone else
// changed the object so that it no longer says what Galley wants; fields the API server or others
// added are kept. Runs on one io_context thread; stop() before destroying the io_context.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "config/kube/kube_client.h"

namespace monomesh::galley {

struct WebhookRegistrarOptions {
  std::string config_file;  // --validation-webhook-config-file
  std::string ca_file;      // --caCertFile
  std::string webhook_name = "istio-galley";
  std::string deployment_namespace = "istio-system";
  std::string deployment_name = "istio-galley";
  std::chrono::milliseconds reconcile_interval{1000};
  std::chrono::milliseconds file_poll_interval{1000};
};

struct WebhookRegistrarStats {
  uint64_t created = 0;
  uint64_t updated = 0;
  uint64_t update_errors = 0;
  uint64_t reloads = 0;        // file sets applied after the first
  uint64_t reload_errors = 0;  // changed file sets that failed to build
};

class WebhookRegistrar {
 public:
  WebhookRegistrar(boost::asio::io_context& context, std::shared_ptr<config::kube::KubeClient> client,
                   WebhookRegistrarOptions options);
  ~WebhookRegistrar();
  WebhookRegistrar(const WebhookRegistrar&) = delete;

  // Reads and checks both files; "" or the errors, one per line (file:line:column: ...).
  std::string load();
  // Starts following the files and reconciling (after a successful load()).
  void start();
  void stop();

  const WebhookRegistrarStats& stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace monomesh::galley
