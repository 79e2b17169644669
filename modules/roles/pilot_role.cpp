// `monomesh pilot`: service registries and Istio config turned into xDS. Flags as pilot-discovery.
#include "cli/common_flags.h"
#include "roles/not_available.h"
#include "roles/roles.h"

namespace monomesh::roles {

cli::Command pilotCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"configDir", FlagType::String, "", "Folder of Istio config and Kubernetes objects to watch"},
      Flag{"grpcAddr", FlagType::Address, ":15010", "ADS (xDS over gRPC) address"},
      Flag{"httpAddr", FlagType::Address, ":8080", "Debug HTTP address (/debug/*)"},
      Flag{"monitoringAddr", FlagType::Address, ":15014", "Metrics and health address"},
      Flag{"meshConfig", FlagType::String, "/etc/istio/config/mesh", "Mesh config file"},
      Flag{"networksConfig", FlagType::String, "/etc/istio/config/meshNetworks", "Mesh networks file"},
      Flag{"kubeconfig", FlagType::String, "", "Kubeconfig file (empty: in-cluster credentials)"},
      Flag{"registries", FlagType::StringList, "", "Service registries: Kubernetes, MCP (default Kubernetes)"},
      Flag{"clusterID", FlagType::String, "Kubernetes", "ID of the cluster this Pilot runs in"},
      Flag{"domain", FlagType::String, "cluster.local", "DNS domain suffix"},
  };
  return cli::Command{
      "pilot", cli::CommandGroup::Role, "Service discovery and Istio config to xDS (ADS server)", "",
      "Watches service registries and Istio config and serves Envoy v3 xDS to every proxy.",
      cli::roleFlags(flags),
      [](const cli::ParsedFlags& f) { return notAvailable("pilot", "Pilot (registries, xDS builders, ADS)", 5, f); }};
}

}  // namespace monomesh::roles
