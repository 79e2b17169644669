// `monomesh multicluster-sync`: remote cluster registries for split-horizon meshes.
#include "cli/common_flags.h"
#include "roles/not_available.h"
#include "roles/roles.h"

namespace monomesh::roles {

cli::Command multiclusterSyncCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"kubeconfig", FlagType::String, "", "Kubeconfig of the local cluster"},
      Flag{"clusterID", FlagType::String, "Kubernetes", "ID of the local cluster"},
      Flag{"networksConfig", FlagType::String, "/etc/istio/config/meshNetworks", "Mesh networks file"},
      Flag{"monitoringAddr", FlagType::Address, ":15014", "Metrics and health address"},
  };
  return cli::Command{
      "multicluster-sync", cli::CommandGroup::Role, "Remote cluster registries for multicluster meshes", "",
      "Watches the remote clusters named in Istio's multicluster secrets and feeds their services to Pilot.",
      cli::roleFlags(flags),
      [](const cli::ParsedFlags& f) {
        return notAvailable("multicluster-sync", "multicluster (remote registries, split-horizon EDS)", 8, f);
      }};
}

}  // namespace monomesh::roles
