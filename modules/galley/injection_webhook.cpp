#include "galley/injection_webhook.h"

#include "galley/admission_webhook.h"
#include "galley/injection/inject_webhook.h"
#include "galley/injection/injection_settings.h"
#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::galley {

namespace {

struct InjectionMetrics {
  observe::Family<observe::Counter>& requests = observe::MetricsRegistry::global().counter(
      "sidecar_injection_requests_total", "Requests to the /inject webhook");
  observe::Family<observe::Counter>& success = observe::MetricsRegistry::global().counter(
      "sidecar_injection_success_total", "Pods the /inject webhook added the sidecar to");
  observe::Family<observe::Counter>& skip = observe::MetricsRegistry::global().counter(
      "sidecar_injection_skip_total", "Reviews answered unchanged (policy, annotation, hostNetwork, injected, not a Pod)");
  observe::Family<observe::Counter>& failure = observe::MetricsRegistry::global().counter(
      "sidecar_injection_failure_total", "Requests refused: not a review, or a pod with invalid injection settings");
  observe::Family<observe::Counter>& reload_errors = observe::MetricsRegistry::global().counter(
      "sidecar_injection_config_reload_errors_total", "Injection config files that changed and failed to load");
};
InjectionMetrics& metrics() {
  static InjectionMetrics m;
  return m;
}

std::string firstError(const config::ConfigErrors& errors) {
  std::string out = errors.front().str();
  if (errors.size() > 1) out += " (and " + std::to_string(errors.size() - 1) + " more)";
  return out;
}

}  // namespace

InjectionWebhook::InjectionWebhook(boost::asio::io_context& context, InjectionWebhookOptions options)
    : context_(context), options_(std::move(options)) {}

InjectionWebhook::~InjectionWebhook() { stop(); }

std::string InjectionWebhook::reload() {
  injection::InjectionSettings settings;
  auto errors = injection::readInjectionSettings(options_.inject_config_file, options_.mesh_config_file, settings);
  if (!errors.empty()) return firstError(errors);
  for (const auto& note : settings.notes) observe::logScope("galley").warn("injection config: {}", note);
  injector_ = std::make_shared<const injection::Injector>(std::move(settings.config), std::move(settings.mesh));
  return {};
}

std::string InjectionWebhook::load() { return reload(); }

void InjectionWebhook::startReloading() {
  std::vector<std::string> files;
  for (const auto& f : {options_.inject_config_file, options_.mesh_config_file})
    if (!f.empty()) files.push_back(f);
  if (files.empty()) return;  // built-in defaults do not change
  poller_ = std::make_unique<FilePoller>(context_, files, options_.reload_interval, [this](const PolledFiles&) {
    if (auto error = reload(); !error.empty()) {
      reload_errors_++;
      metrics().reload_errors.with({}).inc();
      observe::logScope("galley").error("injection config not reloaded (keeping the previous one): {}", error);
      return;
    }
    reloads_++;
    observe::logScope("galley").info("injection config reloaded (sidecar {})", injector_->version());
  });
  poller_->start(readPolledFiles(files, 4u << 20));
}

void InjectionWebhook::stop() {
  if (poller_) poller_->stop();
}

WebhookReply InjectionWebhook::serve(const WebhookRequest& request) const {
  auto& m = metrics();
  m.requests.with({}).inc();
  AdmissionRead read = readAdmissionRequest(request);
  if (!read.review) {
    m.failure.with({}).inc();
    observe::logScope("galley").warn("/inject request refused ({}): {}", read.status, read.reason);
    return textReply(read.status, read.reason);
  }
  // The body is a well-formed review (protobuf's bounded JSON parser said so above), so the
  // injector's own reading of it cannot hit unbounded nesting.
  injection::InjectionReview review = injection::reviewInjection(request.body, *injector_);
  switch (review.outcome) {
    case injection::ReviewOutcome::Injected:
      m.success.with({}).inc();
      observe::logScope("galley").info("/inject {}", review.detail);
      break;
    case injection::ReviewOutcome::Skipped:
      m.skip.with({}).inc();
      observe::logScope("galley").debug("/inject {}", review.detail);
      break;
    case injection::ReviewOutcome::Denied:
      m.failure.with({}).inc();
      observe::logScope("galley").warn("/inject denied {} ({}): {}", read.review->name, read.review->uid, review.detail);
      break;
    case injection::ReviewOutcome::BadRequest:
      m.failure.with({}).inc();
      observe::logScope("galley").warn("/inject request refused (400): {}", review.detail);
      return textReply(400, review.detail);
  }
  return WebhookReply{200, "application/json", std::move(review.body)};
}

void InjectionWebhook::mount(WebhookServer& server) {
  server.handle("/inject", [this](const WebhookRequest& r) { return serve(r); });
}

}  // namespace monomesh::galley
