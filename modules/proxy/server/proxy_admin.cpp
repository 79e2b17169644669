// The proxy's admin endpoints, as Envoy's admin serves them: /stats, /stats/prometheus,
// /clusters, /config_dump, /listeners, /ready, /server_info, /quitquitquit, /healthz/fail,
// /healthz/ok, /drain_listeners, /reopen_logs, plus the standard /metrics, /version, /logging.
#include <google/protobuf/util/json_util.h>
#include <re2/re2.h>

#include "observe/admin_handlers.h"
#include "observe/build_info.h"
#include "proxy/server/proxy_server.h"

namespace monomesh::proxy {

using observe::AdminRequest;
using observe::AdminResponse;

namespace {

std::string toJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

}  // namespace

void ProxyServer::mountAdmin() {
  auto& a = *admin_;
  observe::mountStandardHandlers(a, readiness_);
  a.handle("/stats", "counters and gauges (Envoy's text; ?filter=<substring>, ?format=prometheus)",
           [this](const AdminRequest& req) {
             auto f = req.query.find("format");
             if (f != req.query.end() && f->second == "prometheus")
               return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", stats_.renderPrometheus()};
             auto filter = req.query.find("filter");
             if (filter == req.query.end() || filter->second.empty())
               return AdminResponse{200, "text/plain; charset=utf-8", stats_.renderText()};
             // As Envoy: the filter is a regular expression matched anywhere in the name.
             re2::RE2 re(filter->second, re2::RE2::Quiet);
             if (!re.ok()) return AdminResponse{400, "text/plain; charset=utf-8", "invalid regex: " + re.error() + "\n"};
             return AdminResponse{200, "text/plain; charset=utf-8",
                                  stats_.renderText([&re](const std::string& name) { return re2::RE2::PartialMatch(name, re); })};
           });
  a.handle("/stats/prometheus", "counters and gauges in the Prometheus text format", [this](const AdminRequest&) {
    return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", stats_.renderPrometheus()};
  });
  a.handle("/clusters", "upstream clusters and their hosts", [this](const AdminRequest&) {
    std::string out;
    auto snapshot = clusters_->current();
    if (!snapshot) return AdminResponse{200, "text/plain; charset=utf-8", ""};
    std::map<std::string, const ClusterEntry*> sorted;
    for (const auto& [name, entry] : snapshot->clusters) sorted[name] = &entry;
    auto now = Clock::now();
    for (const auto& [name, entry] : sorted) {
      const auto& l = entry->info->limits;
      out += name + "::default_priority::max_connections::" + std::to_string(l.max_connections) + "\n";
      out += name + "::default_priority::max_pending_requests::" + std::to_string(l.max_pending_requests) + "\n";
      out += name + "::default_priority::max_requests::" + std::to_string(l.max_requests) + "\n";
      out += name + "::default_priority::max_retries::" + std::to_string(l.max_retries) + "\n";
      for (const auto& h : entry->hosts->hosts) {
        std::string p = name + "::" + h->str() + "::";
        out += p + "hostname::" + h->hostname + "\n";
        out += p + "rq_active::" + std::to_string(h->active_requests.load()) + "\n";
        out += p + "weight::" + std::to_string(h->weight) + "\n";
        out += p + "priority::" + std::to_string(h->priority) + "\n";
        std::string health = !h->healthy ? "/failed_eds_health" : h->ejected(now) ? "/failed_outlier_check" : "healthy";
        out += p + "health_flags::" + health + "\n";
        if (!h->locality.empty() && h->locality != "//") out += p + "zone::" + h->locality + "\n";
      }
    }
    return AdminResponse{200, "text/plain; charset=utf-8", out};
  });
  a.handle("/config_dump", "the configuration in force, as Envoy's ConfigDump (JSON; ?include_eds adds endpoints)",
           [this](const AdminRequest& req) {
             return AdminResponse{200, "application/json", toJson(configDump(req.query.count("include_eds") != 0))};
           });
  a.handle("/listeners", "listeners and their addresses", [this](const AdminRequest&) {
    std::string out;
    for (const auto& [name, l] : bound_) {
      auto e = l->localEndpoint();
      out += l->name() + "::" + e.address().to_string() + ":" + std::to_string(e.port()) + "\n";
    }
    return AdminResponse{200, "text/plain; charset=utf-8", out};
  });
  a.handle("/ready", "LIVE when the proxy serves traffic", [this](const AdminRequest&) {
    if (draining_) return AdminResponse{503, "text/plain; charset=utf-8", "DRAINING\n"};
    if (!readiness_.ready()) return AdminResponse{503, "text/plain; charset=utf-8", "PRE_INITIALIZING\n"};
    return AdminResponse{200, "text/plain; charset=utf-8", "LIVE\n"};
  });
  a.handle("/server_info", "version, state and uptime (JSON)", [this](const AdminRequest&) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    std::string state = draining_ ? "DRAINING" : readiness_.ready() ? "LIVE" : "PRE_INITIALIZING";
    std::string body = "{\"version\":\"monomesh/" + observe::buildInfo().version + "\",\"state\":\"" + state +
                       "\",\"uptime_current_epoch\":\"" + std::to_string(uptime) + "s\",\"node\":" + toJson(bootstrap_.node()) +
                       ",\"command_line_options\":{\"concurrency\":" + std::to_string(runtime_->workerCount()) + "}}\n";
    return AdminResponse{200, "application/json", body};
  });
  a.handle("/healthz/fail", "fail health checks (POST)", [this](const AdminRequest&) {
    health_failed_ = true;
    readiness_.markUnmet("health checks failed by /healthz/fail");
    return AdminResponse{200, "text/plain; charset=utf-8", "OK\n"};
  }, true);
  a.handle("/healthz/ok", "pass health checks again (POST)", [this](const AdminRequest&) {
    health_failed_ = false;
    readiness_.markMet("health checks failed by /healthz/fail");
    return AdminResponse{200, "text/plain; charset=utf-8", "OK\n"};
  }, true);
  a.handle("/drain_listeners", "stop accepting; in-flight requests finish (POST)", [this](const AdminRequest&) {
    runtime_->drain().start("/drain_listeners");
    return AdminResponse{200, "text/plain; charset=utf-8", "OK\n"};
  }, true);
  a.handle("/runtime", "the layered runtime's values", [this](const AdminRequest&) {
    std::string out;
    if (auto values = runtime_slot_->latest())
      for (const auto& [k, v] : values->values) out += k + ": " + v + "\n";
    return AdminResponse{200, "text/plain; charset=utf-8", out};
  });
  a.handle("/runtime_modify", "set admin-layer runtime values: POST ?key=value (empty value removes)",
           [this](const AdminRequest& req) {
             bool has_admin_layer = false;
             for (const auto& l : bootstrap_.layered_runtime().layers()) has_admin_layer |= l.has_admin_layer();
             if (!has_admin_layer)
               return AdminResponse{503, "text/plain; charset=utf-8", "no admin layer in layered_runtime\n"};
             for (const auto& [k, v] : req.query) {
               if (v.empty()) admin_runtime_.erase(k);
               else admin_runtime_[k] = v;
             }
             runtime_slot_->publish(loadRuntime(bootstrap_.layered_runtime(), admin_runtime_));
             return AdminResponse{200, "text/plain; charset=utf-8", "OK\n"};
           }, true);
  a.handle("/reopen_logs", "reopen access log files, after log rotation (POST)", [this](const AdminRequest&) {
    access_log_files_->reopen();
    return AdminResponse{200, "text/plain; charset=utf-8", "OK\n"};
  }, true);
  a.handle("/quitquitquit", "exit now (POST)", [this](const AdminRequest&) {
    runtime_->stop();
    return AdminResponse{200, "text/plain; charset=utf-8", "OK\n"};
  }, true);
}

}  // namespace monomesh::proxy
