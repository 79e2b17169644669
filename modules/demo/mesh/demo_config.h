// The sample config `monomesh demo` writes into a fresh config folder: the bookinfo workloads as
// Kubernetes objects (Services, Pods, Endpoints), one Sidecar resource per workload binding its
// listeners to its own loopback addresses (capture mode NONE: there is no iptables here), the
// ingress Gateway with the bookinfo VirtualService, and DestinationRules defining the version
// subsets. Users then drop Istio's own bookinfo routing files next to them.
#pragma once
#include <map>
#include <string>

#include "demo/mesh/demo_layout.h"

namespace monomesh::demo {

// File name -> YAML text.
std::map<std::string, std::string> demoConfigFiles(const DemoPorts& ports);

// Writes the files into `dir` (created) unless it already holds YAML; returns "" or the error.
// `created` tells whether the sample was written.
std::string ensureDemoConfig(const std::string& dir, const DemoPorts& ports, bool& created);

}  // namespace monomesh::demo
