// Pilot's service model, independent of where a service came from (a Kubernetes Service, a
// ServiceEntry): the service with its ports, and the endpoints (service instances) behind it,
// each carrying the cluster, network, locality, labels and identity of its workload.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pilot/model/protocol.h"

namespace monomesh::pilot {

using Labels = std::map<std::string, std::string>;

struct ServicePort {
  std::string name;
  uint32_t port = 0;
  Protocol protocol = Protocol::TCP;
};

// How a proxy finds the service's endpoints (Istio's Resolution): EDS, DNS, or the original
// destination of the connection.
enum class Resolution { ClientSideLB, DnsLB, Passthrough };

enum class Visibility { Public, Private };  // exportTo "*" or "."

struct Service {
  std::string hostname;    // "reviews.default.svc.cluster.local", "*.google.com"
  std::string namespace_;  // the namespace it is defined in
  std::string address = "0.0.0.0";  // the VIP (ClusterIP or ServiceEntry address); 0.0.0.0: none
  std::vector<ServicePort> ports;
  Resolution resolution = Resolution::ClientSideLB;
  bool mesh_external = false;
  Visibility visibility = Visibility::Public;
  std::vector<std::string> service_accounts;  // SANs expected of its endpoints
  std::string registry;                        // "Kubernetes", "External"
  std::string cluster_id;
  // Where clients outside the cluster reach it (a LoadBalancer's ingress IPs, else externalIPs):
  // what a MeshNetworks gateway named by registryServiceName stands for.
  std::vector<std::string> external_addresses;

  const ServicePort* portByNumber(uint32_t number) const;
  const ServicePort* portByName(const std::string& name) const;
  bool hasVip() const { return address != "0.0.0.0" && !address.empty(); }
};

struct Endpoint {
  std::string address;  // IP, or a DNS name for DNS-resolved ServiceEntries
  uint32_t port = 0;    // the endpoint's own port (targetPort)
  uint32_t service_port = 0;
  Labels labels;
  std::string service_account;  // spiffe://cluster.local/ns/<ns>/sa/<name>
  std::string network;
  std::string locality;  // "region/zone/subzone"
  std::string cluster_id;
  uint32_t weight = 0;  // 0: unweighted
  bool healthy = true;
};

// Whether every label of `selector` is on `labels` (an empty selector selects everything).
bool labelsMatch(const Labels& selector, const Labels& labels);

}  // namespace monomesh::pilot
