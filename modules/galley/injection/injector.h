// Sidecar injection into Kubernetes objects, as Istio 1.1's kube-inject and /inject webhook did:
// a workload (Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
// ReplicationController, or a `kind: List` of them) comes back with the sidecar in its pod
// template and the sidecar.istio.io/status annotation; other objects come back unchanged.
// Objects are parsed YAML (json_node.h types them); the input is never modified.
#pragma once
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/source_position.h"
#include "galley/injection/injection_config.h"
#include "istio/mesh/v1alpha1/config.pb.h"

namespace monomesh::galley::injection {

enum class InjectAction {
  NotWorkload,  // not a kind with a pod template: returned as it was
  Skipped,      // a workload the policy, hostNetwork or an earlier injection leaves alone
  Injected,
};

struct InjectResult {
  InjectAction action = InjectAction::NotWorkload;
  YAML::Node object;                  // the injected copy, or the input itself
  std::vector<std::string> skipped;   // "Deployment default/web: the pod has host networking enabled"
  // Bad input (a pod template that is not one, annotations that are not strings, invalid
  // annotation values): line and column point into the parsed text (file left empty).
  config::ConfigErrors errors;
};

class Injector {
 public:
  Injector(InjectionConfig config, istio::mesh::v1alpha1::MeshConfig mesh);

  InjectResult injectObject(const YAML::Node& object) const;

  // A Pod as an AdmissionReview carries it: `request_namespace` stands in for the pod's
  // namespace when the pod has none (pods made by a controller get theirs on admission).
  InjectResult injectPod(const YAML::Node& pod, const std::string& request_namespace) const;

  const std::string& version() const { return version_; }
  const InjectionConfig& config() const { return config_; }

 private:
  struct Workload;
  InjectResult injectAny(const YAML::Node& object) const;
  InjectResult injectWorkload(const YAML::Node& object, const Workload& workload, const std::string& fallback_namespace) const;

  InjectionConfig config_;
  istio::mesh::v1alpha1::MeshConfig mesh_;
  std::string version_;
};

}  // namespace monomesh::galley::injection
