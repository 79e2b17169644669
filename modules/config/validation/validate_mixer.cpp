// Mixer's kinds (config.istio.io): rule, instance, handler, attributemanifest and the legacy
// adapter/template kinds. Mixer's own store checked expressions and params against adapters and
// templates; Monomesh has no Mixer yet, so these are checked for structure only and each carries
// a note that it is not applied.
#include "config/resource.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"
#include "istio/policy/v1beta1/cfg.pb.h"

namespace monomesh::config::validation {

namespace policy = istio::policy::v1beta1;

void noteMixerNotApplied(Findings& findings) {
  findings.note(FieldPath("kind"), "Mixer config (config.istio.io) is checked for structure only; "
                                   "not applied until the telemetry work lands");
}

void validateMixerRule(const Resource& resource, Findings& findings) {
  const auto& rule = resource.as<policy::Rule>();
  const FieldPath actions = FieldPath("spec.actions");
  for (int i = 0; i < rule.actions_size(); ++i)
    if (rule.actions(i).handler().empty()) {
      const FieldPath action = actions[size_t(i)];
      findings.error(action / "handler", "an action needs a handler");
    }
  noteMixerNotApplied(findings);
}

void validateMixerInstance(const Resource& resource, Findings& findings) {
  const auto& instance = resource.as<policy::Instance>();
  if (instance.template_().empty() && instance.compiled_template().empty())
    findings.error(FieldPath("spec.compiledTemplate"), "an instance needs compiledTemplate or template");
  noteMixerNotApplied(findings);
}

void validateMixerHandler(const Resource& resource, Findings& findings) {
  const auto& handler = resource.as<policy::Handler>();
  if (handler.adapter().empty() && handler.compiled_adapter().empty())
    findings.error(FieldPath("spec.compiledAdapter"), "a handler needs compiledAdapter or adapter");
  noteMixerNotApplied(findings);
}

void validateAttributeManifest(const Resource& resource, Findings& findings) {
  const auto& manifest = resource.as<policy::AttributeManifest>();
  const FieldPath attributes = FieldPath("spec.attributes");
  for (const auto& [name, info] : manifest.attributes()) {
    const FieldPath attribute = attributes.key(name);
    if (info.value_type() == policy::VALUE_TYPE_UNSPECIFIED)
      findings.error(attribute / "valueType", "attribute \"" + name + "\" needs a valueType");
  }
  noteMixerNotApplied(findings);
}

void validateMixerLegacyKind(const Resource&, Findings& findings) {
  // Adapter and template params are free-form; the reader already required a mapping.
  noteMixerNotApplied(findings);
}

}  // namespace monomesh::config::validation
