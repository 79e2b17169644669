// Istio 1.1's semantic validation (pilot/pkg/model/validation.go, what Galley's admission
// webhook and `istioctl validate` ran) for every kind the mesh reads. Schema errors (unknown
// fields, wrong types) are the reader's; these are the rules on values: hosts, ports, weights,
// durations, required fields, names. Each kind's Schema carries its validate function.
#pragma once
#include "config/resource.h"
#include "config/validation/findings.h"

namespace monomesh::config::validation {

// Errors and notes for one resource, each with the resource as subject, its field path and, as
// position, the resource's origin (the loader refines it to the offending field's line).
ValidationResult validateResource(const Resource& resource);

}  // namespace monomesh::config::validation
