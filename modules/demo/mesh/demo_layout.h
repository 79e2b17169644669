// Where everything of `monomesh demo` lives on one machine, without root and without iptables:
// each workload gets its own loopback addresses — a pod IP (127.0.10.N) on which its sidecar's
// inbound listener takes mesh traffic on the service port, and an egress address (127.0.20.N) on
// which its sidecar's outbound listener takes the application's calls — while the application
// itself listens on 127.0.0.1 at its own port. Linux routes all of 127/8 to loopback.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace monomesh::demo {

struct DemoWorkload {
  std::string service;  // productpage, details, reviews, ratings
  std::string version;  // v1, v2, v3
  unsigned index = 0;   // 1-based: addresses 127.0.10.<index> and 127.0.20.<index>
  uint16_t app_port = 0;

  std::string name() const { return service + "-" + version; }  // "reviews-v2"
  std::string pod() const { return name() + "-demo"; }          // the pod name in node IDs
  std::string podIp() const { return "127.0.10." + std::to_string(index); }
  std::string egressIp() const { return "127.0.20." + std::to_string(index); }
  std::string nodeId() const;  // sidecar~127.0.10.N~reviews-v2-demo.default~default.svc.cluster.local
  std::string serviceAccount() const { return "bookinfo-" + service; }
};

struct DemoPorts {
  uint16_t ingress = 8080;        // the gateway, on 127.0.0.1
  uint16_t pilot_grpc = 15010;    // ADS
  uint16_t pilot_debug = 8081;    // Pilot's /debug (its usual 8080 is the ingress here)
  uint16_t monitoring = 15014;    // Pilot's /metrics
  uint16_t gateway_admin = 15000; // the ingress gateway's Envoy-style admin
  uint16_t app_base = 19080;      // applications: app_base + index
};

inline constexpr uint16_t kServicePort = 9080;  // bookinfo's port for every service
inline constexpr const char* kGatewayIp = "127.0.30.1";

std::vector<DemoWorkload> demoWorkloads(const DemoPorts& ports);
std::string gatewayNodeId();

}  // namespace monomesh::demo
