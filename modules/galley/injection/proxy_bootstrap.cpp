#include "galley/injection/proxy_bootstrap.h"

#include "galley/injection/json_node.h"

namespace monomesh::galley::injection {

namespace {

const char* const kHcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const char* const kRouterType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const char* const kUpstreamTlsType = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

YAML::Node socketAddress(const std::string& address, long long port) {
  YAML::Node a;
  a["socket_address"]["address"] = text(address);
  a["socket_address"]["port_value"] = number(port);
  return a;
}

std::string seconds(int ms) {
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000) {
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);
    s += "." + frac;
  }
  return s + "s";
}

YAML::Node staticCluster(const std::string& name, const std::string& host, long long port, bool dns, int connect_timeout_ms) {
  YAML::Node c;
  c["name"] = text(name);
  c["type"] = text(dns ? "STRICT_DNS" : "STATIC");
  c["connect_timeout"] = text(seconds(connect_timeout_ms));
  c["lb_policy"] = text("ROUND_ROBIN");
  if (dns) c["dns_lookup_family"] = text("V4_ONLY");
  YAML::Node endpoint;
  endpoint["endpoint"]["address"] = socketAddress(host, port);
  YAML::Node locality;
  locality["lb_endpoints"].push_back(endpoint);
  c["load_assignment"]["cluster_name"] = text(name);
  c["load_assignment"]["endpoints"].push_back(locality);
  return c;
}

// A listener on 0.0.0.0:port whose only route sends `prefix` to `cluster`.
YAML::Node forwardingListener(const std::string& name, long long port, const std::string& prefix, const std::string& cluster) {
  YAML::Node route;
  route["match"]["prefix"] = text(prefix);
  route["route"]["cluster"] = text(cluster);
  YAML::Node host;
  host["name"] = text("backend");
  host["domains"].push_back(text("*"));
  host["routes"].push_back(route);
  YAML::Node router;
  router["name"] = text("envoy.filters.http.router");
  router["typed_config"]["@type"] = text(kRouterType);
  YAML::Node hcm;
  hcm["@type"] = text(kHcmType);
  hcm["codec_type"] = text("AUTO");
  hcm["stat_prefix"] = text(name);
  hcm["route_config"]["virtual_hosts"].push_back(host);
  hcm["http_filters"].push_back(router);
  YAML::Node filter;
  filter["name"] = text("envoy.filters.network.http_connection_manager");
  filter["typed_config"] = hcm;
  YAML::Node chain;
  chain["filters"].push_back(filter);
  YAML::Node l;
  l["name"] = text(name);
  l["address"] = socketAddress("0.0.0.0", port);
  l["filter_chains"].push_back(chain);
  return l;
}

YAML::Node pilotTls(const std::string& identity) {
  auto file = [](const char* path) {
    YAML::Node n;
    n["filename"] = text(path);
    return n;
  };
  YAML::Node certificate;
  certificate["certificate_chain"] = file("/etc/certs/cert-chain.pem");
  certificate["private_key"] = file("/etc/certs/key.pem");
  YAML::Node common;
  common["tls_certificates"].push_back(certificate);
  common["validation_context"]["trusted_ca"] = file("/etc/certs/root-cert.pem");
  if (!identity.empty()) {
    YAML::Node san;
    san["san_type"] = text("URI");
    san["matcher"]["exact"] = text(identity);
    common["validation_context"]["match_typed_subject_alt_names"].push_back(san);
  }
  common["alpn_protocols"].push_back(text("h2"));
  YAML::Node socket;
  socket["name"] = text("envoy.transport_sockets.tls");
  socket["typed_config"]["@type"] = text(kUpstreamTlsType);
  socket["typed_config"]["common_tls_context"] = common;
  return socket;
}

}  // namespace

std::string escapeKubeExpansion(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == '$') out += '$';
  }
  return out;
}

std::string proxyBootstrapJson(const BootstrapParams& p) {
  YAML::Node b;
  b["node"]["id"] = text(p.node_id);
  b["node"]["cluster"] = text(p.cluster);
  YAML::Node metadata = emptyObject();
  for (const auto& [key, value] : p.metadata) metadata[key] = text(value);
  b["node"]["metadata"] = metadata;
  b["admin"]["address"] = socketAddress("127.0.0.1", p.admin_port);

  YAML::Node grpc;
  grpc["envoy_grpc"]["cluster_name"] = text("xds-grpc");
  b["dynamic_resources"]["ads_config"]["api_type"] = text("GRPC");
  b["dynamic_resources"]["ads_config"]["grpc_services"].push_back(grpc);
  b["dynamic_resources"]["cds_config"]["ads"] = emptyObject();
  b["dynamic_resources"]["lds_config"]["ads"] = emptyObject();

  YAML::Node xds = staticCluster("xds-grpc", p.discovery_host, p.discovery_port, true, p.connect_timeout_ms);
  xds["http2_protocol_options"] = emptyObject();
  if (p.mutual_tls) xds["transport_socket"] = pilotTls(p.pilot_identity);
  YAML::Node clusters = emptyArray();
  clusters.push_back(staticCluster("prometheus_stats", "127.0.0.1", p.admin_port, false, 250));
  clusters.push_back(xds);
  YAML::Node listeners = emptyArray();
  listeners.push_back(forwardingListener("prometheus_stats", p.stats_port, "/stats/prometheus", "prometheus_stats"));
  if (p.status_port > 0) {
    clusters.push_back(staticCluster("agent", "127.0.0.1", p.admin_port, false, 250));
    listeners.push_back(forwardingListener("status", p.status_port, "/healthz/ready", "agent"));
  }
  b["static_resources"]["clusters"] = clusters;
  b["static_resources"]["listeners"] = listeners;
  return toJson(b);
}

}  // namespace monomesh::galley::injection
