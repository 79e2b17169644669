// The pieces injection adds to a pod, as Istio 1.1's sidecar template rendered them:
//  - init container `istio-init`: the traffic capture, with istio-iptables.sh's arguments
//      -p 15001 -u 1337 -m REDIRECT -i '*' -x "" -b <container ports> -d 15020 [-k <interfaces>]
//    run as `monomesh iptables <those args>` in the monomesh image. That subcommand does not
//    exist yet; values.initCommand [] with initImage istio/proxy_init runs Istio's script instead.
//  - container `istio-proxy`: `monomesh proxy --config-yaml <bootstrap> --service-node ...
//    --service-cluster <app>.<ns> --drain-time-s 45 [--concurrency N]`, with 1.1's env
//    (POD_NAME, POD_NAMESPACE, INSTANCE_IP, ISTIO_META_*, ISTIO_METAJSON_*), port 15090
//    http-envoy-prom, readiness probe GET :15020/healthz/ready, UID 1337, resources, mounts;
//  - volumes istio-envoy (emptyDir in memory) and istio-certs (secret istio.<serviceaccount>);
//  - the sidecar.istio.io/status annotation's JSON.
#pragma once
#include <string>

#include <yaml-cpp/yaml.h>

#include "galley/injection/injection_config.h"
#include "galley/injection/pod_annotations.h"

namespace monomesh::galley::injection {

inline constexpr const char* kProxyContainerName = "istio-proxy";
inline constexpr const char* kInitContainerName = "istio-init";

struct PodInput {
  std::string workload_name;    // the workload's (Deployment's, or the pod's own) name
  std::string namespace_name;   // its namespace ("" reads as "default")
  StringMap labels;             // the pod's (template's)
  StringMap annotations;        // the pod's (template's), validated
  YAML::Node containers;        // spec.containers (their ports are the ones captured)
  std::string service_account;  // spec.serviceAccountName
};

struct SidecarSpec {
  YAML::Node init_containers;
  YAML::Node containers;
  YAML::Node volumes;
  YAML::Node image_pull_secrets;
  std::string status;  // sidecar.istio.io/status
};

// Fills `out`, or returns why not (a discovery address that is not host:port).
std::optional<std::string> buildSidecar(const InjectionConfig& config, const istio::mesh::v1alpha1::MeshConfig& mesh,
                                        const std::string& version, const PodInput& pod, SidecarSpec& out);

// The injector's version in the status annotation: a SHA-256 over everything that shapes the
// sidecar (1.1 hashed its template), so a changed config shows on injected pods.
std::string sidecarVersion(const InjectionConfig& config, const istio::mesh::v1alpha1::MeshConfig& mesh);

// "9080,9443": every containerPort of `containers`, in order (1.1's includeInboundPorts).
std::string containerPorts(const YAML::Node& containers);

}  // namespace monomesh::galley::injection
