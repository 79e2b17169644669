// Istio 1.1's MeshNetworks (pilot-discovery --networksConfig, the meshNetworks key of ConfigMap
// istio): which network an endpoint is on — every endpoint of a registry (fromRegistry, by cluster
// ID) or those whose IP lies in a CIDR (fromCidr) — and the gateways (an IP address, or a registry
// service's external addresses, with a port) through which proxies on other networks reach that
// network's endpoints. EDS for a proxy on one network replaces the endpoints of the others by
// their gateways (split horizon, endpoint_builder).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/source_position.h"
#include "istio/mesh/v1alpha1/network.pb.h"

namespace monomesh::pilot {

struct NetworkGateway {
  std::string address;                // an IP address, or
  std::string registry_service_name;  // the host of a service whose external addresses are the gateway
  uint32_t port = 0;
};

class MeshNetworks {
 public:
  // Reads and checks the file's text (YAML or JSON). Every error names file:line:column and the
  // field (`networks["net1"].endpoints[0].fromCidr`); with errors the result is nullopt.
  static std::optional<MeshNetworks> parse(const std::string& text, const std::string& file, config::ConfigErrors& errors);
  static std::optional<MeshNetworks> load(const std::string& path, config::ConfigErrors& errors);

  // No networks: every endpoint is reachable directly, EDS is not split.
  bool empty() const { return networks_.empty(); }
  size_t size() const { return networks_.size(); }
  std::vector<std::string> names() const;

  // The network of an endpoint that names none: its registry's (fromRegistry), else the one whose
  // fromCidr holds `ip` (the longest prefix when several do), else "".
  std::string networkOf(std::string_view cluster_id, std::string_view ip) const;
  // The network's gateways; null for a network the file does not define.
  const std::vector<NetworkGateway>* gateways(std::string_view network) const;

 private:
  struct Cidr {
    uint32_t address = 0;
    uint32_t mask = 0;
    int prefix = 0;
    std::string network;
  };
  std::map<std::string, std::vector<NetworkGateway>, std::less<>> networks_;
  std::map<std::string, std::string, std::less<>> registries_;  // cluster ID -> network
  std::vector<Cidr> cidrs_;                                      // longest prefix first
};

}  // namespace monomesh::pilot
