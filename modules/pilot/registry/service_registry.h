// What Pilot's service registries produce, read from the config store (the Kubernetes objects and
// ServiceEntries that the directory source, the Kubernetes API source or Galley put there): the
// services by host name, the endpoints of each, and the workloads (pods) by IP. The aggregate
// merges every registry and every cluster: a host defined in several clusters has one service and
// the endpoints of all of them, each endpoint keeping its cluster ID.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/store.h"
#include "pilot/model/mesh_networks.h"
#include "pilot/model/service.h"

namespace monomesh::pilot {

struct Workload {
  std::string name;
  std::string namespace_;
  std::string ip;
  Labels labels;
  std::string service_account;
  std::string locality;
  std::string cluster_id;
};

struct RegistryOptions {
  std::string domain = "cluster.local";
  std::string trust_domain = "cluster.local";
  // --networksConfig: the network of endpoints that name none, and the gateways to each network.
  std::shared_ptr<const MeshNetworks> networks;
};

struct RegistryContent {
  // Sorted by host name; one per host.
  std::vector<std::shared_ptr<const Service>> services;
  // Every endpoint of a host, each with the service port it serves.
  std::map<std::string, std::vector<Endpoint>, std::less<>> endpoints;
  std::map<std::string, Workload, std::less<>> workloads;  // by IP
  // Services another registry (or ServiceEntry) already defines the host of: the first keeps the
  // host, these are left out, and the cluster builder reports the clusters they would have had
  // (pilot_duplicate_envoy_clusters).
  std::map<std::string, std::vector<std::shared_ptr<const Service>>, std::less<>> shadowed;

  const Service* service(std::string_view host) const;
};

// Kubernetes Services, Endpoints, Pods and Nodes (protocols from port names, locality from node
// labels, identities from service accounts).
void collectKubernetes(const config::StoreSnapshot& snapshot, const RegistryOptions& options, RegistryContent& out);
// ServiceEntries (one service per host; resolution, location, endpoints with their labels).
void collectServiceEntries(const config::StoreSnapshot& snapshot, const RegistryOptions& options, RegistryContent& out);
// Every registry, merged; endpoints that name no network get the one MeshNetworks gives them.
RegistryContent aggregateRegistries(const config::StoreSnapshot& snapshot, const RegistryOptions& options);

std::string spiffeIdentity(const std::string& trust_domain, const std::string& namespace_, const std::string& service_account);

}  // namespace monomesh::pilot
