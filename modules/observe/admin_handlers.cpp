#include "observe/admin_handlers.h"

#include "observe/build_info.h"
#include "observe/log.h"
#include "observe/prometheus_text.h"

namespace monomesh::observe {
namespace {

std::string levelsText() {
  std::string body = "active loggers:\n";
  for (auto& [scope, level] : logLevels()) body += "  " + scope + ": " + level + "\n";
  return body;
}

}  // namespace

void mountStandardHandlers(AdminServer& server, const Readiness& readiness,
                           const MetricsRegistry& registry) {
  server.handle("/healthz/ready", "200 when the role is ready, else 503 and what it waits for",
                [&readiness](const AdminRequest&) {
                  auto pending = readiness.pending();
                  if (pending.empty()) return AdminResponse{200, "text/plain; charset=utf-8", "LIVE\n"};
                  std::string body = "not ready; waiting for:";
                  for (auto& p : pending) body += " " + p + ";";
                  body.back() = '\n';
                  return AdminResponse{503, "text/plain; charset=utf-8", body};
                });
  server.handle("/metrics", "metrics in the Prometheus text format", [&registry](const AdminRequest&) {
    return AdminResponse{200, kPrometheusContentType, renderPrometheus(registry)};
  });
  server.handle("/version", "build information (JSON)", [](const AdminRequest&) {
    return AdminResponse{200, "application/json", buildInfoJson()};
  });
  server.handle("/logging", "log levels per scope; POST ?level=<l> or ?<scope>=<l> to change",
                [](const AdminRequest& req) {
                  if (req.query.empty()) return AdminResponse{200, "text/plain; charset=utf-8", levelsText()};
                  if (req.method != "POST")
                    return AdminResponse{405, "text/plain; charset=utf-8", "changing levels needs POST\n",
                                         {{"Allow", "POST"}}};
                  std::string spec;
                  for (auto& [key, value] : req.query) {
                    if (!spec.empty()) spec += ',';
                    spec += key == "level" ? value : key + ":" + value;
                  }
                  // "level=debug" alone applies to every scope.
                  if (req.query.size() == 1 && req.query.begin()->first == "level") spec = req.query.begin()->second;
                  if (auto err = setLogLevels(spec))
                    return AdminResponse{400, "text/plain; charset=utf-8", *err + "\n"};
                  return AdminResponse{200, "text/plain; charset=utf-8", levelsText()};
                });
}

}  // namespace monomesh::observe
