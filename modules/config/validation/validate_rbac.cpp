// RBAC: ServiceRole rules, ServiceRoleBinding subjects and roleRef, ClusterRbacConfig and the
// deprecated RbacConfig (named "default", inclusion/exclusion present for their modes).
#include "config/resource.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"
#include "istio/rbac/v1alpha1/rbac.pb.h"

namespace monomesh::config::validation {

namespace rbac = istio::rbac::v1alpha1;

namespace {

}  // namespace

void validateServiceRole(const Resource& resource, Findings& findings) {
  const auto& role = resource.as<rbac::ServiceRole>();
  const FieldPath rules = FieldPath("spec.rules");
  if (role.rules().empty()) findings.error(rules, "a service role needs at least one rule");
  for (int i = 0; i < role.rules_size(); ++i) {
    const auto& rule = role.rules(i);
    const FieldPath item = rules[size_t(i)];
    if (rule.services().empty())
      findings.error(item / "services", "a rule needs at least one service (\"*\" means every service)");
    const FieldPath constraints = item / "constraints";
    for (int j = 0; j < rule.constraints_size(); ++j) {
      const auto& constraint = rule.constraints(j);
      const FieldPath c = constraints[size_t(j)];
      if (constraint.key().empty()) findings.error(c / "key", "a constraint needs a key");
      if (constraint.values().empty()) findings.error(c / "values", "a constraint needs at least one value");
    }
  }
}

void validateServiceRoleBinding(const Resource& resource, Findings& findings) {
  const auto& binding = resource.as<rbac::ServiceRoleBinding>();
  const FieldPath spec("spec");
  const FieldPath subjects = spec / "subjects";
  if (binding.subjects().empty()) findings.error(subjects, "a service role binding needs at least one subject");
  for (int i = 0; i < binding.subjects_size(); ++i) {
    const auto& subject = binding.subjects(i);
    // Istio 1.1.0 read only user, group and properties here; the hidden fields alone do not count.
    // `group` is deprecated in the API but still read, as Istio 1.1 did.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    bool has_group = !subject.group().empty();
#pragma GCC diagnostic pop
    if (subject.user().empty() && !has_group && subject.properties().empty())
      findings.error(subjects[size_t(i)], "a subject needs user, group or properties");
  }
  const FieldPath ref = spec / "roleRef";
  if (!binding.has_roleref()) {
    findings.error(ref, "roleRef is required (kind: ServiceRole, name: ...)");
    return;
  }
  if (binding.roleref().kind() != "ServiceRole")
    findings.error(ref / "kind", "roleRef kind must be \"ServiceRole\", got " + quoted(binding.roleref().kind()));
  if (binding.roleref().name().empty()) findings.error(ref / "name", "roleRef needs the name of a ServiceRole");
}

void validateRbacConfig(const Resource& resource, Findings& findings) {
  const auto& config = resource.as<rbac::RbacConfig>();
  const std::string& kind = resource.schema->kind;
  if (kind == "RbacConfig")
    findings.note(FieldPath("kind"), "RbacConfig is deprecated; use ClusterRbacConfig (cluster-scoped, also named \"default\")");
  if (resource.meta.name != "default")
    findings.error(FieldPath("metadata.name"), "a " + kind + " must be named \"default\", not " + quoted(resource.meta.name));
  const FieldPath spec("spec");
  if (config.mode() == rbac::RbacConfig::ON_WITH_INCLUSION && !config.has_inclusion())
    findings.error(spec / "inclusion", "mode ON_WITH_INCLUSION needs inclusion (use \"inclusion: {}\" for none)");
  if (config.mode() == rbac::RbacConfig::ON_WITH_EXCLUSION && !config.has_exclusion())
    findings.error(spec / "exclusion", "mode ON_WITH_EXCLUSION needs exclusion (use \"exclusion: {}\" for none)");
}

}  // namespace monomesh::config::validation
