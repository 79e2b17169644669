#include "galley/webhook_registrar.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "galley/file_poller.h"
#include "galley/injection/json_node.h"
#include "galley/webhook_configuration.h"
#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::galley {

namespace asio = boost::asio;
using injection::member;
using injection::stringValue;

namespace {

constexpr size_t kMaxFileBytes = 1u << 20;
constexpr size_t kMaxResponseBytes = 4u << 20;

struct RegistrationMetrics {
  observe::Family<observe::Counter>& loads = observe::MetricsRegistry::global().counter(
      "galley_validation_config_load", "ValidatingWebhookConfiguration file sets loaded");
  observe::Family<observe::Counter>& load_errors = observe::MetricsRegistry::global().counter(
      "galley_validation_config_load_error", "ValidatingWebhookConfiguration file sets that failed to load");
  observe::Family<observe::Counter>& updates = observe::MetricsRegistry::global().counter(
      "galley_validation_config_updates", "ValidatingWebhookConfiguration creations and updates in Kubernetes");
  observe::Family<observe::Counter>& update_errors = observe::MetricsRegistry::global().counter(
      "galley_validation_config_update_error", "Failed creations or updates of the ValidatingWebhookConfiguration");
};
RegistrationMetrics& metrics() {
  static RegistrationMetrics m;
  return m;
}

spdlog::logger& log() { return observe::logScope("galley"); }

std::optional<YAML::Node> parseJson(const std::string& body) {
  try {
    YAML::Node node = YAML::Load(body);
    if (node.IsMap()) return node;
  } catch (const YAML::Exception&) {
  }
  return std::nullopt;
}

// "404 NotFound: ..." from an API answer, for messages.
std::string describe(const config::kube::KubeResponse& r) {
  if (r.status == 0) return r.error;
  std::string out = "HTTP " + std::to_string(r.status);
  if (auto status = parseJson(r.body)) {
    std::string message = stringValue(member(*status, "message"));
    if (!message.empty()) return out + ": " + message;
  }
  return out + (r.body.empty() ? "" : ": " + r.body.substr(0, 200));
}

std::string joined(const config::ConfigErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "\n") + e.str();
  return out;
}

}  // namespace

struct WebhookRegistrar::State {
  State(asio::io_context& c, std::shared_ptr<config::kube::KubeClient> k, WebhookRegistrarOptions o)
      : context(c), client(std::move(k)), options(std::move(o)), wake(c) {}

  asio::io_context& context;
  std::shared_ptr<config::kube::KubeClient> client;
  WebhookRegistrarOptions options;
  asio::steady_timer wake;
  std::unique_ptr<FilePoller> poller;
  bool stopped = true;

  WebhookConfigurationFiles files;  // the last good set
  std::optional<OwnerReference> owner;
  bool owner_resolved = false;
  DesiredWebhookConfiguration desired;
  uint64_t generation = 0;          // bumped whenever `desired` changes
  uint64_t applied_generation = 0;  // what Kubernetes was last given (0: nothing since start)
  std::string applied_version;      // the object's resourceVersion after that
  std::string last_error;           // logged once until it changes or clears
  WebhookRegistrarStats stats;

  // "" and `desired` replaced, or the errors (and everything kept).
  std::string rebuild(const WebhookConfigurationFiles& candidate) {
    DesiredWebhookConfiguration built;
    auto errors = buildWebhookConfiguration(candidate, options.webhook_name, owner, built);
    if (!errors.empty()) return joined(errors);
    files = candidate;
    desired = std::move(built);
    generation++;
    return {};
  }

  std::string target() const { return desired.collection + "/" + desired.name; }

  void failed(const std::string& what) {
    stats.update_errors++;
    metrics().update_errors.with({}).inc();
    if (what != last_error) log().error("ValidatingWebhookConfiguration {}: {}", options.webhook_name, what);
    last_error = what;
  }

  void applied(const config::kube::KubeResponse& r, bool created) {
    (created ? stats.created : stats.updated)++;
    metrics().updates.with({}).inc();
    applied_generation = generation;
    applied_version.clear();
    if (auto object = parseJson(r.body)) applied_version = stringValue(member(member(*object, "metadata"), "resourceVersion"));
    last_error.clear();
    log().info("ValidatingWebhookConfiguration {} {}", options.webhook_name, created ? "created" : "updated");
  }
};

namespace {

using StatePtr = std::shared_ptr<WebhookRegistrar::State>;

asio::awaitable<void> lookUpOwner(StatePtr state) {
  const auto& o = state->options;
  std::string where = o.deployment_namespace + "/" + o.deployment_name;
  auto r = co_await state->client->get("/apis/apps/v1/namespaces/" + o.deployment_namespace + "/deployments/" +
                                           o.deployment_name,
                                       kMaxResponseBytes);
  if (state->stopped) co_return;
  if (r.status == 0) {  // the API server did not answer: ask again next round
    state->failed("cannot look up Deployment " + where + ": " + r.error);
    co_return;
  }
  state->owner_resolved = true;
  std::optional<YAML::Node> deployment = r.status == 200 ? parseJson(r.body) : std::nullopt;
  std::string uid = deployment ? stringValue(member(member(*deployment, "metadata"), "uid")) : "";
  if (uid.empty()) {
    log().warn("could not find Deployment {} to set the ownerReference ({}); the ValidatingWebhookConfiguration {} "
               "must be deleted manually",
               where, r.status == 200 ? "no metadata.uid" : describe(r), o.webhook_name);
    co_return;
  }
  state->owner = OwnerReference{"apps/v1", "Deployment", o.deployment_name, uid};
  if (auto error = state->rebuild(state->files); !error.empty()) log().error("{}", error);  // same files: cannot fail
}

asio::awaitable<void> reconcileOnce(StatePtr state) {
  std::string target = state->target();
  auto current = co_await state->client->get(target, kMaxResponseBytes);
  if (state->stopped) co_return;
  if (current.status == 404) {
    auto r = co_await state->client->send("POST", state->desired.collection, injection::toJson(state->desired.object),
                                          kMaxResponseBytes);
    if (state->stopped) co_return;
    if (r.status == 200 || r.status == 201) state->applied(r, true);
    else if (r.status != 409) state->failed("create failed: " + describe(r));  // 409: created meanwhile; next round
    co_return;
  }
  std::optional<YAML::Node> object = current.status == 200 ? parseJson(current.body) : std::nullopt;
  if (!object) {
    state->failed("cannot read it: " + (current.status == 200 ? std::string("the answer is not a JSON object")
                                                               : describe(current)));
    co_return;
  }
  std::string version = stringValue(member(member(*object, "metadata"), "resourceVersion"));
  if (state->applied_generation == state->generation &&
      (version == state->applied_version || webhookConfigurationCurrent(*object, state->desired.object))) {
    state->applied_version = version;  // unchanged, or changed by others in ways that do not matter
    state->last_error.clear();
    co_return;
  }
  auto r = co_await state->client->send("PUT", target,
                                        injection::toJson(reconcileWebhookConfiguration(*object, state->desired.object)),
                                        kMaxResponseBytes);
  if (state->stopped) co_return;
  if (r.status == 200 || r.status == 201) state->applied(r, false);
  else if (r.status != 409) state->failed("update failed: " + describe(r));  // 409: changed meanwhile; next round
}

asio::awaitable<void> reconcileLoop(StatePtr state) {
  while (!state->stopped) {
    if (!state->owner_resolved) co_await lookUpOwner(state);
    if (state->stopped) break;
    if (state->owner_resolved) co_await reconcileOnce(state);
    if (state->stopped) break;
    state->wake.expires_after(state->options.reconcile_interval);
    auto [ec] = co_await state->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;  // cancelled: a file changed (or stop, checked above)
  }
}

}  // namespace

WebhookRegistrar::WebhookRegistrar(asio::io_context& context, std::shared_ptr<config::kube::KubeClient> client,
                                   WebhookRegistrarOptions options)
    : state_(std::make_shared<State>(context, std::move(client), std::move(options))) {}

WebhookRegistrar::~WebhookRegistrar() { stop(); }

std::string WebhookRegistrar::load() {
  const auto& o = state_->options;
  PolledFiles read = readPolledFiles({o.config_file, o.ca_file}, kMaxFileBytes);
  std::string errors;
  for (const auto& e : read.errors)
    if (!e.empty()) errors += (errors.empty() ? "" : "\n") + e;
  if (errors.empty()) errors = state_->rebuild({*read.contents[0], o.config_file, *read.contents[1], o.ca_file});
  (errors.empty() ? metrics().loads : metrics().load_errors).with({}).inc();
  return errors;
}

void WebhookRegistrar::start() {
  auto& state = *state_;
  state.stopped = false;
  const auto& o = state.options;
  std::weak_ptr<State> weak = state_;
  state.poller = std::make_unique<FilePoller>(
      state.context, std::vector<std::string>{o.config_file, o.ca_file}, o.file_poll_interval,
      [weak](const PolledFiles& now) {
        auto state = weak.lock();
        if (!state) return;
        std::string error;
        for (const auto& e : now.errors)
          if (!e.empty()) error += (error.empty() ? "" : "; ") + e;
        if (error.empty()) {
          const auto& o = state->options;
          error = state->rebuild({*now.contents[0], o.config_file, *now.contents[1], o.ca_file});
        }
        if (!error.empty()) {
          state->stats.reload_errors++;
          metrics().load_errors.with({}).inc();
          log().error("ValidatingWebhookConfiguration not reloaded (keeping the last good one):\n{}", error);
          return;
        }
        state->stats.reloads++;
        metrics().loads.with({}).inc();
        log().info("ValidatingWebhookConfiguration {} reloaded from {} and {}", state->options.webhook_name,
                   state->options.config_file, state->options.ca_file);
        state->wake.cancel();  // apply now
      });
  state.poller->start(readPolledFiles({o.config_file, o.ca_file}, kMaxFileBytes));
  asio::co_spawn(state.context, reconcileLoop(state_), asio::detached);
}

void WebhookRegistrar::stop() {
  auto& state = *state_;
  if (state.stopped) return;
  state.stopped = true;
  if (state.poller) state.poller->stop();
  state.wake.cancel();
  state.client->shutdown();
}

const WebhookRegistrarStats& WebhookRegistrar::stats() const { return state_->stats; }

}  // namespace monomesh::galley
