#include "pilot/model/proxy_node.h"

#include <cctype>

namespace monomesh::pilot {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

const google::protobuf::Value* field(const google::protobuf::Struct& s, const char* name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string stringField(const google::protobuf::Struct& s, const char* name) {
  const auto* v = field(s, name);
  return v != nullptr && v->has_string_value() ? v->string_value() : std::string();
}

// Istio 1.1 merged the pod's labels into the metadata as top-level strings; Istio's own keys are
// upper case (ISTIO_VERSION, NETWORK...) or dotted annotations (policy.istio.io/...).
bool looksLikeLabel(const std::string& key) {
  if (key.empty() || key.find("istio.io/") != std::string::npos) return false;
  for (char c : key)
    if (std::islower(static_cast<unsigned char>(c))) return true;
  return false;
}

}  // namespace

std::optional<ProxyNode> ProxyNode::parse(const envoy::config::core::v3::Node& node, std::string& error) {
  auto parts = split(node.id(), '~');
  if (parts.size() != 4) {
    error = "node id \"" + node.id() + "\" is not Istio's <type>~<ip>~<pod>.<namespace>~<domain>";
    return std::nullopt;
  }
  ProxyNode p;
  p.node_id = node.id();
  if (parts[0] == "sidecar") p.type = NodeType::Sidecar;
  else if (parts[0] == "router" || parts[0] == "ingress") p.type = NodeType::Router;
  else {
    error = "node id \"" + node.id() + "\": unknown proxy type \"" + parts[0] + "\" (sidecar or router)";
    return std::nullopt;
  }
  p.ip = parts[1];
  p.ips.push_back(p.ip);
  p.id = parts[2];
  auto dot = p.id.find('.');
  p.pod_name = p.id.substr(0, dot);
  if (dot != std::string::npos) p.namespace_ = p.id.substr(dot + 1);
  p.dns_domain = parts[3];
  if (p.namespace_.empty()) p.namespace_ = p.dns_domain.substr(0, p.dns_domain.find('.'));

  const auto& md = node.metadata();
  if (auto ns = stringField(md, "CONFIG_NAMESPACE"); !ns.empty()) p.namespace_ = ns;
  p.network = stringField(md, "NETWORK");
  p.istio_version = stringField(md, "ISTIO_PROXY_VERSION");
  if (auto ips = stringField(md, "INSTANCE_IPS"); !ips.empty()) {
    for (auto& ip : split(ips, ','))
      if (!ip.empty() && ip != p.ip) p.ips.push_back(ip);
  }
  auto mode = stringField(md, "INTERCEPTION_MODE");
  if (mode == "TPROXY") p.interception = InterceptionMode::Tproxy;
  else if (mode == "NONE") p.interception = InterceptionMode::None;
  for (const auto& [key, value] : md.fields())
    if (value.has_string_value() && looksLikeLabel(key)) p.metadata_labels[key] = value.string_value();
  if (const auto* labels = field(md, "LABELS"); labels != nullptr && labels->has_struct_value())
    for (const auto& [key, value] : labels->struct_value().fields())
      if (value.has_string_value()) p.metadata_labels[key] = value.string_value();
  const auto& loc = node.locality();
  if (!loc.region().empty() || !loc.zone().empty() || !loc.sub_zone().empty()) {
    p.locality = loc.region() + "/" + loc.zone() + "/" + loc.sub_zone();
    while (!p.locality.empty() && p.locality.back() == '/') p.locality.pop_back();
  }
  return p;
}

}  // namespace monomesh::pilot
