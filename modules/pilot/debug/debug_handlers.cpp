#include "pilot/debug/debug_handlers.h"

#include <google/protobuf/util/json_util.h>

#include "observe/json_text.h"

namespace monomesh::pilot {

namespace {

using observe::jsonEscape;

std::string q(std::string_view s) { return "\"" + jsonEscape(s) + "\""; }

std::string toJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "null";
  return out;
}

observe::AdminResponse json(std::string body, unsigned status = 200) {
  observe::AdminResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.body += '\n';
  return r;
}

std::string protocols(const Service& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.ports.size(); ++i) {
    const auto& p = s.ports[i];
    out += (i ? "," : "") + std::string("{\"name\":") + q(p.name) + ",\"port\":" + std::to_string(p.port) +
           ",\"protocol\":" + q(protocolName(p.protocol)) + "}";
  }
  return out + "]";
}

std::string labelsJson(const Labels& labels) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + q(k) + ":" + q(v);
    first = false;
  }
  return out + "}";
}

std::string configz(const PushContext& push) {
  std::string out = "[";
  bool first = true;
  const auto& store = push.store();
  for (const auto& schema : config::SchemaRegistry::builtin().all()) {
    if (schema.group.empty()) continue;  // Kubernetes objects are in registryz/endpointz
    for (const auto& r : store.list(&schema)) {
      out += first ? "\n" : ",\n";
      first = false;
      out += "{\"kind\":" + q(schema.kind) + ",\"apiVersion\":" + q(schema.apiVersion()) + ",\"metadata\":{\"name\":" +
             q(r->meta.name) + ",\"namespace\":" + q(r->meta.namespace_) + ",\"resourceVersion\":" +
             q(r->meta.resource_version) + ",\"clusterID\":" + q(r->cluster_id) + "},\"spec\":" + toJson(*r->body) + "}";
    }
  }
  return out + "\n]";
}

std::string registryz(const PushContext& push) {
  std::string out = "[";
  bool first = true;
  for (const auto& s : push.registry().services) {
    out += first ? "\n" : ",\n";
    first = false;
    out += "{\"hostname\":" + q(s->hostname) + ",\"namespace\":" + q(s->namespace_) + ",\"address\":" + q(s->address) +
           ",\"ports\":" + protocols(*s) + ",\"resolution\":" +
           q(s->resolution == Resolution::ClientSideLB ? "ClientSideLB"
             : s->resolution == Resolution::DnsLB      ? "DNSLB"
                                                       : "Passthrough") +
           ",\"meshExternal\":" + (s->mesh_external ? "true" : "false") + ",\"registry\":" + q(s->registry) +
           ",\"clusterID\":" + q(s->cluster_id) + "}";
  }
  return out + "\n]";
}

std::string endpointz(const PushContext& push) {
  std::string out = "[";
  bool first = true;
  for (const auto& s : push.registry().services) {
    for (const auto& e : push.endpoints(s->hostname)) {
      out += first ? "\n" : ",\n";
      first = false;
      out += "{\"service\":" + q(s->hostname) + ",\"servicePort\":" + std::to_string(e.service_port) + ",\"address\":" +
             q(e.address) + ",\"port\":" + std::to_string(e.port) + ",\"labels\":" + labelsJson(e.labels) +
             ",\"serviceAccount\":" + q(e.service_account) + ",\"locality\":" + q(e.locality) + ",\"network\":" +
             q(e.network) + ",\"clusterID\":" + q(e.cluster_id) + "}";
    }
  }
  return out + "\n]";
}

std::string syncz(const net::xds::AdsServer& ads) {
  static const std::pair<const char*, std::string_view> kTypes[] = {
      {"cluster", net::xds::type_url::kCluster},
      {"listener", net::xds::type_url::kListener},
      {"route", net::xds::type_url::kRoute},
      {"endpoint", net::xds::type_url::kEndpoint}};
  std::string out = "[";
  bool first = true;
  for (const auto& s : ads.streams()) {
    out += first ? "\n" : ",\n";
    first = false;
    out += "{\"proxy\":" + q(s.node_id) + ",\"peer\":" + q(s.peer);
    for (const auto& [name, url] : kTypes) {
      auto it = s.types.find(std::string(url));
      if (it == s.types.end()) continue;
      const auto& t = it->second;
      out += ",\"" + std::string(name) + "_sent\":" + q(t.sent_version) + ",\"" + name + "_nonce\":" + q(t.sent_nonce) +
             ",\"" + name + "_acked\":" + q(t.acked_version) + ",\"" + name + "_names\":" + std::to_string(t.names.size());
      if (!t.last_nack.empty()) out += ",\"" + std::string(name) + "_nack\":" + q(t.last_nack);
    }
    out += "}";
  }
  return out + "\n]";
}

// Envoy's config_dump shapes: [{"version_info": v, "<wrapper>": {...}}], listeners one level deeper
// ({"name": n, "active_state": {"version_info": v, "listener": {...}}}).
template <class Message>
std::string dumpList(const std::vector<Message>& items, const char* wrapper, const std::string& version) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? ",\n" : "\n") + std::string("{\"version_info\":") + version + ",\"" + wrapper + "\":" + toJson(items[i]) + "}";
  return out + "]";
}

std::string listenerList(const std::vector<envoy::config::listener::v3::Listener>& items, const std::string& version) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? ",\n" : "\n") + std::string("{\"name\":") + q(items[i].name()) + ",\"active_state\":{\"version_info\":" +
           version + ",\"listener\":" + toJson(items[i]) + "}}";
  return out + "]";
}

std::string configDump(const DiscoveryServer::Generated& g, uint64_t version) {
  std::string v = q(std::to_string(version));
  return "{\"configs\":[\n"
         "{\"@type\":\"type.googleapis.com/envoy.admin.v3.ClustersConfigDump\",\"version_info\":" + v +
         ",\"dynamic_active_clusters\":" + dumpList(g.clusters, "cluster", v) + "},\n"
         "{\"@type\":\"type.googleapis.com/envoy.admin.v3.ListenersConfigDump\",\"version_info\":" + v +
         ",\"dynamic_listeners\":" + listenerList(g.listeners, v) + "},\n"
         "{\"@type\":\"type.googleapis.com/envoy.admin.v3.RoutesConfigDump\",\"dynamic_route_configs\":" +
         dumpList(g.routes, "route_config", v) + "},\n"
         "{\"@type\":\"type.googleapis.com/envoy.admin.v3.EndpointsConfigDump\",\"dynamic_endpoint_configs\":" +
         dumpList(g.endpoints, "endpoint_config", v) + "}\n]}";
}

// 1.1's "ProxyStatus": per pilot_* push metric with reports, each key with its proxy and message.
std::string proxyStatus(const PushStatus& status) {
  std::string out = "\"ProxyStatus\":{";
  bool first_metric = true;
  for (size_t i = 0; i < kPushMetricCount; ++i) {
    auto events = status.events(PushMetric(i));
    if (events.empty()) continue;
    out += (first_metric ? "\n" : ",\n") + q(pushMetricName(PushMetric(i))) + ":{";
    first_metric = false;
    bool first = true;
    for (const auto& [key, event] : events) {
      out += (first ? "" : ",") + q(key) + ":{\"proxy\":" + q(event.proxy) + ",\"message\":" + q(event.message) + "}";
      first = false;
    }
    out += "}";
  }
  return out + "}";
}

std::string pushStatus(const DiscoveryServer& discovery) {
  const auto& push = *discovery.push();
  std::string out = "{\"version\":" + std::to_string(push.version()) + ",\"storeVersion\":" +
                    std::to_string(push.storeVersion()) + ",\"pushes\":" + std::to_string(discovery.pushCount()) +
                    ",\"services\":" + std::to_string(push.registry().services.size()) + ",\"virtualServices\":" +
                    std::to_string(push.allVirtualServices().size()) + ",\"destinationRules\":" +
                    std::to_string(push.allDestinationRules().size()) + ",\"gateways\":" +
                    std::to_string(push.allGateways().size()) + ",\"proxies\":" +
                    std::to_string(discovery.ads()->streams().size()) + ",\"conflicts\":[";
  for (size_t i = 0; i < push.conflicts().size(); ++i)
    out += (i ? "," : "") + std::string("{\"kind\":") + q(push.conflicts()[i].kind) + ",\"detail\":" +
           q(push.conflicts()[i].detail) + "}";
  return out + "]," + proxyStatus(push.status()) + "}";
}

}  // namespace

void mountDebugHandlers(observe::AdminServer& server, DiscoveryServer& discovery, const observe::Readiness& readiness) {
  server.handle("/ready", "Pilot readiness", [&readiness](const observe::AdminRequest&) {
    observe::AdminResponse r;
    r.status = readiness.ready() ? 200 : 503;
    r.body = readiness.ready() ? "ok\n" : "not ready\n";
    return r;
  });
  server.handle("/debug/configz", "Istio config Pilot holds", [&discovery](const observe::AdminRequest&) {
    return json(configz(*discovery.push()));
  });
  server.handle("/debug/registryz", "Services of every registry", [&discovery](const observe::AdminRequest&) {
    return json(registryz(*discovery.push()));
  });
  server.handle("/debug/endpointz", "Service instances", [&discovery](const observe::AdminRequest&) {
    return json(endpointz(*discovery.push()));
  });
  server.handle("/debug/adsz", "Connected ADS clients", [&discovery](const observe::AdminRequest&) {
    return json(syncz(*discovery.ads()));
  });
  server.handle("/debug/syncz", "Sent and acknowledged versions per proxy", [&discovery](const observe::AdminRequest&) {
    return json(syncz(*discovery.ads()));
  });
  server.handle("/debug/push_status", "The last push", [&discovery](const observe::AdminRequest&) {
    return json(pushStatus(discovery));
  });
  server.handle("/debug/config_dump", "What a proxy gets (?proxyID=<node id>)",
                [&discovery](const observe::AdminRequest& request) {
                  auto it = request.query.find("proxyID");
                  if (it == request.query.end() || it->second.empty())
                    return json("{\"error\":\"give ?proxyID=<Istio node id, e.g. sidecar~10.1.1.1~pod.ns~ns.svc.cluster.local>\"}", 400);
                  std::string error;
                  std::string id = it->second;
                  // proxy-status style "pod.namespace": find the connected node with that ID part.
                  if (id.find('~') == std::string::npos)
                    for (const auto& s : discovery.ads()->streams())
                      if (s.node_id.find("~" + id + "~") != std::string::npos) id = s.node_id;
                  auto generated = discovery.generateFor(id, error);
                  if (!generated) return json("{\"error\":" + q(error) + "}", 404);
                  return json(configDump(*generated, discovery.push()->version()));
                });
}

}  // namespace monomesh::pilot
