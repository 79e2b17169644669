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
      cli::portFlag("validation-port", "443", "HTTPS port of the validating webhook"),
      Flag{"enable-validation", FlagType::Bool, "true", "Run the validating admission webhook"},
      Flag{"tlsCertFile", FlagType::String, "/etc/certs/cert-chain.pem", "Webhook certificate"},
      Flag{"tlsKeyFile", FlagType::String, "/etc/certs/key.pem", "Webhook private key"},
      Flag{"caCertFile", FlagType::String, "/etc/certs/root-cert.pem", "CA certificate"},
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
