// `monomesh galley`: validation, admission webhooks, config distribution. Flags as Istio's galley.
#include "cli/common_flags.h"
#include "roles/not_available.h"
#include "roles/roles.h"

namespace monomesh::roles {

cli::Command galleyCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"configPath", FlagType::String, "", "Folder of config to ingest (instead of Kubernetes)"},
      Flag{"server-address", FlagType::String, "tcp://0.0.0.0:9901", "Config distribution (MCP over xDS) address"},
      cli::portFlag("validation-port", "443", "HTTPS port of the validating webhook"),
      Flag{"tlsCertFile", FlagType::String, "/etc/certs/cert-chain.pem", "Webhook certificate"},
      Flag{"tlsKeyFile", FlagType::String, "/etc/certs/key.pem", "Webhook private key"},
      Flag{"caCertFile", FlagType::String, "/etc/certs/root-cert.pem", "CA certificate"},
      cli::portFlag("monitoringPort", "15014", "Metrics and health port"),
      Flag{"kubeconfig", FlagType::String, "", "Kubeconfig file (empty: in-cluster credentials)"},
  };
  return cli::Command{
      "galley", cli::CommandGroup::Role, "Config validation, admission webhooks and distribution to Pilot", "",
      "Validates Istio config with 1.1's rules and hands only valid config to every Pilot.",
      cli::roleFlags(flags),
      [](const cli::ParsedFlags& f) {
        return notAvailable("galley", "Galley (semantic validation, webhooks, distribution)", 6, f);
      }};
}

}  // namespace monomesh::roles
