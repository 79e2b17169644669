// `monomesh proxy`: the Envoy-compatible data plane (sidecar or gateway). Flags use Envoy's names.
#include "cli/common_flags.h"
#include "roles/not_available.h"
#include "roles/roles.h"

namespace monomesh::roles {

cli::Command proxyCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"config-path", FlagType::String, "", "Envoy v3 bootstrap file (YAML or JSON)", 'c'},
      Flag{"config-yaml", FlagType::String, "", "Bootstrap YAML merged over --config-path"},
      cli::runtimeFlags().front(),  // --concurrency, as Envoy's
      Flag{"drain-time-s", FlagType::Int, "600", "Seconds to drain connections on shutdown"},
      Flag{"service-cluster", FlagType::String, "", "Local service cluster name (node.cluster)"},
      Flag{"service-node", FlagType::String, "", "Local service node name (node.id)"},
  };
  return cli::Command{
      "proxy", cli::CommandGroup::Role, "Envoy-compatible sidecar or gateway proxy (xDS v3 data plane)",
      "monomesh proxy --config-path FILE [flags]",
      "Reads an Envoy v3 bootstrap and serves its listeners, routes and clusters; with ADS in the\n"
      "bootstrap it follows Pilot live.",
      cli::concat(flags, cli::loggingFlags()),
      [](const cli::ParsedFlags& f) { return notAvailable("proxy", "the HTTP/1.1 and TCP data plane", 3, f); }};
}

}  // namespace monomesh::roles
