#include "pilot/model/service.h"

namespace monomesh::pilot {

const ServicePort* Service::portByNumber(uint32_t number) const {
  for (const auto& p : ports)
    if (p.port == number) return &p;
  return nullptr;
}

const ServicePort* Service::portByName(const std::string& name) const {
  for (const auto& p : ports)
    if (p.name == name) return &p;
  return nullptr;
}

bool labelsMatch(const Labels& selector, const Labels& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace monomesh::pilot
