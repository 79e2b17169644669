// Pilot's debug endpoints on --httpAddr, as Istio 1.1 named them: /ready, /debug/configz,
// /debug/registryz, /debug/endpointz, /debug/edsz, /debug/cdsz, /debug/adsz, /debug/syncz,
// /debug/config_dump?proxyID=, /debug/push_status. All JSON.
#pragma once
#include "observe/admin_server.h"
#include "observe/readiness.h"
#include "pilot/discovery/discovery_server.h"

namespace monomesh::pilot {

void mountDebugHandlers(observe::AdminServer& server, DiscoveryServer& discovery, const observe::Readiness& readiness);

}  // namespace monomesh::pilot
