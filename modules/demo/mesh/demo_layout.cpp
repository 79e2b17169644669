#include "demo/mesh/demo_layout.h"

namespace monomesh::demo {

std::string DemoWorkload::nodeId() const {
  return "sidecar~" + podIp() + "~" + pod() + ".default~default.svc.cluster.local";
}

std::vector<DemoWorkload> demoWorkloads(const DemoPorts& ports) {
  std::vector<DemoWorkload> out = {{"productpage", "v1"}, {"details", "v1"}, {"reviews", "v1"},
                                   {"reviews", "v2"},     {"reviews", "v3"}, {"ratings", "v1"}};
  for (unsigned i = 0; i < out.size(); ++i) {
    out[i].index = i + 1;
    out[i].app_port = uint16_t(ports.app_base + i + 1);
  }
  return out;
}

std::string gatewayNodeId() {
  return std::string("router~") + kGatewayIp + "~istio-ingressgateway-demo.istio-system~istio-system.svc.cluster.local";
}

}  // namespace monomesh::demo
