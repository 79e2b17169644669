// Istio 1.1's MergeGateways: the servers of every Gateway that selects one router, grouped by
// port, with the RDS route name of each HTTP server. Both the gateway listeners and the gateway
// route configurations are built from this one view, so their names always agree.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pilot/push_context.h"

namespace monomesh::pilot::xds {

struct GatewayServer {
  const GatewayEntry* gateway = nullptr;  // the Gateway declaring it ("namespace/name" in gateway->name)
  const networking::Server* server = nullptr;
  // Its hosts with the namespace part normalised as 1.1 did: "./h" -> "<gateway ns>/h", "*/h" -> "h",
  // any "*/*" -> just "*".
  std::vector<std::string> hosts;
  std::string route_name;  // "http.<port>", "https.<port>.<portName>.<gateway>.<ns>", or "" (TCP/TLS)
};

struct MergedGateway {
  // Each port's servers in Gateway order (Gateways sorted by namespace/name). On one port either
  // plaintext servers (all HTTP of one protocol, or a single TCP one) or TLS servers (told apart by SNI).
  std::map<uint32_t, std::vector<GatewayServer>> servers_by_port;
  // Servers left out, and why (two protocols on one port, a duplicate HTTPS port name...).
  std::vector<PushConflict> conflicts;

  // The servers a route configuration serves (several for "http.<port>", one for "https...").
  std::vector<const GatewayServer*> serversForRoute(std::string_view route_name) const;
};

MergedGateway mergeGateways(const std::vector<const GatewayEntry*>& gateways);

// Passthrough or auto passthrough: TLS is not terminated here.
bool isPassthroughServer(const networking::Server& server);
// Served by an HTTP connection manager: an HTTP-family protocol, or HTTPS terminated here.
bool isHttpServer(const networking::Server& server);
// TLS settings on a non-HTTP protocol (HTTPS, TLS, TCP with tls, ...).
bool isTlsServer(const networking::Server& server);

// The server hosts that may bind VirtualServices of `vs_namespace`: "ns/host" entries only when ns
// is that namespace (namespace stripped), plain hosts always.
std::vector<std::string> hostsForNamespace(const GatewayServer& server, std::string_view vs_namespace);

// The hosts as SNI names for a filter chain match (namespace stripped, duplicates removed). A "*"
// host matches every name, so the result is empty: the chain then matches without SNI.
std::vector<std::string> sniHosts(const GatewayServer& server);

// Hosts that are in both lists, the more specific of each matching pair (1.1's Intersection).
std::vector<std::string> intersectHosts(const std::vector<std::string>& server_hosts, const std::vector<std::string>& vs_hosts);

}  // namespace monomesh::pilot::xds
