#include "galley/injection/injector.h"

#include <algorithm>

#include "galley/injection/json_node.h"
#include "galley/injection/pod_annotations.h"
#include "galley/injection/sidecar_spec.h"

namespace monomesh::galley::injection {

struct Injector::Workload {
  const char* kind;
  std::vector<std::string> groups;          // API groups ("" is the core group, apiVersion v1)
  std::vector<std::string> template_path;   // where the pod template is; empty for a Pod
};

namespace {

const std::vector<std::string> kPodTemplate = {"spec", "template"};

std::string apiGroup(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

std::string joinPath(const std::vector<std::string>& path, const std::string& leaf) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : ".") + p;
  if (!leaf.empty()) out += (out.empty() ? "" : ".") + leaf;
  return out;
}

config::ConfigError errorAt(const YAML::Node& node, const std::string& subject, const std::string& path, const std::string& message) {
  config::ConfigError e{config::SourcePosition{"", 0, 0}, subject, path, message};
  if (node.IsDefined()) {
    auto mark = node.Mark();
    if (!mark.is_null()) {
      e.position.line = mark.line + 1;
      e.position.column = mark.column + 1;
    }
  }
  return e;
}

std::string subjectOf(const YAML::Node& object) {
  const YAML::Node meta = member(object, "metadata");
  std::string kind = stringValue(member(object, "kind"));
  std::string ns = stringValue(member(meta, "namespace"));
  std::string name = stringValue(member(meta, "name"));
  if (name.empty()) name = stringValue(member(meta, "generateName"));
  return kind + " " + (ns.empty() ? "" : ns + "/") + name;
}

// labels / annotations: strings only, as the API server requires.
StringMap readStringMap(const YAML::Node& node, const std::string& path, const std::string& subject, config::ConfigErrors& errors) {
  StringMap out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) {
    errors.push_back(errorAt(node, subject, path, "expected a map of strings"));
    return out;
  }
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    if (!entry.second.IsScalar() || jsonKind(entry.second) != JsonKind::String) {
      std::string hint = entry.second.IsScalar() ? " (quote it: \"" + entry.second.Scalar() + "\")" : "";
      errors.push_back(errorAt(entry.second, subject, path + "." + key, "must be a string" + hint));
      continue;
    }
    out[key] = entry.second.Scalar();
  }
  return out;
}

bool isOptionalList(const YAML::Node& node) { return !node.IsDefined() || node.IsNull() || node.IsSequence(); }

void appendItems(YAML::Node spec, const char* key, const YAML::Node& items) {
  if (items.size() == 0) return;
  const YAML::Node existing = static_cast<const YAML::Node&>(spec)[key];
  if (!existing.IsDefined() || existing.IsNull()) spec[key] = emptyArray();
  YAML::Node list = spec[key];
  for (const auto& item : items) list.push_back(item);
}

}  // namespace

Injector::Injector(InjectionConfig config, istio::mesh::v1alpha1::MeshConfig mesh)
    : config_(std::move(config)), mesh_(std::move(mesh)), version_(sidecarVersion(config_, mesh_)) {}

// yaml-cpp throws on some shapes (a scalar indexed like a map); whatever slips past the checks
// becomes an error on the object, never an escaping exception.
InjectResult Injector::injectObject(const YAML::Node& object) const {
  try {
    return injectAny(object);
  } catch (const YAML::Exception& e) {
    InjectResult result;
    result.object.reset(object);
    result.errors.push_back(errorAt(object, subjectOf(object), "", "unexpected object shape: " + e.msg));
    return result;
  }
}

InjectResult Injector::injectAny(const YAML::Node& object) const {
  static const std::vector<Workload> workloads = {
      {"Pod", {""}, {}},
      {"ReplicationController", {""}, kPodTemplate},
      {"Deployment", {"apps", "extensions"}, kPodTemplate},
      {"ReplicaSet", {"apps", "extensions"}, kPodTemplate},
      {"DaemonSet", {"apps", "extensions"}, kPodTemplate},
      {"StatefulSet", {"apps"}, kPodTemplate},
      {"Job", {"batch"}, kPodTemplate},
      {"CronJob", {"batch"}, {"spec", "jobTemplate", "spec", "template"}},
  };
  InjectResult result;
  result.object.reset(object);
  if (!object.IsMap()) return result;
  const std::string kind = stringValue(member(object, "kind"));
  const std::string group = apiGroup(stringValue(member(object, "apiVersion")));

  if (kind == "List" && group.empty()) {
    const YAML::Node items = member(object, "items");
    if (!isOptionalList(items)) {
      result.errors.push_back(errorAt(items, "List", "items", "expected a list of objects"));
      return result;
    }
    if (!items.IsSequence()) return result;
    YAML::Node copy = YAML::Clone(object);
    bool injected = false;
    std::vector<YAML::Node> replaced;
    for (size_t i = 0; i < items.size(); ++i) {
      InjectResult item = injectAny(items[i]);
      for (auto& e : item.errors) e.path = "items[" + std::to_string(i) + "]" + (e.path.empty() ? "" : "." + e.path);
      result.errors.insert(result.errors.end(), item.errors.begin(), item.errors.end());
      result.skipped.insert(result.skipped.end(), item.skipped.begin(), item.skipped.end());
      injected = injected || item.action == InjectAction::Injected;
      replaced.push_back(item.action == InjectAction::Injected ? item.object : YAML::Clone(items[i]));
    }
    if (!result.errors.empty() || !injected) {
      result.action = result.skipped.empty() ? InjectAction::NotWorkload : InjectAction::Skipped;
      return result;
    }
    YAML::Node fresh = emptyArray();
    for (const auto& item : replaced) fresh.push_back(item);
    copy["items"] = fresh;  // a fresh copy's own member: assigning replaces it there only
    result.action = InjectAction::Injected;
    result.object.reset(copy);  // `=` would write through to the caller's node
    return result;
  }
  for (const auto& w : workloads) {
    if (kind == w.kind && std::find(w.groups.begin(), w.groups.end(), group) != w.groups.end())
      return injectWorkload(object, w, "");
  }
  return result;
}

InjectResult Injector::injectPod(const YAML::Node& pod, const std::string& request_namespace) const {
  static const Workload pod_workload{"Pod", {""}, {}};
  if (!pod.IsMap()) {
    InjectResult result;
    result.object.reset(pod);
    result.errors.push_back(errorAt(pod, "Pod", "", "expected a Pod object"));
    return result;
  }
  try {
    return injectWorkload(pod, pod_workload, request_namespace);
  } catch (const YAML::Exception& e) {
    InjectResult result;
    result.object.reset(pod);
    result.errors.push_back(errorAt(pod, subjectOf(pod), "", "unexpected object shape: " + e.msg));
    return result;
  }
}

InjectResult Injector::injectWorkload(const YAML::Node& object, const Workload& w, const std::string& fallback_namespace) const {
  InjectResult result;
  result.object.reset(object);
  const std::string subject = subjectOf(object);
  auto fail = [&](const YAML::Node& at, const std::string& leaf, const std::string& message) {
    result.errors.push_back(errorAt(at, subject, joinPath(w.template_path, leaf), message));
    return result;
  };

  YAML::Node tmpl = object;  // a read-only walk (`reset` re-points the handle; `=` would write)
  for (size_t i = 0; i < w.template_path.size(); ++i) {
    const YAML::Node next = member(tmpl, w.template_path[i]);
    if (!next.IsMap()) {
      std::vector<std::string> prefix(w.template_path.begin(), w.template_path.begin() + long(i) + 1);
      result.errors.push_back(errorAt(next.IsDefined() ? next : tmpl, subject, joinPath(prefix, ""),
                                      next.IsDefined() ? "expected an object" : "missing: a " + std::string(w.kind) + " needs a pod template"));
      return result;
    }
    tmpl.reset(next);
  }
  const YAML::Node& t = tmpl;
  const YAML::Node meta = member(t, "metadata");
  const YAML::Node spec = member(t, "spec");
  if (meta.IsDefined() && !meta.IsNull() && !meta.IsMap()) return fail(meta, "metadata", "expected an object");
  if (!spec.IsMap()) return fail(spec.IsDefined() ? spec : t, "spec", spec.IsDefined() ? "expected an object" : "missing: the pod spec");
  const YAML::Node containers = member(spec, "containers");
  if (!containers.IsSequence()) return fail(containers.IsDefined() ? containers : spec, "spec.containers", "expected a list of containers");
  for (const char* list : {"initContainers", "volumes"}) {
    if (!isOptionalList(member(spec, list))) return fail(member(spec, list), std::string("spec.") + list, "expected a list");
  }

  PodFacts facts;
  PodInput input;
  const YAML::Node object_meta = member(object, "metadata");
  input.workload_name = stringValue(member(object_meta, "name"));
  input.namespace_name = stringValue(member(object_meta, "namespace"));
  if (input.namespace_name.empty()) input.namespace_name = stringValue(member(meta, "namespace"));
  if (input.namespace_name.empty()) input.namespace_name = fallback_namespace;
  facts.namespace_name = input.namespace_name;
  facts.labels = readStringMap(member(meta, "labels"), joinPath(w.template_path, "metadata.labels"), subject, result.errors);
  facts.annotations = readStringMap(member(meta, "annotations"), joinPath(w.template_path, "metadata.annotations"), subject, result.errors);
  if (!result.errors.empty()) return result;
  const YAML::Node host_network = member(spec, "hostNetwork");
  facts.host_network = jsonKind(host_network) == JsonKind::Bool && (host_network.Scalar()[0] | 0x20) == 't';
  for (const auto& c : containers)
    if (stringValue(member(c, "name")) == kProxyContainerName) facts.has_proxy_container = true;

  if (auto why = skipReason(config_, facts)) {
    result.action = InjectAction::Skipped;
    result.skipped.push_back(subject + ": " + *why);
    return result;
  }
  for (const auto& bad : validateAnnotations(facts.annotations)) {
    const YAML::Node at = member(member(meta, "annotations"), bad.annotation);
    result.errors.push_back(errorAt(at, subject, joinPath(w.template_path, "metadata.annotations." + bad.annotation), bad.message));
  }
  if (!result.errors.empty()) return result;

  input.labels = facts.labels;
  input.annotations = facts.annotations;
  input.containers = containers;
  input.service_account = stringValue(member(spec, "serviceAccountName"));
  if (input.service_account.empty()) input.service_account = stringValue(member(spec, "serviceAccount"));
  SidecarSpec sidecar;
  if (auto err = buildSidecar(config_, mesh_, version_, input, sidecar)) return fail(meta.IsDefined() ? meta : t, "metadata.annotations", *err);

  YAML::Node copy = YAML::Clone(object);
  YAML::Node target = copy;
  for (const auto& key : w.template_path) target.reset(target[key]);
  YAML::Node out_spec = target["spec"];
  appendItems(out_spec, "initContainers", sidecar.init_containers);
  appendItems(out_spec, "containers", sidecar.containers);
  appendItems(out_spec, "volumes", sidecar.volumes);
  appendItems(out_spec, "imagePullSecrets", sidecar.image_pull_secrets);
  if (!target["metadata"].IsMap()) target["metadata"] = emptyObject();
  YAML::Node out_meta = target["metadata"];
  if (!out_meta["annotations"].IsMap()) out_meta["annotations"] = emptyObject();
  out_meta["annotations"][annotation::kStatus] = text(sidecar.status);
  result.action = InjectAction::Injected;
  result.object.reset(copy);
  return result;
}

}  // namespace monomesh::galley::injection
