#include "config/validation/validation.h"

namespace monomesh::config::validation {

ValidationResult validateResource(const Resource& resource) {
  Findings findings;
  if (resource.schema != nullptr && resource.schema->validate != nullptr && resource.body)
    resource.schema->validate(resource, findings);
  ValidationResult result = findings.take();
  const std::string subject = resource.key().str();
  for (auto* list : {&result.errors, &result.notes}) {
    for (auto& e : *list) {
      e.subject = subject;
      e.position = resource.origin;
    }
  }
  return result;
}

}  // namespace monomesh::config::validation
