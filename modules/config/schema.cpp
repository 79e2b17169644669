#include "config/schema.h"

#include <google/protobuf/struct.pb.h>

#include "config/validation/validators.h"

#include "istio/authentication/v1alpha1/policy.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/gateway.pb.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/sidecar.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/policy/v1beta1/cfg.pb.h"
#include "istio/rbac/v1alpha1/rbac.pb.h"
#include "k8s/api/core/v1/core.pb.h"

namespace monomesh::config {
namespace {

namespace net = istio::networking::v1alpha3;
namespace k8s = k8s::io::api::core::v1;

Schema istio(const std::string& group, const std::string& version, const std::string& kind,
             const std::string& plural, const google::protobuf::Descriptor* message,
             Scope scope = Scope::Namespaced) {
  // Collections drop the ".istio.io" suffix: istio/networking/v1alpha3/virtualservices.
  std::string short_group = group.substr(0, group.find('.'));
  return Schema{group, version, kind, plural, scope, Body::Spec, message, true, true,
                "istio/" + short_group + "/" + version + "/" + plural};
}

Schema kube(const std::string& kind, const std::string& plural, const google::protobuf::Descriptor* message,
            Scope scope = Scope::Namespaced) {
  return Schema{"", "v1", kind, plural, scope, Body::WholeObject, message, false, true, "k8s/core/v1/" + plural};
}

// Mixer's kinds: parsed and kept, their specs not checked field by field (Struct).
Schema mixer(const std::string& kind, const std::string& plural, const std::string& collection) {
  Schema s{"config.istio.io", "v1alpha2", kind, plural, Scope::Namespaced, Body::Spec,
           google::protobuf::Struct::descriptor(), true, false, collection};
  return s;
}

// Every Istio kind gets its validate function; config.istio.io kinds without rules of their own
// (the legacy adapter and template kinds) get the structural check and its note.
void attachValidation(std::vector<Schema>& schemas) {
  namespace v = validation;
  static const std::pair<std::string_view, ValidateFn> kRules[] = {
      {"VirtualService", v::validateVirtualService}, {"DestinationRule", v::validateDestinationRule},
      {"Gateway", v::validateGateway}, {"ServiceEntry", v::validateServiceEntry}, {"Sidecar", v::validateSidecar},
      {"EnvoyFilter", v::validateEnvoyFilter}, {"Policy", v::validateAuthenticationPolicy},
      {"MeshPolicy", v::validateAuthenticationPolicy}, {"ServiceRole", v::validateServiceRole},
      {"ServiceRoleBinding", v::validateServiceRoleBinding}, {"ClusterRbacConfig", v::validateRbacConfig},
      {"RbacConfig", v::validateRbacConfig}, {"rule", v::validateMixerRule}, {"instance", v::validateMixerInstance},
      {"handler", v::validateMixerHandler}, {"attributemanifest", v::validateAttributeManifest},
      {"HTTPAPISpec", v::validateHttpApiSpec}, {"HTTPAPISpecBinding", v::validateHttpApiSpecBinding},
      {"QuotaSpec", v::validateQuotaSpec}, {"QuotaSpecBinding", v::validateQuotaSpecBinding}};
  for (auto& schema : schemas) {
    if (!SchemaRegistry::isIstioGroup(schema.group)) continue;
    for (const auto& [kind, fn] : kRules)
      if (schema.kind == kind) schema.validate = fn;
    if (schema.validate == nullptr && schema.group == "config.istio.io") schema.validate = v::validateMixerLegacyKind;
  }
}

std::vector<Schema> builtinSchemas() {
  const std::string net_group = "networking.istio.io", authn = "authentication.istio.io",
                    rbac = "rbac.istio.io", cfg = "config.istio.io";
  std::vector<Schema> s = {
      istio(net_group, "v1alpha3", "VirtualService", "virtualservices", net::VirtualService::descriptor()),
      istio(net_group, "v1alpha3", "DestinationRule", "destinationrules", net::DestinationRule::descriptor()),
      istio(net_group, "v1alpha3", "Gateway", "gateways", net::Gateway::descriptor()),
      istio(net_group, "v1alpha3", "ServiceEntry", "serviceentries", net::ServiceEntry::descriptor()),
      istio(net_group, "v1alpha3", "Sidecar", "sidecars", net::Sidecar::descriptor()),
      istio(net_group, "v1alpha3", "EnvoyFilter", "envoyfilters", net::EnvoyFilter::descriptor()),
      istio(authn, "v1alpha1", "Policy", "policies", istio::authentication::v1alpha1::Policy::descriptor()),
      istio(authn, "v1alpha1", "MeshPolicy", "meshpolicies", istio::authentication::v1alpha1::Policy::descriptor(),
            Scope::Cluster),
      istio(rbac, "v1alpha1", "ServiceRole", "serviceroles", istio::rbac::v1alpha1::ServiceRole::descriptor()),
      istio(rbac, "v1alpha1", "ServiceRoleBinding", "servicerolebindings",
            istio::rbac::v1alpha1::ServiceRoleBinding::descriptor()),
      istio(rbac, "v1alpha1", "ClusterRbacConfig", "clusterrbacconfigs", istio::rbac::v1alpha1::RbacConfig::descriptor(),
            Scope::Cluster),
      istio(rbac, "v1alpha1", "RbacConfig", "rbacconfigs", istio::rbac::v1alpha1::RbacConfig::descriptor()),
  };
  // Mixer (config.istio.io/v1alpha2). rule/instance/handler/attributemanifest are typed.
  for (auto [kind, plural, message] : {
           std::tuple{"rule", "rules", istio::policy::v1beta1::Rule::descriptor()},
           std::tuple{"instance", "instances", istio::policy::v1beta1::Instance::descriptor()},
           std::tuple{"handler", "handlers", istio::policy::v1beta1::Handler::descriptor()},
           std::tuple{"attributemanifest", "attributemanifests", istio::policy::v1beta1::AttributeManifest::descriptor()},
       }) {
    s.push_back(istio(cfg, "v1alpha2", kind, plural, message));
    s.back().collection = std::string("istio/policy/v1beta1/") + plural;
  }
  for (auto [kind, plural] : {std::pair{"adapter", "adapters"}, std::pair{"template", "templates"}})
    s.push_back(mixer(kind, plural, std::string("istio/config/v1alpha2/") + plural));
  for (auto [kind, plural] : {std::pair{"HTTPAPISpec", "httpapispecs"}, std::pair{"HTTPAPISpecBinding", "httpapispecbindings"},
                              std::pair{"QuotaSpec", "quotaspecs"}, std::pair{"QuotaSpecBinding", "quotaspecbindings"}})
    s.push_back(mixer(kind, plural, std::string("istio/mixer/v1/config/client/") + plural));
  for (auto [kind, plural] : {
           std::pair{"bypass", "bypasses"}, {"circonus", "circonuses"}, {"cloudwatch", "cloudwatches"},
           {"denier", "deniers"}, {"dogstatsd", "dogstatsds"}, {"fluentd", "fluentds"},
           {"kubernetesenv", "kubernetesenvs"}, {"listchecker", "listcheckers"}, {"memquota", "memquotas"},
           {"noop", "noops"}, {"opa", "opas"}, {"prometheus", "prometheuses"}, {"rbac", "rbacs"},
           {"redisquota", "redisquotas"}, {"signalfx", "signalfxs"}, {"solarwinds", "solarwindses"},
           {"stackdriver", "stackdrivers"}, {"statsd", "statsds"}, {"stdio", "stdios"}, {"zipkin", "zipkins"},
           {"apikey", "apikeys"}, {"authorization", "authorizations"}, {"checknothing", "checknothings"},
           {"edge", "edges"}, {"kubernetes", "kuberneteses"}, {"listentry", "listentries"},
           {"logentry", "logentries"}, {"metric", "metrics"}, {"quota", "quotas"},
           {"reportnothing", "reportnothings"}, {"tracespan", "tracespans"}})
    s.push_back(mixer(kind, plural, std::string("istio/config/v1alpha2/legacy/") + plural));
  // Kubernetes objects the mesh reads.
  s.push_back(kube("Service", "services", k8s::Service::descriptor()));
  s.push_back(kube("Endpoints", "endpoints", k8s::Endpoints::descriptor()));
  s.push_back(kube("Pod", "pods", k8s::Pod::descriptor()));
  s.push_back(kube("Node", "nodes", k8s::Node::descriptor(), Scope::Cluster));
  s.push_back(kube("Namespace", "namespaces", k8s::Namespace::descriptor(), Scope::Cluster));
  s.push_back(kube("Secret", "secrets", k8s::Secret::descriptor()));
  s.push_back(kube("ConfigMap", "configmaps", k8s::ConfigMap::descriptor()));
  attachValidation(s);
  return s;
}

}  // namespace

SchemaRegistry::SchemaRegistry(std::vector<Schema> schemas) : schemas_(std::move(schemas)) {}

const SchemaRegistry& SchemaRegistry::builtin() {
  static const SchemaRegistry registry(builtinSchemas());
  return registry;
}

const Schema* SchemaRegistry::find(std::string_view api_version, std::string_view kind) const {
  for (const auto& s : schemas_)
    if (s.kind == kind && s.apiVersion() == api_version) return &s;
  return nullptr;
}

const Schema* SchemaRegistry::findByKind(std::string_view kind) const {
  for (const auto& s : schemas_)
    if (s.kind == kind) return &s;
  return nullptr;
}

const Schema* SchemaRegistry::findByCollection(std::string_view collection) const {
  for (const auto& s : schemas_)
    if (s.collection == collection) return &s;
  return nullptr;
}

bool SchemaRegistry::isIstioGroup(std::string_view group) {
  return group == "networking.istio.io" || group == "authentication.istio.io" || group == "rbac.istio.io" ||
         group == "config.istio.io";
}

std::vector<std::string> SchemaRegistry::versionsOf(std::string_view group) const {
  std::vector<std::string> out;
  for (const auto& s : schemas_)
    if (s.group == group && std::find(out.begin(), out.end(), s.version) == out.end()) out.push_back(s.version);
  return out;
}

}  // namespace monomesh::config
