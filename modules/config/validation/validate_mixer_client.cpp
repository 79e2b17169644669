// The Mixer client kinds Pilot turned into the proxy's mixer filter config: HTTPAPISpec,
// HTTPAPISpecBinding, QuotaSpec and QuotaSpecBinding. The mesh keeps them as Struct, so this
// walks the Struct: wrong shapes are errors, then Istio 1.1's rules apply.
#include <google/protobuf/struct.pb.h>

#include "config/resource.h"
#include "config/validation/common_checks.h"
#include "config/validation/hosts.h"
#include "config/validation/findings.h"
#include "config/validation/validators.h"

namespace monomesh::config::validation {

namespace pb = google::protobuf;

namespace {

// A member by its JSON name or, as written by some, its proto name.
const pb::Value* member(const pb::Struct& s, const std::string& json, const std::string& proto) {
  auto it = s.fields().find(json);
  if (it == s.fields().end() && proto != json) it = s.fields().find(proto);
  return it == s.fields().end() || it->second.kind_case() == pb::Value::kNullValue ? nullptr : &it->second;
}

const pb::Struct* asStruct(const pb::Value* v, const FieldPath& at, Findings& findings) {
  if (v == nullptr) return nullptr;
  if (v->kind_case() == pb::Value::kStructValue) return &v->struct_value();
  findings.error(at, "expected a mapping");
  return nullptr;
}

const pb::ListValue* asList(const pb::Value* v, const FieldPath& at, Findings& findings) {
  if (v == nullptr) return nullptr;
  if (v->kind_case() == pb::Value::kListValue) return &v->list_value();
  findings.error(at, "expected a list");
  return nullptr;
}

// The string member, or nullopt when absent (an error when it is not a string).
std::optional<std::string> stringMember(const pb::Struct& s, const std::string& json, const std::string& proto,
                                        const FieldPath& at, Findings& findings) {
  const pb::Value* v = member(s, json, proto);
  if (v == nullptr) return std::nullopt;
  if (v->kind_case() == pb::Value::kStringValue) return v->string_value();
  findings.error(at, "expected a string");
  return std::nullopt;
}

// Each item of the list member `json` that is a mapping, with its path.
template <class Fn>
void forEachStruct(const pb::Struct& s, const std::string& json, const std::string& proto, const FieldPath& at,
                   Findings& findings, Fn fn) {
  const pb::ListValue* list = asList(member(s, json, proto), at, findings);
  if (list == nullptr) return;
  for (int i = 0; i < list->values_size(); ++i)
    if (const pb::Struct* item = asStruct(&list->values(i), at[size_t(i)], findings)) fn(*item, at[size_t(i)]);
}

// Absent or an empty list (a member of another type is reported by forEachStruct instead).
bool missingOrEmpty(const pb::Struct& s, const std::string& json, const std::string& proto) {
  const pb::Value* v = member(s, json, proto);
  return v == nullptr || (v->kind_case() == pb::Value::kListValue && v->list_value().values().empty());
}

// mixer.v1.Attributes: {attributes: {name: {stringValue: ...}}}; string values cannot be empty.
void checkAttributes(const pb::Struct& parent, const FieldPath& at, Findings& findings) {
  const pb::Struct* attributes = asStruct(member(parent, "attributes", "attributes"), at, findings);
  if (attributes == nullptr) return;
  const FieldPath inner = at / "attributes";
  const pb::Struct* map = asStruct(member(*attributes, "attributes", "attributes"), inner, findings);
  if (map == nullptr) return;
  for (const auto& [name, value] : map->fields()) {
    const FieldPath attribute = inner.key(name);
    const pb::Struct* v = asStruct(&value, attribute, findings);
    if (v == nullptr) continue;
    auto s = stringMember(*v, "stringValue", "string_value", attribute / "stringValue", findings);
    if (s && s->empty()) findings.error(attribute / "stringValue", "string attribute " + quoted(name) + " cannot be empty");
  }
}

// mixer.v1.config.client.IstioService.
void checkService(const pb::Struct& svc, const FieldPath& at, Findings& findings) {
  std::string name = stringMember(svc, "name", "name", at / "name", findings).value_or("");
  std::string service = stringMember(svc, "service", "service", at / "service", findings).value_or("");
  std::string ns = stringMember(svc, "namespace", "namespace", at / "namespace", findings).value_or("");
  std::string domain = stringMember(svc, "domain", "domain", at / "domain", findings).value_or("");
  if (name.empty() && service.empty()) {
    findings.error(at, "a service reference needs name or service");
  } else if (!name.empty() && !service.empty()) {
    findings.error(at, "a service reference takes name or service, not both");
  } else if (!service.empty()) {
    if (!ns.empty()) findings.error(at / "namespace", "namespace cannot be used with service");
    if (!domain.empty()) findings.error(at / "domain", "domain cannot be used with service");
  } else if (!isDns1123Label(name)) {
    findings.error(at / "name", "name " + quoted(name) + " is not a DNS-1123 label");
  }
  if (!ns.empty() && !isDns1123Label(ns)) findings.error(at / "namespace", "namespace " + quoted(ns) + " is not a DNS-1123 label");
  if (!domain.empty()) findings.check(at / "domain", fqdnError(domain));
}

void checkBinding(const Resource& resource, Findings& findings, const std::string& refs_json,
                  const std::string& refs_proto, const std::string& what) {
  const auto& spec = resource.as<pb::Struct>();
  const FieldPath root("spec");
  if (missingOrEmpty(spec, "services", "services")) findings.error(root / "services", "a binding needs at least one service");
  forEachStruct(spec, "services", "services", root / "services", findings,
                [&](const pb::Struct& svc, const FieldPath& at) { checkService(svc, at, findings); });
  if (missingOrEmpty(spec, refs_json, refs_proto)) findings.error(root / refs_json, "a binding needs at least one " + what);
  forEachStruct(spec, refs_json, refs_proto, root / refs_json, findings, [&](const pb::Struct& ref, const FieldPath& at) {
    auto name = stringMember(ref, "name", "name", at / "name", findings);
    if (!name || name->empty()) findings.error(at / "name", "a " + what + " reference needs a name");
    auto ns = stringMember(ref, "namespace", "namespace", at / "namespace", findings);
    if (ns && !ns->empty() && !isDns1123Label(*ns))
      findings.error(at / "namespace", "namespace " + quoted(*ns) + " is not a DNS-1123 label");
  });
}

}  // namespace

void validateHttpApiSpec(const Resource& resource, Findings& findings) {
  const auto& spec = resource.as<pb::Struct>();
  const FieldPath root("spec");
  checkAttributes(spec, root / "attributes", findings);
  if (missingOrEmpty(spec, "patterns", "patterns")) findings.error(root / "patterns", "an HTTPAPISpec needs at least one pattern");
  forEachStruct(spec, "patterns", "patterns", root / "patterns", findings, [&](const pb::Struct& p, const FieldPath& at) {
    // Istio 1.1 checked the spec's top-level attributes once per pattern, so a spec without
    // top-level attributes and with patterns was always rejected; the pattern's own (optional)
    // attributes are what was meant.
    checkAttributes(p, at / "attributes", findings);
    auto method = stringMember(p, "httpMethod", "http_method", at / "httpMethod", findings);
    if (!method || method->empty()) findings.error(at / "httpMethod", "a pattern needs httpMethod");
    auto uri = stringMember(p, "uriTemplate", "uri_template", at / "uriTemplate", findings);
    auto regex = stringMember(p, "regex", "regex", at / "regex", findings);
    if (!uri && !regex) findings.error(at, "a pattern needs uriTemplate or regex");
    if (uri && uri->empty()) findings.error(at / "uriTemplate", "uriTemplate cannot be empty");
    if (regex && regex->empty()) findings.error(at / "regex", "regex cannot be empty");
  });
  forEachStruct(spec, "apiKeys", "api_keys", root / "apiKeys", findings, [&](const pb::Struct& key, const FieldPath& at) {
    for (const char* where : {"query", "header", "cookie"}) {
      auto v = stringMember(key, where, where, at / where, findings);
      if (v && v->empty()) findings.error(at / where, std::string("an API key's ") + where + " cannot be empty");
    }
  });
  noteMixerNotApplied(findings);
}

void validateHttpApiSpecBinding(const Resource& resource, Findings& findings) {
  checkBinding(resource, findings, "apiSpecs", "api_specs", "HTTPAPISpec");
  noteMixerNotApplied(findings);
}

void validateQuotaSpecBinding(const Resource& resource, Findings& findings) {
  checkBinding(resource, findings, "quotaSpecs", "quota_specs", "QuotaSpec");
  noteMixerNotApplied(findings);
}

void validateQuotaSpec(const Resource& resource, Findings& findings) {
  const auto& spec = resource.as<pb::Struct>();
  const FieldPath root("spec");
  if (missingOrEmpty(spec, "rules", "rules")) findings.error(root / "rules", "a QuotaSpec needs at least one rule");
  forEachStruct(spec, "rules", "rules", root / "rules", findings, [&](const pb::Struct& rule, const FieldPath& at) {
    forEachStruct(rule, "match", "match", at / "match", findings, [&](const pb::Struct& match, const FieldPath& m) {
      const pb::Struct* clause = asStruct(member(match, "clause", "clause"), m / "clause", findings);
      if (clause == nullptr) return;
      const FieldPath clauses = m / "clause";
      for (const auto& [name, value] : clause->fields()) {
        const FieldPath c = clauses.key(name);
        if (name.empty()) findings.error(c, "a match clause needs an attribute name");
        const pb::Struct* sm = asStruct(&value, c, findings);
        if (sm == nullptr) continue;
        for (const char* kind : {"exact", "prefix", "regex"}) {
          auto v = stringMember(*sm, kind, kind, c / kind, findings);
          if (v && v->empty()) findings.error(c / kind, std::string(kind) + " match for " + quoted(name) + " cannot be empty");
        }
      }
    });
    if (missingOrEmpty(rule, "quotas", "quotas")) findings.error(at / "quotas", "a rule needs at least one quota");
    forEachStruct(rule, "quotas", "quotas", at / "quotas", findings, [&](const pb::Struct& quota, const FieldPath& q) {
      auto name = stringMember(quota, "quota", "quota", q / "quota", findings);
      if (!name || name->empty()) findings.error(q / "quota", "a quota needs a name");
      const pb::Value* charge = member(quota, "charge", "charge");
      double amount = 0;
      if (charge != nullptr && charge->kind_case() == pb::Value::kNumberValue) amount = charge->number_value();
      if (charge != nullptr && charge->kind_case() == pb::Value::kStringValue) amount = std::atof(charge->string_value().c_str());
      if (amount <= 0) findings.error(q / "charge", "a quota's charge must be greater than 0");
    });
  });
  noteMixerNotApplied(findings);
}

}  // namespace monomesh::config::validation
