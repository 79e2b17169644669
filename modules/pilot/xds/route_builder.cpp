// RDS (Istio 1.1's httproute.go). Sidecars: route configuration "<port>", one virtual host per
// service with an HTTP port of that number (and per non-registry VirtualService host on port 80),
// reachable by every name a client may use, then allow_any (PassthroughCluster) or block_all (502)
// as Istio 1.1.3 added them (1.1.0 had neither, so unknown hosts on a known port got 404). Routers: "http.<port>"
// and "https.<port>.<portName>.<gateway>.<namespace>", one virtual host per VirtualService host
// that a server of that route admits.
#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_map>

#include "observe/log.h"
#include "pilot/model/hostname.h"
#include "pilot/xds/gateway_servers.h"
#include "pilot/xds/naming.h"
#include "pilot/xds/virtual_service_routes.h"
#include "pilot/xds/xds_builder.h"

namespace monomesh::pilot::xds {

namespace rv3 = envoy::config::route::v3;

namespace {

// Virtual hosts keyed by host name; a host seen again gets the later routes combined in (1.1's
// vHostDedupMap), keeping the first one's name and domains.
class VirtualHostSet {
 public:
  void add(const std::string& host, std::string name, const std::vector<std::string>& domains,
           const std::vector<rv3::Route>& routes, bool require_tls = false) {
    if (auto it = index_.find(host); it != index_.end()) {
      auto& existing = routes_[it->second];
      combineRoutes(existing, routes);
      return;
    }
    index_[host] = hosts_.size();
    rv3::VirtualHost vh;
    vh.set_name(std::move(name));
    for (const auto& d : domains) vh.add_domains(d);
    if (require_tls) vh.set_require_tls(rv3::VirtualHost::ALL);
    hosts_.push_back(std::move(vh));
    routes_.push_back(routes);
  }
  bool empty() const { return hosts_.empty(); }

  // Into `config`, sorted by name (1.1's SortVirtualHosts). A domain already claimed by an earlier
  // virtual host is dropped from a later one (Envoy, and our proxy, reject duplicates); a virtual
  // host left without domains is dropped.
  void emit(rv3::RouteConfiguration& config) {
    std::set<std::string> used;
    std::vector<rv3::VirtualHost> out;
    for (size_t i = 0; i < hosts_.size(); ++i) {
      auto& vh = hosts_[i];
      rv3::VirtualHost kept = vh;
      kept.clear_domains();
      for (const auto& d : vh.domains()) {
        std::string lower = d;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        if (used.insert(lower).second) kept.add_domains(d);
        else observe::logScope("pilot").debug("route {}: domain {} of {} is already served; dropped", config.name(), d, vh.name());
      }
      if (kept.domains().empty()) continue;
      for (auto& r : routes_[i]) *kept.add_routes() = std::move(r);
      out.push_back(std::move(kept));
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name() < b.name(); });
    for (auto& vh : out) *config.add_virtual_hosts() = std::move(vh);
  }

 private:
  std::map<std::string, size_t> index_;
  std::vector<rv3::VirtualHost> hosts_;
  std::vector<std::vector<rv3::Route>> routes_;
};

std::optional<uint32_t> parsePort(std::string_view name) {
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), port);
  if (ec != std::errc() || end != name.data() + name.size() || port == 0 || port > 65535) return std::nullopt;
  return port;
}

std::string withPort(std::string_view host, uint32_t port) { return std::string(host) + ":" + std::to_string(port); }

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    auto dot = s.find('.', start);
    parts.emplace_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

// 1.1's generateAltVirtualHosts: the short names a client in `proxy_domain` ("ns.svc.cluster.local")
// may use for `hostname`: the part not shared with the proxy's domain, then that part with each
// longer piece of the shared suffix ("reviews", "reviews.default", "reviews.default.svc", ...),
// each with and without the port. Nothing when no suffix is shared.
std::vector<std::string> altVirtualHosts(const std::string& hostname, uint32_t port, const std::string& proxy_domain) {
  auto host = split(hostname), domain = split(proxy_domain);
  size_t shared = 0;
  while (shared < host.size() && shared < domain.size() &&
         host[host.size() - 1 - shared] == domain[domain.size() - 1 - shared])
    ++shared;
  // A wildcard's unique part would be "*", a domain that catches every name: none for those.
  if (shared == 0 || shared == host.size() || hostname.starts_with("*")) return {};
  std::string unique;
  for (size_t i = 0; i + shared < host.size(); ++i) unique += (i ? "." : "") + host[i];
  std::vector<std::string> variants;  // "reviews.default", "reviews.default.svc", ...
  std::string variant = unique;
  for (size_t i = host.size() - shared; i + 1 < host.size(); ++i) variants.push_back(variant += "." + host[i]);
  std::vector<std::string> out = {unique, withPort(unique, port)};
  for (auto it = variants.rbegin(); it != variants.rend(); ++it) {  // longest first, as 1.1
    out.push_back(*it);
    out.push_back(withPort(*it, port));
  }
  return out;
}

// 1.1's generateVirtualHostDomains: the FQDN, its short forms, and the VIP (a single address).
std::vector<std::string> serviceDomains(const Service& service, uint32_t port, const std::string& proxy_domain) {
  std::vector<std::string> out = {service.hostname, withPort(service.hostname, port)};
  for (auto& alt : altVirtualHosts(service.hostname, port, proxy_domain)) out.push_back(std::move(alt));
  if (service.hasVip()) {
    std::string vip = service.address;
    if (auto slash = vip.find('/'); slash != std::string::npos) vip = vip.substr(slash + 1) == "32" ? vip.substr(0, slash) : "";
    if (!vip.empty()) {
      out.push_back(vip);
      out.push_back(withPort(vip, port));
    }
  }
  return out;
}

const ServicePort* httpPort(const Service& service, uint32_t port) {
  const ServicePort* p = service.portByNumber(port);
  return p != nullptr && isHttp(p->protocol) ? p : nullptr;
}

// With a Sidecar resource, only the VirtualServices whose hosts its egress listeners import.
bool admittedBySidecar(const SidecarScope& scope, const VirtualServiceEntry& vs) {
  if (!scope.sidecar) return true;
  for (const auto& egress : scope.sidecar->as<networking::Sidecar>().egress())
    for (const auto& text : egress.hosts()) {
      auto scoped = parseScopedHost(text);
      std::string ns = scoped.namespace_ == "." ? scope.sidecar->meta.namespace_ : scoped.namespace_;
      if (ns != "*" && ns != vs.resource->meta.namespace_) continue;
      for (const auto& h : vs.hosts)
        if (hostsOverlap(scoped.host, h)) return true;
    }
  return false;
}

// Services by host name, for matching VirtualService hosts: a host that is not a wildcard overlaps
// only the service of that name and the wildcard-named services covering it, so only wildcard
// hosts need a scan (a plain loop is VirtualServices x services, slow for large meshes).
class HostIndex {
 public:
  explicit HostIndex(const std::vector<const Service*>& services) : services_(services) {
    for (size_t i = 0; i < services.size(); ++i) {
      const auto& h = services[i]->hostname;
      if (!h.empty() && h.front() == '*') wildcards_.push_back(i);
      else exact_.emplace(std::string_view(h), i);
    }
  }
  // Appends the positions of the services that overlap `host` (in no particular order).
  void overlapping(const std::string& host, std::vector<size_t>& out) const {
    if (!host.empty() && host.front() == '*') {
      for (size_t i = 0; i < services_.size(); ++i)
        if (hostsOverlap(host, services_[i]->hostname)) out.push_back(i);
      return;
    }
    auto [from, to] = exact_.equal_range(std::string_view(host));
    for (auto it = from; it != to; ++it) out.push_back(it->second);
    for (size_t i : wildcards_)
      if (hostsOverlap(host, services_[i]->hostname)) out.push_back(i);
  }
  bool any(const std::string& host) const {
    std::vector<size_t> hits;
    overlapping(host, hits);
    return !hits.empty();
  }

 private:
  const std::vector<const Service*>& services_;
  std::unordered_multimap<std::string_view, size_t> exact_;
  std::vector<size_t> wildcards_;
};

void addOutboundFallthrough(const PushContext& push, rv3::RouteConfiguration& config) {
  rv3::VirtualHost vh;
  vh.add_domains("*");
  auto* route = vh.add_routes();
  route->mutable_match()->set_prefix("/");
  if (push.mesh().outbound_traffic_policy().mode() == istio::mesh::v1alpha1::MeshConfig::OutboundTrafficPolicy::ALLOW_ANY) {
    vh.set_name("allow_any");
    route->set_name("allow_any");
    route->mutable_route()->set_cluster(std::string(kPassthroughCluster));
  } else {
    vh.set_name("block_all");
    route->set_name("block_all");
    route->mutable_direct_response()->set_status(502);
  }
  for (const auto& existing : config.virtual_hosts())
    for (const auto& d : existing.domains())
      if (d == "*") return;  // a VirtualService for "*" already catches everything
  *config.add_virtual_hosts() = std::move(vh);
}

std::optional<rv3::RouteConfiguration> sidecarRoutes(const ProxyView& view, std::string_view name) {
  auto port = parsePort(name);
  if (!port) return std::nullopt;
  const auto& push = view.push;
  std::vector<const Service*> on_port;
  for (const auto* s : view.scope.services)
    if (httpPort(*s, *port) != nullptr) on_port.push_back(s);

  RouteSource source{push, view.proxy.namespace_, &view.labels, {"mesh"}, *port};
  VirtualHostSet hosts;
  std::set<const Service*> covered;
  HostIndex on_port_index(on_port), visible_index(view.scope.services);
  for (const auto* vs : push.virtualServices("mesh", view.proxy.namespace_)) {
    if (!admittedBySidecar(view.scope, *vs)) continue;
    // The services on this port that any of the rule's hosts names, in on_port order.
    std::vector<size_t> hits;
    for (const auto& h : vs->hosts) on_port_index.overlapping(h, hits);
    std::sort(hits.begin(), hits.end());
    hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
    std::vector<const Service*> services;
    for (size_t i : hits) services.push_back(on_port[i]);
    // Hosts no visible service has (external names without a ServiceEntry): 1.1 served them on
    // port 80 only, or on a port where the rule's other hosts are services.
    std::vector<std::string> external;
    for (const auto& h : vs->hosts)
      if (!visible_index.any(h)) external.push_back(h);
    if (services.empty() && (*port != 80 || external.empty())) continue;
    auto routes = buildVirtualServiceRoutes(source, *vs);
    if (routes.empty()) continue;  // no route applies to this proxy: the services keep their defaults
    for (const auto& h : external) hosts.add(h, withPort(h, *port), {h, withPort(h, *port)}, routes);
    for (const auto* s : services) {
      hosts.add(s->hostname, withPort(s->hostname, *port), serviceDomains(*s, *port, view.proxy.dns_domain), routes);
      covered.insert(s);
    }
  }
  for (const auto* s : on_port) {
    if (covered.count(s)) continue;
    hosts.add(s->hostname, withPort(s->hostname, *port), serviceDomains(*s, *port, view.proxy.dns_domain),
              {buildDefaultRoute(clusterName(Direction::Outbound, *port, "", s->hostname))});
  }
  rv3::RouteConfiguration config;
  config.set_name(std::string(name));
  config.mutable_validate_clusters()->set_value(false);
  hosts.emit(config);
  addOutboundFallthrough(push, config);
  return config;
}

std::optional<rv3::RouteConfiguration> gatewayRoutes(const ProxyView& view, std::string_view name) {
  auto merged = mergeGateways(view.push.gateways(view.labels));
  auto servers = merged.serversForRoute(name);
  if (servers.empty()) return std::nullopt;
  uint32_t port = servers.front()->server->port().number();
  VirtualHostSet hosts;
  for (const auto* server : servers) {
    const auto& gateway = server->gateway->name;
    RouteSource source{view.push, view.proxy.namespace_, nullptr, {gateway}, port};
    bool redirect = server->server->has_tls() && server->server->tls().https_redirect();
    for (const auto* vs : view.push.virtualServices(gateway, view.proxy.namespace_)) {
      auto matching = intersectHosts(hostsForNamespace(*server, vs->resource->meta.namespace_), vs->hosts);
      if (matching.empty()) continue;
      auto routes = buildVirtualServiceRoutes(source, *vs);
      if (routes.empty()) continue;
      for (const auto& h : matching) hosts.add(h, withPort(h, port), {h, withPort(h, port)}, routes, redirect);
    }
  }
  rv3::RouteConfiguration config;
  config.set_name(std::string(name));
  config.mutable_validate_clusters()->set_value(false);
  if (hosts.empty()) {
    // 1.1: a server nothing is bound to answers 404 for every request.
    auto* vh = config.add_virtual_hosts();
    vh->set_name("blackhole:" + std::to_string(port));
    vh->add_domains("*");
    auto* route = vh->add_routes();
    route->mutable_match()->set_prefix("/");
    route->mutable_direct_response()->set_status(404);
    return config;
  }
  hosts.emit(config);
  return config;
}

}  // namespace

// Keep in step with sidecarRoutes: besides the outbound key (namespace, Sidecar), a sidecar's
// routes depend on its DNS domain (short host names) and, when a match uses sourceLabels, on its
// labels. Gateways' routes depend on their labels through the Gateways they select: not cached.
std::string routeConfigurationKey(const ProxyView& view, std::string_view name) {
  if (view.isRouter()) return {};
  std::string key(name);
  key += '|';
  key += view.proxy.namespace_;
  key += '|';
  key += view.proxy.dns_domain;
  if (view.scope.sidecar) {
    key += '|';
    key += view.scope.sidecar->key().str();
  }
  if (view.push.sourceLabelsUsed())
    for (const auto& [k, v] : view.labels) {
      key += '|';
      key += k;
      key += '=';
      key += v;
    }
  return key;
}

std::optional<rv3::RouteConfiguration> buildRouteConfiguration(const ProxyView& view, std::string_view name) {
  return view.isRouter() ? gatewayRoutes(view, name) : sidecarRoutes(view, name);
}

}  // namespace monomesh::pilot::xds
