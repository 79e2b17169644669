#include "galley/injection/sidecar_spec.h"

#include <openssl/evp.h>

#include <cstdio>

#include "galley/injection/json_node.h"
#include "galley/injection/proxy_bootstrap.h"

namespace monomesh::galley::injection {

namespace mesh = istio::mesh::v1alpha1;

namespace {

std::string annotationOr(const PodInput& pod, const char* name, const std::string& fallback) {
  auto it = pod.annotations.find(name);
  return it == pod.annotations.end() ? fallback : it->second;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// 1.1's excludeInboundPort: the status port joins the excluded inbound ports unless it is 0 or
// already listed.
std::string excludeInboundPort(const std::string& port, const std::string& excluded) {
  std::string p = trim(port);
  if (p.empty() || p == "0") return excluded;
  std::string out;
  size_t start = 0;
  while (start <= excluded.size()) {
    size_t end = excluded.find(',', start);
    if (end == std::string::npos) end = excluded.size();
    std::string item = excluded.substr(start, end - start);
    if (item == p) return excluded;
    item = trim(item);
    if (!item.empty()) out += (out.empty() ? "" : ",") + item;
    start = end + 1;
  }
  return out + (out.empty() ? "" : ",") + p;
}

std::string seconds(const google::protobuf::Duration& d) { return std::to_string(d.seconds()); }

YAML::Node strings(std::initializer_list<std::string> items) {
  YAML::Node list = emptyArray();
  for (const auto& s : items) list.push_back(text(s));
  return list;
}

YAML::Node fieldEnv(const char* name, const char* path) {
  YAML::Node e;
  e["name"] = text(name);
  e["valueFrom"]["fieldRef"]["fieldPath"] = text(path);
  return e;
}

YAML::Node valueEnv(const char* name, const std::string& value) {
  YAML::Node e;
  e["name"] = text(name);
  e["value"] = text(value);
  return e;
}

std::string jsonMap(const StringMap& m) {
  YAML::Node n = emptyObject();
  for (const auto& [k, v] : m) n[k] = text(v);
  return toJson(n);
}

YAML::Node quantities(const std::string& cpu, const std::string& memory) {
  YAML::Node q = emptyObject();
  if (!cpu.empty()) q["cpu"] = text(cpu);
  if (!memory.empty()) q["memory"] = text(memory);
  return q;
}

std::string image(const SidecarValues& v, const std::string& name) { return v.hub + "/" + name + ":" + v.tag; }

YAML::Node initContainer(const SidecarValues& v, const mesh::MeshConfig& m, const PodInput& pod, const std::string& mode) {
  std::string status_port = annotationOr(pod, annotation::kStatusPort, std::to_string(v.status_port));
  std::string inbound = v.include_inbound_ports.empty() ? containerPorts(pod.containers) : v.include_inbound_ports;
  YAML::Node args = strings({"-p", std::to_string(m.proxy_listen_port()), "-u", "1337", "-m", mode, "-i",
                             annotationOr(pod, annotation::kIncludeOutboundIPRanges, v.include_ip_ranges), "-x",
                             annotationOr(pod, annotation::kExcludeOutboundIPRanges, v.exclude_ip_ranges), "-b",
                             annotationOr(pod, annotation::kIncludeInboundPorts, inbound), "-d",
                             excludeInboundPort(status_port, annotationOr(pod, annotation::kExcludeInboundPorts, v.exclude_inbound_ports))});
  std::string kubevirt = annotationOr(pod, annotation::kKubevirtInterfaces, v.kubevirt_interfaces);
  if (!kubevirt.empty()) {
    args.push_back(text("-k"));
    args.push_back(text(kubevirt));
  }
  YAML::Node c;
  c["name"] = text(kInitContainerName);
  c["image"] = text(image(v, v.init_image));
  if (!v.init_command.empty()) {
    YAML::Node command = emptyArray();
    for (const auto& s : v.init_command) command.push_back(text(s));
    c["command"] = command;
  }
  c["args"] = args;
  c["imagePullPolicy"] = text(v.image_pull_policy);
  c["resources"]["requests"] = quantities("10m", "10Mi");
  c["resources"]["limits"] = quantities("100m", "50Mi");
  c["securityContext"]["runAsUser"] = number(0);
  c["securityContext"]["runAsNonRoot"] = boolean(false);
  c["securityContext"]["capabilities"]["add"] = strings({"NET_ADMIN"});
  if (v.privileged) c["securityContext"]["privileged"] = boolean(true);
  return c;
}

std::string serviceCluster(const PodInput& pod) {
  std::string ns = pod.namespace_name.empty() ? "default" : pod.namespace_name;
  auto app = pod.labels.find("app");
  if (app != pod.labels.end() && !app->second.empty()) return app->second + "." + ns;
  return (pod.workload_name.empty() ? "istio-proxy" : pod.workload_name) + "." + ns;
}

struct ProxySettings {
  std::string mode, status_port, cluster, domain;
  BootstrapParams bootstrap;
};

YAML::Node proxyContainer(const SidecarValues& v, const mesh::ProxyConfig& proxy, const PodInput& pod, const ProxySettings& s) {
  YAML::Node c;
  c["name"] = text(kProxyContainerName);
  c["image"] = text(annotationOr(pod, annotation::kProxyImage, image(v, v.proxy_image)));
  YAML::Node command = emptyArray();
  for (const auto& part : v.proxy_command) command.push_back(text(part));
  c["command"] = command;
  YAML::Node args = strings({"proxy", "--service-node", s.bootstrap.node_id, "--service-cluster",
                             escapeKubeExpansion(s.cluster), "--drain-time-s", seconds(proxy.drain_duration())});
  if (proxy.concurrency() > 0) {
    args.push_back(text("--concurrency"));
    args.push_back(text(std::to_string(proxy.concurrency())));
  }
  args.push_back(text("--config-yaml"));
  args.push_back(text(proxyBootstrapJson(s.bootstrap)));
  c["args"] = args;
  YAML::Node port;
  port["containerPort"] = number(15090);
  port["protocol"] = text("TCP");
  port["name"] = text("http-envoy-prom");
  c["ports"].push_back(port);

  YAML::Node env = emptyArray();
  env.push_back(fieldEnv("POD_NAME", "metadata.name"));
  env.push_back(fieldEnv("POD_NAMESPACE", "metadata.namespace"));
  env.push_back(fieldEnv("INSTANCE_IP", "status.podIP"));
  env.push_back(fieldEnv("ISTIO_META_POD_NAME", "metadata.name"));
  env.push_back(fieldEnv("ISTIO_META_CONFIG_NAMESPACE", "metadata.namespace"));
  env.push_back(valueEnv("ISTIO_META_INTERCEPTION_MODE", s.mode));
  if (!v.network.empty()) env.push_back(valueEnv("ISTIO_META_NETWORK", v.network));
  if (!pod.annotations.empty()) env.push_back(valueEnv("ISTIO_METAJSON_ANNOTATIONS", jsonMap(pod.annotations) + "\n"));
  if (!pod.labels.empty()) env.push_back(valueEnv("ISTIO_METAJSON_LABELS", jsonMap(pod.labels) + "\n"));
  c["env"] = env;
  c["imagePullPolicy"] = text(v.image_pull_policy);

  if (s.status_port != "0") {
    YAML::Node probe;
    probe["httpGet"]["path"] = text("/healthz/ready");
    probe["httpGet"]["port"] = number(std::stoll(s.status_port));
    auto uint = [&](const char* name, unsigned fallback) { return number(std::stoll(annotationOr(pod, name, std::to_string(fallback)))); };
    probe["initialDelaySeconds"] = uint(annotation::kReadinessInitialDelay, v.readiness_initial_delay_seconds);
    probe["periodSeconds"] = uint(annotation::kReadinessPeriod, v.readiness_period_seconds);
    probe["failureThreshold"] = uint(annotation::kReadinessFailureThreshold, v.readiness_failure_threshold);
    c["readinessProbe"] = probe;
  }

  YAML::Node security = emptyObject();
  if (v.privileged) security["privileged"] = boolean(true);
  if (!v.enable_core_dump) security["readOnlyRootFilesystem"] = boolean(true);
  if (s.mode == "TPROXY") {  // TPROXY binds non-local addresses: NET_ADMIN, as root
    security["capabilities"]["add"] = strings({"NET_ADMIN"});
    security["runAsGroup"] = number(1337);
  } else {
    security["runAsUser"] = number(1337);
  }
  c["securityContext"] = security;

  std::string cpu = annotationOr(pod, annotation::kProxyCpu, ""), memory = annotationOr(pod, annotation::kProxyMemory, "");
  YAML::Node resources = emptyObject();
  if (!cpu.empty() || !memory.empty()) {
    resources["requests"] = quantities(cpu, memory);
  } else {
    if (!v.requests_cpu.empty() || !v.requests_memory.empty()) resources["requests"] = quantities(v.requests_cpu, v.requests_memory);
    if (!v.limits_cpu.empty() || !v.limits_memory.empty()) resources["limits"] = quantities(v.limits_cpu, v.limits_memory);
  }
  c["resources"] = resources;

  YAML::Node envoy_mount, certs_mount;
  envoy_mount["mountPath"] = text("/etc/istio/proxy");
  envoy_mount["name"] = text("istio-envoy");
  certs_mount["mountPath"] = text("/etc/certs/");
  certs_mount["name"] = text("istio-certs");
  certs_mount["readOnly"] = boolean(true);
  c["volumeMounts"].push_back(envoy_mount);
  c["volumeMounts"].push_back(certs_mount);
  return c;
}

YAML::Node volumes(const PodInput& pod) {
  YAML::Node envoy, certs, list = emptyArray();
  envoy["emptyDir"]["medium"] = text("Memory");
  envoy["name"] = text("istio-envoy");
  certs["name"] = text("istio-certs");
  certs["secret"]["optional"] = boolean(true);
  certs["secret"]["secretName"] = text("istio." + (pod.service_account.empty() ? std::string("default") : pod.service_account));
  list.push_back(envoy);
  list.push_back(certs);
  return list;
}

YAML::Node namesOf(const YAML::Node& items) {
  if (items.size() == 0) return YAML::Node(YAML::NodeType::Null);
  YAML::Node names = emptyArray();
  for (const auto& item : items) names.push_back(text(stringValue(item["name"])));
  return names;
}

std::optional<std::pair<std::string, int>> hostPort(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  int n = std::stoi(port);
  if (n < 1 || n > 65535) return std::nullopt;
  return std::make_pair(address.substr(0, colon), n);
}

std::string interceptionMode(const PodInput& pod, const mesh::ProxyConfig& proxy) {
  return annotationOr(pod, annotation::kInterceptionMode, proxy.interception_mode() == mesh::ProxyConfig::TPROXY ? "TPROXY" : "REDIRECT");
}

}  // namespace

std::string containerPorts(const YAML::Node& containers) {
  std::string out;
  if (!containers.IsSequence()) return out;
  for (const auto& c : containers) {
    const YAML::Node ports = member(c, "ports");
    if (!ports.IsSequence()) continue;
    for (const auto& p : ports) {
      std::string port = stringValue(member(p, "containerPort"));
      if (!port.empty()) out += (out.empty() ? "" : ",") + port;
    }
  }
  return out;
}

std::string sidecarVersion(const InjectionConfig& config, const mesh::MeshConfig& m) {
  const SidecarValues& v = config.values;
  std::string basis = "monomesh-sidecar/1\n" + v.hub + "\n" + v.tag + "\n" + v.proxy_image + "\n" + v.init_image + "\n" +
                      v.image_pull_policy + "\n" + v.cluster_domain + "\n" + v.requests_cpu + "\n" + v.requests_memory +
                      "\n" + v.limits_cpu + "\n" + v.limits_memory + "\n" + std::to_string(v.status_port) + "\n" +
                      std::to_string(v.readiness_initial_delay_seconds) + "," + std::to_string(v.readiness_period_seconds) +
                      "," + std::to_string(v.readiness_failure_threshold) + "\n" + v.include_ip_ranges + "\n" +
                      v.exclude_ip_ranges + "\n" + v.include_inbound_ports + "\n" + v.exclude_inbound_ports + "\n" +
                      v.kubevirt_interfaces + "\n" + v.network + "\n" + v.trust_domain + "\n" +
                      (v.privileged ? "privileged\n" : "\n") + (v.enable_core_dump ? "coredump\n" : "\n") + v.istio_version + "\n";
  for (const auto& part : v.init_command) basis += part + " ";
  basis += "\n";
  for (const auto& part : v.proxy_command) basis += part + " ";
  basis += "\n" + std::to_string(m.proxy_listen_port()) + "\n" + m.default_config().SerializeAsString();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(basis.data(), basis.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned i = 0; i < size; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

std::optional<std::string> buildSidecar(const InjectionConfig& config, const mesh::MeshConfig& m, const std::string& version,
                                        const PodInput& pod, SidecarSpec& out) {
  const SidecarValues& v = config.values;
  const mesh::ProxyConfig& proxy = m.default_config();
  ProxySettings s;
  s.mode = interceptionMode(pod, proxy);
  s.status_port = trim(annotationOr(pod, annotation::kStatusPort, std::to_string(v.status_port)));
  s.cluster = serviceCluster(pod);
  s.domain = "$(POD_NAMESPACE).svc." + escapeKubeExpansion(v.cluster_domain);

  std::string discovery = annotationOr(pod, annotation::kDiscoveryAddress, proxy.discovery_address());
  auto pilot = hostPort(discovery);
  if (!pilot) return "discovery address \"" + discovery + "\" is not host:port";
  std::string auth = annotationOr(pod, annotation::kControlPlaneAuthPolicy,
                                  proxy.control_plane_auth_policy() == mesh::MUTUAL_TLS ? "MUTUAL_TLS" : "NONE");
  if (proxy.control_plane_auth_policy() == mesh::INHERIT && !pod.annotations.count(annotation::kControlPlaneAuthPolicy)) {
    // INHERIT takes the mesh-wide auth_policy, deprecated in 1.1 but still what INHERIT means.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    auth = m.auth_policy() == mesh::MeshConfig::MUTUAL_TLS ? "MUTUAL_TLS" : "NONE";
#pragma GCC diagnostic pop
  }

  BootstrapParams& b = s.bootstrap;
  b.node_id = "sidecar~$(INSTANCE_IP)~$(POD_NAME).$(POD_NAMESPACE)~" + s.domain;
  b.cluster = escapeKubeExpansion(s.cluster);
  for (const auto& [key, value] : pod.labels) b.metadata[escapeKubeExpansion(key)] = escapeKubeExpansion(value);
  b.metadata["POD_NAME"] = "$(POD_NAME)";
  b.metadata["CONFIG_NAMESPACE"] = "$(POD_NAMESPACE)";
  b.metadata["INSTANCE_IPS"] = "$(INSTANCE_IP)";
  b.metadata["INTERCEPTION_MODE"] = s.mode;
  b.metadata["ISTIO_PROXY_VERSION"] = escapeKubeExpansion(v.istio_version);
  if (!v.network.empty()) b.metadata["NETWORK"] = escapeKubeExpansion(v.network);
  b.discovery_host = escapeKubeExpansion(pilot->first);
  b.discovery_port = pilot->second;
  b.mutual_tls = auth == "MUTUAL_TLS";
  std::string trust_domain = !v.trust_domain.empty() ? v.trust_domain : !m.trust_domain().empty() ? m.trust_domain() : "cluster.local";
  auto dot = pilot->first.find('.');
  std::string pilot_ns = dot == std::string::npos ? "istio-system" : pilot->first.substr(dot + 1, pilot->first.find('.', dot + 1) - dot - 1);
  b.pilot_identity = escapeKubeExpansion("spiffe://" + trust_domain + "/ns/" + pilot_ns + "/sa/istio-pilot-service-account");
  b.connect_timeout_ms = int(proxy.connect_timeout().seconds() * 1000 + proxy.connect_timeout().nanos() / 1000000);
  if (b.connect_timeout_ms <= 0) b.connect_timeout_ms = 1000;
  b.admin_port = proxy.proxy_admin_port() > 0 ? proxy.proxy_admin_port() : 15000;
  b.status_port = std::stoi(s.status_port);

  out.init_containers = emptyArray();
  if (s.mode != "NONE") out.init_containers.push_back(initContainer(v, m, pod, s.mode));
  out.containers = emptyArray();
  out.containers.push_back(proxyContainer(v, proxy, pod, s));
  out.volumes = volumes(pod);
  out.image_pull_secrets = emptyArray();

  YAML::Node status;
  status["version"] = text(version);
  status["initContainers"] = namesOf(out.init_containers);
  status["containers"] = namesOf(out.containers);
  status["volumes"] = namesOf(out.volumes);
  status["imagePullSecrets"] = namesOf(out.image_pull_secrets);
  out.status = toJson(status);
  return std::nullopt;
}

}  // namespace monomesh::galley::injection
