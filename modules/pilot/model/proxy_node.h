// A connected proxy as Pilot sees it: Istio's node ID
// ("sidecar~10.1.1.1~productpage-v1-abc.default~default.svc.cluster.local") and node metadata,
// parsed once per ADS stream. Which workload it is (labels, service instances) is looked up in the
// PushContext of each push.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "envoy/config/core/v3/base.pb.h"
#include "pilot/model/service.h"

namespace monomesh::pilot {

enum class NodeType { Sidecar, Router };
enum class InterceptionMode { Redirect, Tproxy, None };

struct ProxyNode {
  NodeType type = NodeType::Sidecar;
  std::string ip;            // the first address in the ID (INSTANCE_IPS may add more)
  std::vector<std::string> ips;
  std::string id;            // "productpage-v1-abc.default"
  std::string pod_name;      // "productpage-v1-abc"
  std::string namespace_;    // CONFIG_NAMESPACE, else the ID's namespace
  std::string dns_domain;    // "default.svc.cluster.local"
  std::string network;       // NETWORK
  std::string locality;      // "region/zone/subzone" from node.locality
  std::string istio_version; // ISTIO_PROXY_VERSION
  Labels metadata_labels;    // labels the proxy declared (ISTIO_METAJSON_LABELS, LABELS)
  InterceptionMode interception = InterceptionMode::Redirect;
  std::string node_id;       // as sent

  // nullopt with `error` set when the ID is not Istio's form (the stream is refused).
  static std::optional<ProxyNode> parse(const envoy::config::core::v3::Node& node, std::string& error);
};

}  // namespace monomesh::pilot
