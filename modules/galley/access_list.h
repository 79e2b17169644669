// Which clients may take config from Galley over mutual TLS: Istio 1.1's --accessListFile, a YAML
// file `allowed: [spiffe://cluster.local/ns/istio-system/sa/istio-pilot-service-account, ...]`
// (the chart's ConfigMap istio-galley-configuration, key accesslist.yaml). A client is let in
// when one of its certificate's URI SANs is in the list.
#pragma once
#include <set>
#include <string>

#include "config/source_position.h"
#include "net/tls/peer_identity.h"

namespace monomesh::galley {

struct AccessList {
  std::set<std::string> allowed;  // SPIFFE ids

  bool admits(const net::tls::PeerIdentity& peer) const;
};

// Errors carry file:line:column; every entry must be a SPIFFE id (a typo would lock a Pilot out).
config::ConfigErrors readAccessList(const std::string& text, const std::string& file, AccessList& out);
config::ConfigErrors readAccessListFile(const std::string& path, AccessList& out);

}  // namespace monomesh::galley
