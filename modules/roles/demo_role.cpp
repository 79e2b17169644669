// `monomesh demo`: every role plus a bookinfo-style application in one process.
#include "cli/common_flags.h"
#include "roles/not_available.h"
#include "roles/roles.h"

namespace monomesh::roles {

cli::Command demoCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"config-dir", FlagType::String, "", "Config folder to watch (default: created with the sample config)"},
      cli::portFlag("ingress-port", "8080", "Ingress gateway port on 127.0.0.1"),
  };
  return cli::Command{
      "demo", cli::CommandGroup::Role, "The whole mesh and a sample application in one process", "",
      "Runs galley, pilot, an ingress gateway and one sidecar per sample workload on this machine.",
      cli::roleFlags(flags, "5s"),
      [](const cli::ParsedFlags& f) {
        return notAvailable("demo", "the single-node demo (it needs the proxy, pilot and galley roles)", 7, f);
      }};
}

}  // namespace monomesh::roles
