// A DestinationRule's traffic policy as it applies to one cluster: the rule's top level, then the
// port-level settings for the cluster's port, then the subset's own policy (each overriding whole
// sections — load balancer, connection pool, outlier detection, TLS — as Istio 1.1 merges them),
// and how each section becomes Envoy cluster fields.
#pragma once
#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "pilot/model/service.h"

namespace monomesh::pilot::xds {

namespace networking = istio::networking::v1alpha3;

networking::TrafficPolicy effectivePolicy(const networking::DestinationRule* rule, const networking::Subset* subset,
                                          uint32_t port);

// Sets lb_policy, circuit breakers, connection options, outlier detection and TLS on `cluster`.
// `sni` and `service_accounts` are used by ISTIO_MUTUAL.
void applyTrafficPolicy(const networking::TrafficPolicy& policy, const Service& service, const std::string& sni,
                        envoy::config::cluster::v3::Cluster& cluster);

}  // namespace monomesh::pilot::xds
