// `monomesh galley` as a component: named start-up steps (start config sources, serve the
// distribution, serve the webhooks, register the validating webhook, serve monitoring), each
// failing with an error that names it. Runs on a runtime it is given, so `monomesh demo` can host
// it beside Pilot.
//
// Sources: a folder (--configPath) and/or the Kubernetes API (--kubeconfig, or in-cluster), both
// validating with Istio 1.1's rules, so the store only ever holds valid config; what failed is
// logged, counted and listed on /debug/invalid, and its last good version stays. Distribution:
// MCP over xDS (net::xds::AdsServer with McpResourceSource) on --server-address, served once the
// sources have synced, over mutual TLS with the certificate files unless --insecure (1.1's
// default), clients limited to --accessListFile's SPIFFE ids when one is given. Webhooks (HTTPS):
// validation (/admitpilot, /admitmixer, /validate) and sidecar injection (/inject); with
// --validation-webhook-config-file the ValidatingWebhookConfiguration is kept registered in
// Kubernetes. Monitoring: /metrics, /version, /ready, /healthz/ready, /debug/invalid.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/directory_source.h"
#include "config/kube/kube_source.h"
#include "config/store.h"
#include "galley/access_list.h"
#include "galley/injection_webhook.h"
#include "galley/invalid_config.h"
#include "galley/mcp_resource_source.h"
#include "galley/tls_listener.h"
#include "galley/webhook_registrar.h"
#include "galley/webhook_server.h"
#include "net/grpc/grpc_server.h"
#include "net/xds/ads_server.h"
#include "observe/admin_server.h"
#include "observe/readiness.h"
#include "runtime/runtime.h"

namespace monomesh::galley {

struct GalleyOptions {
  std::string config_path;  // folder; "" reads Istio config from Kubernetes
  std::string kubeconfig;   // "" with no --configPath: in-cluster credentials
  std::string cluster_id = "Kubernetes";
  bool enable_server = true;
  std::string server_address = "tcp://0.0.0.0:9901";
  // Plaintext distribution. Otherwise (1.1's default) mutual TLS with tls_cert_file, tls_key_file
  // and ca_cert_file: clients must present a certificate the CA signed.
  bool insecure = false;
  std::string access_list_file;  // SPIFFE ids allowed to connect; "" lets in any client the CA signed
  bool enable_validation = true;
  // /inject on the webhook port. The role's --enable-injection defaults to true (1.1 ran the
  // injector); components that host Galley (the demo) opt in.
  bool enable_injection = false;
  InjectionWebhookOptions injection;
  // --validation-webhook-config-file: keep this ValidatingWebhookConfiguration registered (needs
  // Kubernetes credentials; ca_file and the names come from the fields here and below).
  std::string webhook_config_file;
  WebhookRegistrarOptions registration;
  uint16_t validation_port = 443;
  std::string tls_cert_file = "/etc/certs/cert-chain.pem";
  std::string tls_key_file = "/etc/certs/key.pem";
  std::string ca_cert_file = "/etc/certs/root-cert.pem";
  std::string monitoring_address = ":15014";
  McpResourceSourceOptions distribution;
  WebhookServerOptions webhook;  // cert_file and key_file come from the fields above
};

class GalleyServer {
 public:
  // `store`: share a store with other roles (the demo); null: Galley keeps its own.
  GalleyServer(GalleyOptions options, runtime::Runtime& runtime, config::Store* store = nullptr);
  ~GalleyServer();

  // Runs the start-up steps; "" or "step: why".
  std::string start();
  void stop();

  boost::asio::ip::tcp::endpoint distributionEndpoint() const;
  boost::asio::ip::tcp::endpoint webhookEndpoint() const;
  boost::asio::ip::tcp::endpoint monitoringEndpoint() const;
  config::Store& store() { return *store_; }
  const observe::Readiness& readiness() const { return readiness_; }
  McpResourceSource* distribution() { return source_.get(); }
  std::vector<InvalidConfig> invalidConfig() const;

 private:
  std::string startConfigSources();
  std::string startKubernetes(bool istio_kinds);
  std::string serveDistribution();
  std::string serveDistributionTls(const boost::asio::ip::tcp::endpoint& endpoint);
  void serveDistributionConnection(std::shared_ptr<net::MaybeTlsStream> stream);
  std::string serveWebhook();
  std::string registerWebhook();
  std::string serveMonitoring();
  void onSynced(const std::string& condition);

  GalleyOptions options_;
  runtime::Runtime& runtime_;
  std::unique_ptr<config::Store> own_store_;
  config::Store* store_;
  std::unique_ptr<config::DirectorySource> directory_;
  std::unique_ptr<config::kube::KubeSource> kube_;
  std::shared_ptr<McpResourceSource> source_;
  std::unique_ptr<net::grpc::GrpcServer> grpc_;
  std::unique_ptr<net::xds::AdsServer> ads_;
  std::unique_ptr<TlsListener> distribution_tls_;  // null with --insecure (grpc_ listens itself)
  AccessList access_list_;
  std::unique_ptr<WebhookServer> webhook_;
  std::unique_ptr<InjectionWebhook> injection_;
  std::unique_ptr<WebhookRegistrar> registrar_;
  std::unique_ptr<observe::AdminServer> monitoring_;
  observe::Readiness readiness_;
};

}  // namespace monomesh::galley
