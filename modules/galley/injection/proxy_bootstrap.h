// The bootstrap the injected `monomesh proxy` starts from: what Istio 1.1's pilot-agent wrote
// from envoy_bootstrap_v2.json (node id and metadata, ADS to Pilot over the `xds-grpc` cluster,
// the Prometheus listener on 15090), in Envoy v3 form. The sidecar has no pilot-agent, so the
// status port (15020, /healthz/ready) is a listener too, forwarding to the proxy's own admin
// /healthz/ready. Kubernetes expands $(POD_NAME)-style references in the container's args, so
// the node id can name the pod; literal text from the pod is written with `$` doubled.
#pragma once
#include <map>
#include <string>

namespace monomesh::galley::injection {

struct BootstrapParams {
  std::string node_id;        // sidecar~$(INSTANCE_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local
  std::string cluster;        // service cluster: <app label>.<namespace>
  std::map<std::string, std::string> metadata;  // node metadata (strings)
  std::string discovery_host = "istio-pilot.istio-system";
  int discovery_port = 15010;
  bool mutual_tls = false;    // controlPlaneAuthPolicy MUTUAL_TLS: xds-grpc over TLS with /etc/certs
  std::string pilot_identity; // the SAN Pilot must present under mutual TLS
  int connect_timeout_ms = 10000;
  int admin_port = 15000;
  int stats_port = 15090;
  int status_port = 15020;    // 0: none
};

// Compact JSON (a valid --config-yaml value).
std::string proxyBootstrapJson(const BootstrapParams& params);

// Text that Kubernetes' $(VAR) expansion must leave alone: "$" -> "$$".
std::string escapeKubeExpansion(const std::string& text);

}  // namespace monomesh::galley::injection
