// What the injector is told: Istio 1.1's injector config (policy, never/always-inject selectors)
// and, in place of its Go template, the values that template read from Helm (`global.proxy.*`,
// images). Read from --injectConfigFile; the mesh side (ProxyConfig) comes from MeshConfig.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "config/source_position.h"
#include "istio/mesh/v1alpha1/config.pb.h"

namespace monomesh::galley::injection {

// `enabled`: inject unless the pod says sidecar.istio.io/inject: "false"; `disabled`: inject only
// pods that say "true".
enum class InjectionPolicy { Enabled, Disabled };

// metav1.LabelSelector: matchLabels AND every matchExpression (In, NotIn, Exists, DoesNotExist).
struct LabelSelector {
  struct Requirement {
    std::string key, op;
    std::vector<std::string> values;
  };
  std::map<std::string, std::string> match_labels;
  std::vector<Requirement> match_expressions;

  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
  bool matches(const std::map<std::string, std::string>& labels) const;
};

// The sidecar's settings (Istio 1.1 chart names in comments). Images are `hub/image:tag`.
struct SidecarValues {
  std::string hub = "docker.io/monomesh";
  std::string tag;                         // default: this binary's version
  std::string proxy_image = "monomesh";    // global.proxy.image
  std::string init_image = "monomesh";     // global.proxy_init.image
  // The init container runs `monomesh iptables` with istio-iptables.sh's flags (see sidecar_spec.h);
  // an empty command leaves the image's entrypoint (istio's proxy_init image takes the same args).
  std::vector<std::string> init_command = {"monomesh", "iptables"};
  std::vector<std::string> proxy_command = {"monomesh"};
  std::string image_pull_policy = "IfNotPresent";
  std::string cluster_domain = "cluster.local";
  // global.proxy.resources (the 1.1 demo profile's requests; the default profile asked for
  // 100m/128Mi with limits 2000m/128Mi). Empty fields are left out.
  std::string requests_cpu = "10m", requests_memory = "40Mi", limits_cpu, limits_memory;
  int status_port = 15020;                 // 0: no status port, no readiness probe
  unsigned readiness_initial_delay_seconds = 1, readiness_period_seconds = 2, readiness_failure_threshold = 30;
  std::string include_ip_ranges = "*";
  std::string exclude_ip_ranges;
  std::string include_inbound_ports;       // "": the pod's container ports, as 1.1's template did
  std::string exclude_inbound_ports;
  std::string kubevirt_interfaces;
  std::string network;                     // global.network -> ISTIO_META_NETWORK
  std::string trust_domain;                // global.trustDomain
  bool privileged = false;                 // global.proxy.privileged
  bool enable_core_dump = false;           // global.proxy.enableCoreDump (else a read-only root fs)
  std::string istio_version = "1.1.0";     // ISTIO_PROXY_VERSION in the node metadata Pilot reads
};

struct InjectionConfig {
  InjectionPolicy policy = InjectionPolicy::Enabled;
  std::vector<LabelSelector> never_inject_selector;
  std::vector<LabelSelector> always_inject_selector;
  SidecarValues values;
};

InjectionConfig defaultInjectionConfig();

// Reads the injector config file:
//   policy: enabled|disabled
//   neverInjectSelector: [LabelSelector...]
//   alwaysInjectSelector: [LabelSelector...]
//   values: {hub, tag, proxyImage, initImage, initCommand, proxyCommand, imagePullPolicy,
//            clusterDomain, statusPort, readinessInitialDelaySeconds, readinessPeriodSeconds,
//            readinessFailureThreshold, includeIPRanges, excludeIPRanges, includeInboundPorts,
//            excludeInboundPorts, kubevirtInterfaces, resources: {requests, limits: {cpu, memory}},
//            network, trustDomain, privileged, enableCoreDump, istioVersion}
// Istio's `template` (a Go template) is not run: it is reported in `notes` and ignored. Unknown
// keys and bad values are errors with file:line:column.
config::ConfigErrors readInjectionConfig(const std::string& text, const std::string& file, InjectionConfig& out,
                                         std::vector<std::string>& notes);
config::ConfigErrors readInjectionConfigFile(const std::string& path, InjectionConfig& out,
                                             std::vector<std::string>& notes);

// MeshConfig as the 1.1 chart's ConfigMap `istio` set it (discoveryAddress
// istio-pilot.istio-system:15010, connectTimeout 10s, concurrency 2, zipkin in istio-system):
// what kube-inject read from the cluster; used when no --meshConfigFile is given.
istio::mesh::v1alpha1::MeshConfig chartMeshConfig();

}  // namespace monomesh::galley::injection
