#include "galley/galley_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdlib>

#include "config/mcp/mcp_resource.h"
#include "galley/admission_webhook.h"
#include "galley/certificate_flags.h"
#include "net/transport.h"
#include "observe/admin_handlers.h"
#include "observe/log.h"
#include "observe/prometheus_text.h"

namespace monomesh::galley {

namespace asio = boost::asio;

namespace {

constexpr const char* kKubeSynced = "kubernetes synced";

struct GalleyMetrics {
  observe::Family<observe::Gauge>& invalid = observe::MetricsRegistry::global().gauge(
      "galley_source_invalid", "Files or objects whose current content is invalid and not distributed", {"source"});
  observe::Family<observe::Gauge>& clients = observe::MetricsRegistry::global().gauge(
      "galley_mcp_source_clients_total", "Connected MCP (xDS) clients");
  observe::Family<observe::Counter>& acks = observe::MetricsRegistry::global().counter(
      "galley_mcp_source_request_acks_total", "ACKs from MCP clients", {"collection"});
  observe::Family<observe::Counter>& nacks = observe::MetricsRegistry::global().counter(
      "galley_mcp_source_request_nacks_total", "NACKs from MCP clients", {"collection"});
  observe::Family<observe::Counter>& refused = observe::MetricsRegistry::global().counter(
      "galley_mcp_source_clients_refused_total", "TLS clients refused because no SPIFFE id of theirs is in the access list");
};
GalleyMetrics& metrics() {
  static GalleyMetrics m;
  return m;
}

observe::AdminResponse json(std::string body) { return {200, "application/json", std::move(body)}; }

}  // namespace

GalleyServer::GalleyServer(GalleyOptions options, runtime::Runtime& runtime, config::Store* store)
    : options_(std::move(options)), runtime_(runtime), store_(store) {
  if (store_ == nullptr) {
    own_store_ = std::make_unique<config::Store>();
    store_ = own_store_.get();
  }
}

GalleyServer::~GalleyServer() { stop(); }

// A folder gives every kind it holds; the Kubernetes API gives the core kinds and, without a
// folder, the Istio kinds too (one source per kind, so neither deletes what the other wrote).
std::string GalleyServer::startConfigSources() {
  bool in_cluster = std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
  if (options_.config_path.empty() && options_.kubeconfig.empty() && !in_cluster)
    return "no config source: give --configPath, --kubeconfig, or run in a Kubernetes pod";
  if (!options_.config_path.empty()) {
    config::DirectorySourceOptions dir_options;  // validation on
    dir_options.load.cluster_id = options_.cluster_id;
    directory_ = std::make_unique<config::DirectorySource>(runtime_.main(), *store_, options_.config_path, dir_options);
    directory_->on_rescan = [](const std::map<std::string, config::ConfigErrors>& errors) {
      for (const auto& [file, list] : errors)
        for (const auto& e : list) observe::logScope("galley").error("invalid config, not distributed: {}", e.str());
    };
    if (auto err = directory_->start()) return "--configPath " + options_.config_path + ": " + *err;
    observe::logScope("galley").info("following {} ({} files)", options_.config_path, directory_->fileCount());
  }
  if (!options_.kubeconfig.empty() || options_.config_path.empty()) return startKubernetes(options_.config_path.empty());
  return {};
}

std::string GalleyServer::startKubernetes(bool istio_kinds) {
  auto credentials = config::kube::resolveCredentials(options_.kubeconfig);
  if (!credentials.credentials) return "Kubernetes: " + credentials.error;
  config::kube::KubeSourceOptions kube_options;
  kube_options.cluster_id = options_.cluster_id;
  for (const config::Schema* kind : config::mcp::distributedKinds())
    if (istio_kinds || kind->group.empty()) kube_options.kinds.push_back(kind);
  kube_ = std::make_unique<config::kube::KubeSource>(runtime_.main(), *store_, std::move(*credentials.credentials), kube_options);
  readiness_.require(kKubeSynced);
  kube_->on_synced = [this] { onSynced(kKubeSynced); };
  if (auto err = kube_->start()) return "Kubernetes: " + *err;
  return {};
}

void GalleyServer::onSynced(const std::string& condition) {
  readiness_.markMet(condition);
  if (readiness_.ready() && source_) {
    observe::logScope("galley").info("config sources synced (store version {}); distributing", store_->version());
    source_->setServing(true);
  }
}

std::string GalleyServer::serveDistribution() {
  source_ = std::make_shared<McpResourceSource>(runtime_.main(), *store_, options_.distribution);
  if (!options_.enable_server) return {};
  std::string address = options_.server_address;
  if (address.starts_with("tcp://")) address.erase(0, 6);
  std::string why;
  auto endpoint = observe::parseListenAddress(address, &why);
  if (!endpoint) return "--server-address \"" + options_.server_address + "\": " + why;
  net::grpc::GrpcServerOptions grpc_options;
  grpc_options.max_message_size = 256u << 20;  // a kind's whole set goes in one response
  grpc_ = std::make_unique<net::grpc::GrpcServer>(grpc_options);
  ads_ = std::make_unique<net::xds::AdsServer>(*grpc_, source_);
  auto kinds = source_->kinds();
  net::xds::AdsHooks hooks;
  hooks.answered = [kinds](const net::xds::StreamStatus&, const std::string& url, const std::string& error) {
    const config::Schema* kind = config::mcp::kindForUrl(url, kinds);
    std::string collection = kind ? kind->collection : url;
    (error.empty() ? metrics().acks : metrics().nacks).with({collection}).inc();
  };
  ads_->setHooks(std::move(hooks));
  source_->start(ads_.get());
  if (!options_.insecure) {
    if (auto err = serveDistributionTls(*endpoint); !err.empty()) return err;
  } else if (auto ec = grpc_->listen(runtime_.main(), *endpoint)) {
    return "cannot listen on " + options_.server_address + " (--server-address): " + ec.message();
  }
  auto bound = distributionEndpoint();
  observe::logScope("galley").info("distributing {} kinds (MCP over xDS{}) on {}:{}", kinds.size(),
                                   options_.insecure ? ", plaintext: --insecure" : ", mutual TLS", bound.address().to_string(),
                                   bound.port());
  return {};
}

// 1.1's default: mutual TLS with Galley's certificate files (Istio's /etc/certs), reloaded when
// they change; clients must show a certificate the CA signed and, with an access list, one of its
// SPIFFE ids.
std::string GalleyServer::serveDistributionTls(const asio::ip::tcp::endpoint& endpoint) {
  if (!options_.access_list_file.empty()) {
    if (auto errors = readAccessListFile(options_.access_list_file, access_list_); !errors.empty())
      return errors.front().str() + " (--accessListFile)";
  }
  TlsListenerOptions tls;
  tls.name = "distribution";
  tls.certificates = certificateWatcherOptions(options_.tls_cert_file, options_.tls_key_file, options_.ca_cert_file,
                                               std::chrono::seconds(1));
  net::tls::TlsSettings server;
  server.alpn = {"h2"};
  server.require_client_certificate = true;
  tls.certificates.server = server;
  tls.max_connections = 1024;  // handshakes in progress; established streams belong to the gRPC server
  tls.warn_on_handshake_failure = true;
  distribution_tls_ = std::make_unique<TlsListener>(runtime_.main(), std::move(tls),
                                                    [this](std::shared_ptr<net::MaybeTlsStream> stream) {
                                                      serveDistributionConnection(std::move(stream));
                                                    });
  if (auto err = distribution_tls_->start(endpoint); !err.empty())
    return err + " (--server-address, --tlsCertFile, --tlsKeyFile, --caCertFile; --insecure serves plaintext)";
  return {};
}

void GalleyServer::serveDistributionConnection(std::shared_ptr<net::MaybeTlsStream> stream) {
  if (!access_list_.allowed.empty()) {
    auto peer = stream->peerIdentity();
    if (!peer || !access_list_.admits(*peer)) {
      metrics().refused.with({}).inc();
      std::string who = peer && !peer->uri_sans.empty() ? peer->uri_sans.front() : "a certificate without a URI SAN";
      observe::logScope("galley").warn("distribution: refused {}: not in the access list {}", who, options_.access_list_file);
      boost::system::error_code ignored;
      stream->socket().close(ignored);
      return;
    }
  }
  grpc_->serve(net::makeTransport(std::move(*stream)));
}

std::string GalleyServer::serveWebhook() {
  if (!options_.enable_validation && !options_.enable_injection) return {};
  WebhookServerOptions webhook = options_.webhook;
  webhook.cert_file = options_.tls_cert_file;
  webhook.key_file = options_.tls_key_file;
  webhook_ = std::make_unique<WebhookServer>(runtime_.main(), webhook);
  std::string paths;
  if (options_.enable_validation) {
    mountAdmissionWebhooks(*webhook_);
    paths = "/admitpilot, /admitmixer, /validate";
  }
  if (options_.enable_injection) {
    injection_ = std::make_unique<InjectionWebhook>(runtime_.main(), options_.injection);
    if (auto err = injection_->load(); !err.empty()) return "sidecar injection: " + err + " (--injectConfig, --meshConfig)";
    injection_->mount(*webhook_);
    injection_->startReloading();
    paths += std::string(paths.empty() ? "" : ", ") + "/inject";
  }
  if (auto err = webhook_->start(asio::ip::tcp::endpoint(asio::ip::tcp::v4(), options_.validation_port)); !err.empty())
    return err + " (--tlsCertFile, --tlsKeyFile, --validation-port" +
           (options_.enable_injection ? "; /inject is served there too: --enable-injection=false)" : ")");
  observe::logScope("galley").info("webhooks ({}) on https port {}", paths, webhookEndpoint().port());
  return {};
}

// As 1.1: only with --validation-webhook-config-file, and only while validation is on.
std::string GalleyServer::registerWebhook() {
  if (options_.webhook_config_file.empty() || !options_.enable_validation) return {};
  WebhookRegistrarOptions registration = options_.registration;
  registration.config_file = options_.webhook_config_file;
  registration.ca_file = options_.ca_cert_file;
  auto credentials = config::kube::resolveCredentials(options_.kubeconfig);
  if (!credentials.credentials)
    return "--validation-webhook-config-file needs the Kubernetes API (--kubeconfig, or run in a pod): " +
           credentials.error;
  std::string error;
  auto client = config::kube::KubeClient::create(runtime_.main().get_executor(), std::move(*credentials.credentials),
                                                 {}, error);
  if (!client) return "Kubernetes: " + error;
  registrar_ = std::make_unique<WebhookRegistrar>(runtime_.main(), std::move(client), registration);
  if (auto err = registrar_->load(); !err.empty()) return err;
  registrar_->start();
  observe::logScope("galley").info("keeping ValidatingWebhookConfiguration {} registered from {}", registration.webhook_name,
                                   registration.config_file);
  return {};
}

std::string GalleyServer::serveMonitoring() {
  auto endpoint = observe::parseListenAddress(options_.monitoring_address);
  if (!endpoint) return "\"" + options_.monitoring_address + "\" is not an address (--monitoringPort)";
  monitoring_ = std::make_unique<observe::AdminServer>(runtime_.main());
  observe::mountStandardHandlers(*monitoring_, readiness_);
  monitoring_->handle("/ready", "200 once the config sources have synced", [this](const observe::AdminRequest&) {
    bool ready = readiness_.ready();
    return observe::AdminResponse{ready ? 200u : 503u, "text/plain; charset=utf-8", ready ? "ok\n" : "not ready\n"};
  });
  monitoring_->handle("/debug/invalid", "config that failed validation and is not distributed (JSON)",
                      [this](const observe::AdminRequest&) { return json(invalidConfigJson(invalidConfig())); });
  // Gauges that are cheaper to compute when scraped than to keep current.
  monitoring_->handle("/metrics", "metrics in the Prometheus text format", [this](const observe::AdminRequest&) {
    metrics().invalid.with({"file"}).set(directory_ ? int64_t(directory_->fileErrors().size()) : 0);
    metrics().invalid.with({"kubernetes"}).set(kube_ ? int64_t(kube_->invalidObjects().size()) : 0);
    metrics().clients.with({}).set(ads_ ? int64_t(ads_->streams().size()) : 0);
    return observe::AdminResponse{200, observe::kPrometheusContentType,
                                  observe::renderPrometheus(observe::MetricsRegistry::global())};
  });
  if (auto ec = monitoring_->listen(*endpoint))
    return "cannot listen on " + options_.monitoring_address + " (--monitoringPort): " + ec.message();
  return {};
}

std::string GalleyServer::start() {
  if (auto err = startConfigSources(); !err.empty()) return "start config sources: " + err;
  if (auto err = serveDistribution(); !err.empty()) return "serve distribution: " + err;
  if (auto err = serveWebhook(); !err.empty()) return "serve webhooks: " + err;
  if (auto err = registerWebhook(); !err.empty()) return "register validating webhook: " + err;
  if (auto err = serveMonitoring(); !err.empty()) return "serve monitoring: " + err;
  // A folder was read whole above; the Kubernetes source calls onSynced when its lists are in.
  if (readiness_.ready()) onSynced("config folder loaded");
  return {};
}

void GalleyServer::stop() {
  if (source_) source_->stop();
  if (distribution_tls_) distribution_tls_->stop();
  if (grpc_) grpc_->shutdown();
  if (registrar_) registrar_->stop();
  if (injection_) injection_->stop();
  if (webhook_) webhook_->stop();
  if (monitoring_) monitoring_->close();
  if (directory_) directory_->stop();
  if (kube_) kube_->stop();
}

std::vector<InvalidConfig> GalleyServer::invalidConfig() const {
  std::vector<InvalidConfig> out;
  if (directory_) appendInvalid(out, "file", directory_->fileErrors());
  if (kube_) appendInvalid(out, "kubernetes", kube_->invalidObjects());
  return out;
}

boost::asio::ip::tcp::endpoint GalleyServer::distributionEndpoint() const {
  if (distribution_tls_) return distribution_tls_->localEndpoint();
  return grpc_ ? grpc_->localEndpoint() : boost::asio::ip::tcp::endpoint();
}
boost::asio::ip::tcp::endpoint GalleyServer::webhookEndpoint() const {
  return webhook_ ? webhook_->localEndpoint() : boost::asio::ip::tcp::endpoint();
}
boost::asio::ip::tcp::endpoint GalleyServer::monitoringEndpoint() const {
  return monitoring_ ? monitoring_->localEndpoint() : boost::asio::ip::tcp::endpoint();
}

}  // namespace monomesh::galley
