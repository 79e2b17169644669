// The handlers every role's admin server carries: /healthz/ready, /metrics, /version, /logging.
#pragma once
#include "observe/admin_server.h"
#include "observe/metrics.h"
#include "observe/readiness.h"

namespace monomesh::observe {

void mountStandardHandlers(AdminServer& server, const Readiness& readiness,
                           const MetricsRegistry& registry = MetricsRegistry::global());

}  // namespace monomesh::observe
