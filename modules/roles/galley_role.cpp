// `monomesh galley`: validation, admission webhooks, config distribution. Flags as Istio's galley.
#include <cstdio>

#include "cli/common_flags.h"
#include "galley/galley_server.h"
#include "observe/log.h"
#include "roles/roles.h"

namespace monomesh::roles {

cli::Command galleyCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"configPath", FlagType::String, "", "Folder of config to ingest (instead of Kubernetes)"},
      Flag{"server-address", FlagType::String, "tcp://0.0.0.0:9901", "Config distribution (MCP over xDS) address"},
      Flag{"enable-server", FlagType::Bool, "true", "Run the config distribution server"},
      Flag{"insecure", FlagType::Bool, "false", "Distribute config over plaintext gRPC instead of mutual TLS"},
      Flag{"accessListFile", FlagType::String, "", "YAML `allowed: [SPIFFE ids]` of clients that may take config (empty: any the CA signed)"},
      cli::portFlag("validation-port", "443", "HTTPS port of the webhooks (validation and /inject)"),
      Flag{"enable-validation", FlagType::Bool, "true", "Run the validating admission webhook"},
      Flag{"validation-webhook-config-file", FlagType::String, "", "ValidatingWebhookConfiguration YAML to keep registered in Kubernetes"},
      Flag{"deployment-namespace", FlagType::String, "istio-system", "Namespace of Galley's Deployment (owner of the webhook configuration)"},
      Flag{"deployment-name", FlagType::String, "istio-galley", "Name of Galley's Deployment (owner of the webhook configuration)"},
      Flag{"webhook-name", FlagType::String, "istio-galley", "Name of the ValidatingWebhookConfiguration"},
      Flag{"enable-injection", FlagType::Bool, "true", "Serve the sidecar injection webhook at /inject"},
      Flag{"injectConfig", FlagType::String, "", "Injection config YAML (policy, selectors, values; empty: built-in)"},
      Flag{"meshConfig", FlagType::String, "", "MeshConfig YAML for injected sidecars (empty: the 1.1 chart's)"},
      Flag{"tlsCertFile", FlagType::String, "/etc/certs/cert-chain.pem", "Certificate of the webhooks and the distribution"},
      Flag{"tlsKeyFile", FlagType::String, "/etc/certs/key.pem", "Private key of that certificate"},
      Flag{"caCertFile", FlagType::String, "/etc/certs/root-cert.pem", "CA certificate (clients of the distribution; the webhook's caBundle)"},
      cli::portFlag("monitoringPort", "15014", "Metrics and health port"),
      Flag{"kubeconfig", FlagType::String, "", "Kubeconfig file (empty: in-cluster credentials)"},
      Flag{"clusterID", FlagType::String, "Kubernetes", "ID of the cluster the config comes from"},
  };
  return cli::Command{
      "galley", cli::CommandGroup::Role, "Config validation, admission webhooks and distribution to Pilot", "",
      "Validates Istio config with 1.1's rules and hands only valid config to every Pilot.",
      cli::roleFlags(flags),
      [](const cli::ParsedFlags& f) {
        if (auto err = cli::applyLoggingFlags(f)) {
          std::fprintf(stderr, "monomesh galley: %s\n", err->c_str());
          return cli::kExitUsage;
        }
        galley::GalleyOptions o;
        o.config_path = f.str("configPath");
        o.kubeconfig = f.str("kubeconfig");
        o.cluster_id = f.str("clusterID");
        o.server_address = f.str("server-address");
        o.enable_server = f.boolean("enable-server");
        o.insecure = f.boolean("insecure");
        o.access_list_file = f.str("accessListFile");
        o.enable_injection = f.boolean("enable-injection");
        o.injection.inject_config_file = f.str("injectConfig");
        o.injection.mesh_config_file = f.str("meshConfig");
        o.webhook_config_file = f.str("validation-webhook-config-file");
        o.registration.deployment_namespace = f.str("deployment-namespace");
        o.registration.deployment_name = f.str("deployment-name");
        o.registration.webhook_name = f.str("webhook-name");
        o.validation_port = uint16_t(f.integer("validation-port"));
        o.enable_validation = f.boolean("enable-validation");
        o.tls_cert_file = f.str("tlsCertFile");
        o.tls_key_file = f.str("tlsKeyFile");
        o.ca_cert_file = f.str("caCertFile");
        o.monitoring_address = ":" + std::to_string(f.integer("monitoringPort"));
        auto runtime_options = cli::runtimeOptionsFrom(f);
        runtime_options.concurrency = 1;  // Galley runs on the control context
        runtime::Runtime runtime(runtime_options);
        galley::GalleyServer server(o, runtime);
        if (auto err = server.start(); !err.empty()) {
          observe::logScope("galley").error("start-up step \"{}", err.insert(err.find(':'), "\" failed"));
          return 1;
        }
        runtime.drain().add("galley", [&server](std::function<void()> done) {
          server.stop();
          done();
        });
        runtime.run();
        server.stop();
        return 0;
      }};
}

}  // namespace monomesh::roles
