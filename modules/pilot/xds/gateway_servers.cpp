#include "pilot/xds/gateway_servers.h"

#include <algorithm>

#include "pilot/model/hostname.h"
#include "pilot/model/protocol.h"

namespace monomesh::pilot::xds {

namespace {

Protocol protocolOf(const networking::Server& s) { return parseProtocol(s.port().protocol()); }

std::string serverLabel(const GatewayServer& s) {
  return s.gateway->name + " server " + s.server->port().name() + " (" + std::to_string(s.server->port().number()) + "/" +
         s.server->port().protocol() + ")";
}

std::vector<std::string> sanitizeHosts(const networking::Server& server, const std::string& gateway_namespace) {
  std::vector<std::string> out;
  for (const auto& h : server.hosts()) {
    auto slash = h.find('/');
    if (slash == std::string::npos) {
      out.push_back(h);
      continue;
    }
    auto ns = h.substr(0, slash), host = h.substr(slash + 1);
    if (ns == ".") out.push_back(gateway_namespace + "/" + host);
    else if (ns == "*" && host == "*") return {"*"};
    else if (ns == "*") out.push_back(host);
    else out.push_back(h);
  }
  return out;
}

std::string routeNameOf(const networking::Server& s, const GatewayEntry& gateway) {
  auto number = std::to_string(s.port().number());
  if (isHttp(protocolOf(s))) return "http." + number;
  if (protocolOf(s) == Protocol::HTTPS && s.has_tls() && !isPassthroughServer(s)) {
    const auto& meta = gateway.resource->meta;
    return "https." + number + "." + s.port().name() + "." + meta.name + "." + meta.namespace_;
  }
  return {};
}

}  // namespace

bool isPassthroughServer(const networking::Server& s) {
  using T = networking::Server::TLSOptions;
  return s.has_tls() && (s.tls().mode() == T::PASSTHROUGH || s.tls().mode() == T::AUTO_PASSTHROUGH);
}

bool isHttpServer(const networking::Server& s) {
  Protocol p = protocolOf(s);
  return isHttp(p) || (p == Protocol::HTTPS && s.has_tls() && !isPassthroughServer(s));
}

bool isTlsServer(const networking::Server& s) { return s.has_tls() && !isHttp(protocolOf(s)); }

MergedGateway mergeGateways(const std::vector<const GatewayEntry*>& gateways) {
  MergedGateway merged;
  std::map<uint32_t, bool> port_is_tls;  // the group of the first server on each port
  std::map<std::string, std::string> route_owner;
  auto conflict = [&merged](const GatewayServer& s, const std::string& why) {
    merged.conflicts.push_back({"gateway server conflict", serverLabel(s) + ": " + why + "; the server is ignored"});
  };
  for (const auto* gateway : gateways) {
    for (const auto& server : gateway->spec->servers()) {
      GatewayServer s{gateway, &server, sanitizeHosts(server, gateway->resource->meta.namespace_), routeNameOf(server, *gateway)};
      uint32_t port = server.port().number();
      if (port == 0 || port > 65535) {
        conflict(s, "port number " + std::to_string(port) + " is not 1-65535");
        continue;
      }
      bool tls = isTlsServer(server);
      auto [group, first] = port_is_tls.emplace(port, tls);
      if (!first) {
        auto& existing = merged.servers_by_port[port];
        const auto& head = *existing.front().server;
        if (group->second != tls) {
          conflict(s, "port " + std::to_string(port) + " already serves " + (group->second ? "TLS" : "plaintext") +
                          " (" + serverLabel(existing.front()) + ")");
          continue;
        }
        if (!tls && (protocolOf(head) != protocolOf(server) || !isHttp(protocolOf(server)))) {
          conflict(s, "port " + std::to_string(port) + " already serves " + head.port().protocol() + " (" +
                          serverLabel(existing.front()) + "); only HTTP servers of one protocol share a plaintext port");
          continue;
        }
      }
      if (!s.route_name.empty() && s.route_name.starts_with("https.")) {
        auto [owner, fresh] = route_owner.emplace(s.route_name, serverLabel(s));
        if (!fresh) {
          conflict(s, "route name " + s.route_name + " is already used by " + owner->second);
          continue;
        }
      }
      merged.servers_by_port[port].push_back(std::move(s));
    }
  }
  return merged;
}

std::vector<const GatewayServer*> MergedGateway::serversForRoute(std::string_view route_name) const {
  std::vector<const GatewayServer*> out;
  for (const auto& [port, servers] : servers_by_port)
    for (const auto& s : servers)
      if (!s.route_name.empty() && s.route_name == route_name) out.push_back(&s);
  return out;
}

std::vector<std::string> hostsForNamespace(const GatewayServer& server, std::string_view vs_namespace) {
  std::vector<std::string> out;
  for (const auto& h : server.hosts) {
    auto slash = h.find('/');
    if (slash == std::string::npos) out.push_back(h);
    else if (std::string_view(h).substr(0, slash) == vs_namespace) out.push_back(h.substr(slash + 1));
  }
  return out;
}

std::vector<std::string> sniHosts(const GatewayServer& server) {
  std::vector<std::string> out;
  for (const auto& h : server.hosts) {
    auto slash = h.find('/');
    std::string host = slash == std::string::npos ? h : h.substr(slash + 1);
    if (host == "*") return {};
    if (std::find(out.begin(), out.end(), host) == out.end()) out.push_back(host);
  }
  return out;
}

std::vector<std::string> intersectHosts(const std::vector<std::string>& server_hosts, const std::vector<std::string>& vs_hosts) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& h) {
    if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
  };
  for (const auto& s : server_hosts)
    for (const auto& v : vs_hosts) {
      if (hostMatches(v, s)) add(s);
      else if (hostMatches(s, v)) add(v);
    }
  return out;
}

}  // namespace monomesh::pilot::xds
