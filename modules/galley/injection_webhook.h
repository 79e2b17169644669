// Sidecar injection as a mutating admission webhook at /inject on Galley's HTTPS webhook port.
// Istio 1.1 ran this as its own deployment (istio-sidecar-injector, :443 /inject); Monomesh
// serves it from Galley, with the same inputs as `monomesh kube-inject` (injection_settings.h):
// sidecar-injector's --injectConfig and --meshConfig files, or the built-in defaults. The files
// are followed: a changed set that reads cleanly is used for the next review, a broken one is
// logged and counted and the previous injector stays.
//
// A request must be an application/json AdmissionReview (415 and 400 otherwise); a Pod is
// answered with a base64 JSONPatch adding the sidecar, unless policy, its
// sidecar.istio.io/inject annotation, hostNetwork or an earlier injection say no (allowed,
// unchanged). Metrics are the 1.1 injector's sidecar_injection_*.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "galley/file_poller.h"
#include "galley/injection/injector.h"
#include "galley/webhook_server.h"

namespace monomesh::galley {

struct InjectionWebhookOptions {
  std::string inject_config_file;  // "" : defaultInjectionConfig()
  std::string mesh_config_file;    // "" : the 1.1 chart's MeshConfig
  std::chrono::milliseconds reload_interval{1000};
};

class InjectionWebhook {
 public:
  InjectionWebhook(boost::asio::io_context& context, InjectionWebhookOptions options);
  ~InjectionWebhook();
  InjectionWebhook(const InjectionWebhook&) = delete;

  // Reads the files; "" or the first error as file:line:column: message.
  std::string load();
  // Follows the files (after load()).
  void startReloading();
  void stop();

  WebhookReply serve(const WebhookRequest& request) const;
  void mount(WebhookServer& server);

  const injection::Injector& injector() const { return *injector_; }
  uint64_t reloads() const { return reloads_; }
  uint64_t reloadErrors() const { return reload_errors_; }

 private:
  std::string reload();

  boost::asio::io_context& context_;
  InjectionWebhookOptions options_;
  // Replaced whole on reload; reviews run on the same thread, so a plain pointer swap suffices.
  std::shared_ptr<const injection::Injector> injector_;
  std::unique_ptr<FilePoller> poller_;
  uint64_t reloads_ = 0;
  uint64_t reload_errors_ = 0;
};

}  // namespace monomesh::galley
