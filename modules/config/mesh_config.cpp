#include "config/mesh_config.h"

#include <fstream>
#include <sstream>

#include "config/yaml/yaml_parser.h"
#include "config/yaml_proto_reader.h"

namespace monomesh::config {

namespace mesh = istio::mesh::v1alpha1;

namespace {

void setDuration(google::protobuf::Duration* d, int64_t seconds) {
  d->set_seconds(seconds);
  d->set_nanos(0);
}

template <class Message>
ConfigErrors readInto(const std::string& text, const std::string& file, Message& out) {
  yaml::DocumentList docs;
  if (auto e = yaml::parseYaml(text, docs))
    return {ConfigError{SourcePosition{file, e->mark.line + 1, e->mark.column + 1}, "", "", "invalid YAML: " + e->message}};
  YamlProtoReader reader(file);
  reader.read(docs.empty() ? yaml::Node() : docs[0].root(), out, "");  // the first document, as YAML::Load
  return reader.takeErrors();
}

}  // namespace

mesh::ProxyConfig defaultProxyConfig() {
  mesh::ProxyConfig p;
  p.set_config_path("/etc/istio/proxy");
  p.set_binary_path("/usr/local/bin/envoy");
  p.set_service_cluster("istio-proxy");
  setDuration(p.mutable_drain_duration(), 45);
  setDuration(p.mutable_parent_shutdown_duration(), 60);
  p.set_discovery_address("istio-pilot:15010");
  setDuration(p.mutable_connect_timeout(), 1);
  p.set_proxy_admin_port(15000);
  p.set_stat_name_length(189);
  p.set_control_plane_auth_policy(mesh::NONE);
  return p;
}

mesh::MeshConfig defaultMeshConfig() {
  mesh::MeshConfig m;
  m.set_disable_policy_checks(true);
  m.set_proxy_listen_port(15001);
  setDuration(m.mutable_connect_timeout(), 1);
  m.set_ingress_class("istio");
  m.set_ingress_service("istio-ingressgateway");
  m.set_ingress_controller_mode(mesh::MeshConfig::STRICT);
  m.set_enable_tracing(true);
  m.set_access_log_file("/dev/stdout");
  *m.mutable_default_config() = defaultProxyConfig();
  m.mutable_outbound_traffic_policy()->set_mode(mesh::MeshConfig::OutboundTrafficPolicy::ALLOW_ANY);
  m.add_default_service_export_to("*");
  m.add_default_virtual_service_export_to("*");
  m.add_default_destination_rule_export_to("*");
  m.set_root_namespace("istio-system");
  setDuration(m.mutable_dns_refresh_rate(), 5);
  return m;
}

ConfigErrors readMeshConfig(const std::string& text, const std::string& file, mesh::MeshConfig& out) {
  out = defaultMeshConfig();
  return readInto(text, file, out);
}

ConfigErrors readMeshConfigFile(const std::string& path, mesh::MeshConfig& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {ConfigError{SourcePosition{path, 0, 0}, "", "", "cannot read the mesh config file"}};
  std::stringstream ss;
  ss << in.rdbuf();
  return readMeshConfig(ss.str(), path, out);
}

ConfigErrors readMeshNetworks(const std::string& text, const std::string& file, mesh::MeshNetworks& out) {
  out.Clear();
  return readInto(text, file, out);
}

}  // namespace monomesh::config
