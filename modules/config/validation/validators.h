// The validate function of each kind, as the schema registry attaches them (Istio's schemas
// carry their Validate function the same way). Each reads the resource's typed body and
// metadata and reports to `findings`; none throws.
#pragma once

namespace monomesh::config {
struct Resource;
}

namespace monomesh::config::validation {

class Findings;

// networking.istio.io
void validateVirtualService(const Resource& resource, Findings& findings);
void validateDestinationRule(const Resource& resource, Findings& findings);
void validateGateway(const Resource& resource, Findings& findings);
void validateServiceEntry(const Resource& resource, Findings& findings);
void validateSidecar(const Resource& resource, Findings& findings);
void validateEnvoyFilter(const Resource& resource, Findings& findings);
// authentication.istio.io: Policy and MeshPolicy (told apart by the schema's scope).
void validateAuthenticationPolicy(const Resource& resource, Findings& findings);
// rbac.istio.io
void validateServiceRole(const Resource& resource, Findings& findings);
void validateServiceRoleBinding(const Resource& resource, Findings& findings);
void validateRbacConfig(const Resource& resource, Findings& findings);  // ClusterRbacConfig and RbacConfig
// config.istio.io: Mixer's runtime kinds, its legacy adapter/template kinds and the Mixer
// client kinds Pilot reads (HTTPAPISpec, QuotaSpec and their bindings).
void validateMixerRule(const Resource& resource, Findings& findings);
void validateMixerInstance(const Resource& resource, Findings& findings);
void validateMixerHandler(const Resource& resource, Findings& findings);
void validateAttributeManifest(const Resource& resource, Findings& findings);
void validateMixerLegacyKind(const Resource& resource, Findings& findings);
void validateHttpApiSpec(const Resource& resource, Findings& findings);
void validateHttpApiSpecBinding(const Resource& resource, Findings& findings);
void validateQuotaSpec(const Resource& resource, Findings& findings);
void validateQuotaSpecBinding(const Resource& resource, Findings& findings);
// The note every Mixer kind carries: accepted, but nothing in the mesh applies it yet.
void noteMixerNotApplied(Findings& findings);

}  // namespace monomesh::config::validation
