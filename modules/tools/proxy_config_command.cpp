// `monomesh proxy-config cluster|listener|route|endpoint PROXY` (istioctl proxy-config): a proxy's
// clusters, listeners, routes or endpoints as tables — read from the proxy's own admin
// /config_dump (--admin), or from what Pilot generates for it (/debug/config_dump, --pilot).
#include <cstdio>
#include <functional>

#include <google/protobuf/util/json_util.h>

#include "tools/debug_fetch.h"
#include "tools/tools.h"

namespace monomesh::tools {

namespace {

using google::protobuf::Value;

// The section of a config dump whose @type ends with `type` ("ClustersConfigDump").
const Value* section(const Value& dump, const std::string& type) {
  for (const auto& c : member(dump, "configs").list_value().values()) {
    auto t = text(member(c, "@type"));
    if (t.size() >= type.size() && t.compare(t.size() - type.size(), type.size(), type) == 0) return &c;
  }
  return nullptr;
}

// Every item of `lists` in `s`, unwrapped through `path` ("cluster", "active_state.listener").
std::vector<const Value*> items(const Value& s, std::initializer_list<const char*> lists, std::initializer_list<const char*> path) {
  std::vector<const Value*> out;
  for (const char* list : lists)
    for (const auto& entry : member(s, list).list_value().values()) {
      const Value* v = &entry;
      for (const char* p : path) {
        std::string part = p;
        size_t dot;
        while ((dot = part.find('.')) != std::string::npos) {
          v = &member(*v, part.substr(0, dot));
          part = part.substr(dot + 1);
        }
        const Value& next = member(*v, part);
        if (next.has_struct_value()) {
          v = &next;
          break;
        }
      }
      out.push_back(v);
    }
  return out;
}

std::string toJson(const Value& v) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(v, &out, options);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0, at;
  while ((at = s.find(sep, start)) != std::string::npos) {
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

bool wanted(const cli::ParsedFlags& f, const char* flag, const std::string& value) {
  return f.str(flag).empty() || f.str(flag) == value;
}

int printClusters(const Value& s, const cli::ParsedFlags& f) {
  std::printf("%-55s %-6s %-12s %-10s %s\n", "SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE");
  for (const Value* c : items(s, {"static_clusters", "dynamic_active_clusters", "dynamic_warming_clusters"}, {"cluster"})) {
    auto name = text(member(*c, "name"));
    auto parts = split(name, '|');
    std::string fqdn = name, port = "-", subset = "-", direction = "-";
    if (parts.size() == 4) {
      direction = parts[0];
      port = parts[1];
      subset = parts[2].empty() ? "-" : parts[2];
      fqdn = parts[3];
    }
    if (!wanted(f, "fqdn", fqdn) || !wanted(f, "port", port) || !wanted(f, "subset", subset) ||
        !wanted(f, "direction", direction))
      continue;
    auto type = text(member(*c, "type"));
    std::printf("%-55s %-6s %-12s %-10s %s\n", fqdn.c_str(), port.c_str(), subset.c_str(), direction.c_str(),
                type.empty() ? "STATIC" : type.c_str());
  }
  return cli::kExitOk;
}

std::string listenerType(const Value& l) {
  for (const auto& chain : member(l, "filter_chains").list_value().values())
    for (const auto& filter : member(chain, "filters").list_value().values()) {
      auto name = text(member(filter, "name"));
      if (name.find("http_connection_manager") != std::string::npos) return "HTTP";
      if (name.find("tcp_proxy") != std::string::npos) return "TCP";
    }
  return "-";
}

int printListeners(const Value& s, const cli::ParsedFlags& f) {
  std::printf("%-20s %-6s %s\n", "ADDRESS", "PORT", "TYPE");
  for (const Value* l : items(s, {"static_listeners", "dynamic_listeners"}, {"listener", "active_state.listener", "active_state"})) {
    const auto& sa = member(member(*l, "address"), "socket_address");
    auto address = text(member(sa, "address"));
    auto port = text(member(sa, "port_value"));
    auto type = listenerType(*l);
    if (!wanted(f, "address", address) || !wanted(f, "port", port) || !wanted(f, "type", type)) continue;
    std::printf("%-20s %-6s %s\n", address.c_str(), port.c_str(), type.c_str());
  }
  return cli::kExitOk;
}

int printRoutes(const Value& s, const cli::ParsedFlags& f) {
  std::printf("NOTE: This output only contains routes loaded via RDS.\n%-40s %s\n", "NAME", "VIRTUAL HOSTS");
  for (const Value* r : items(s, {"static_route_configs", "dynamic_route_configs"}, {"route_config"})) {
    auto name = text(member(*r, "name"));
    if (!wanted(f, "name", name)) continue;
    std::printf("%-40s %d\n", name.c_str(), member(*r, "virtual_hosts").list_value().values_size());
  }
  return cli::kExitOk;
}

int printEndpoints(const Value& s, const cli::ParsedFlags& f) {
  std::printf("%-28s %-10s %s\n", "ENDPOINT", "STATUS", "CLUSTER");
  for (const Value* a : items(s, {"static_endpoint_configs", "dynamic_endpoint_configs"}, {"endpoint_config"})) {
    auto cluster = text(member(*a, "cluster_name"));
    if (!wanted(f, "cluster", cluster)) continue;
    for (const auto& group : member(*a, "endpoints").list_value().values())
      for (const auto& lb : member(group, "lb_endpoints").list_value().values()) {
        const auto& sa = member(member(member(lb, "endpoint"), "address"), "socket_address");
        auto endpoint = text(member(sa, "address")) + ":" + text(member(sa, "port_value"));
        auto status = text(member(lb, "health_status"));
        std::printf("%-28s %-10s %s\n", endpoint.c_str(), status.empty() ? "HEALTHY" : status.c_str(), cluster.c_str());
      }
  }
  return cli::kExitOk;
}

}  // namespace

cli::Command proxyConfigCommand() {
  using cli::Flag;
  using cli::FlagType;
  return cli::Command{
      "proxy-config", cli::CommandGroup::Tool, "A proxy's clusters, listeners, routes or endpoints (istioctl proxy-config)",
      "monomesh proxy-config cluster|listener|route|endpoint PROXY [flags]",
      "PROXY is an Istio node ID (sidecar~10.1.1.1~pod.ns~ns.svc.cluster.local) or its pod.namespace part.\n"
      "With --admin the proxy's own /config_dump is read (what it runs); otherwise Pilot's\n"
      "/debug/config_dump (what Pilot generates for it). -o json prints that section whole.",
      {Flag{"pilot", FlagType::String, "127.0.0.1:8080", "Pilot's debug address (--httpAddr)"},
       Flag{"admin", FlagType::String, "", "The proxy's admin address (read its /config_dump instead)"},
       Flag{"output", FlagType::String, "short", "short or json", 'o'},
       Flag{"fqdn", FlagType::String, "", "cluster: only this service FQDN"},
       Flag{"port", FlagType::String, "", "cluster, listener: only this port"},
       Flag{"subset", FlagType::String, "", "cluster: only this subset"},
       Flag{"direction", FlagType::String, "", "cluster: inbound or outbound"},
       Flag{"address", FlagType::String, "", "listener: only this address"},
       Flag{"type", FlagType::String, "", "listener: HTTP or TCP"},
       Flag{"name", FlagType::String, "", "route: only this route configuration"},
       Flag{"cluster", FlagType::String, "", "endpoint: only this cluster"}},
      [](const cli::ParsedFlags& f) {
        static const std::map<std::string, std::pair<const char*, std::function<int(const Value&, const cli::ParsedFlags&)>>>
            kKinds = {{"cluster", {"ClustersConfigDump", printClusters}},
                      {"clusters", {"ClustersConfigDump", printClusters}},
                      {"listener", {"ListenersConfigDump", printListeners}},
                      {"listeners", {"ListenersConfigDump", printListeners}},
                      {"route", {"RoutesConfigDump", printRoutes}},
                      {"routes", {"RoutesConfigDump", printRoutes}},
                      {"endpoint", {"EndpointsConfigDump", printEndpoints}},
                      {"endpoints", {"EndpointsConfigDump", printEndpoints}}};
        const auto& args = f.positional();
        auto kind = args.empty() ? kKinds.end() : kKinds.find(args[0]);
        if (kind == kKinds.end() || (args.size() != 2 && f.str("admin").empty()) || args.size() > 2) {
          std::fprintf(stderr, "monomesh proxy-config: usage: monomesh proxy-config cluster|listener|route|endpoint PROXY "
                               "[--pilot ADDRESS | --admin ADDRESS]\n");
          return cli::kExitUsage;
        }
        std::string error;
        std::optional<Value> dump;
        if (!f.str("admin").empty()) {
          dump = fetchJson(f.str("admin"), "/config_dump?include_eds", error);
        } else {
          std::string id;
          for (char c : args[1]) {  // the query value: percent-encode what is not safe
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '~') id += c;
            else {
              char buf[4];
              std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
              id += buf;
            }
          }
          dump = fetchJson(f.str("pilot"), "/debug/config_dump?proxyID=" + id, error);
        }
        if (!dump) {
          std::fprintf(stderr, "monomesh proxy-config: %s\n", error.c_str());
          return cli::kExitFailure;
        }
        const Value* s = section(*dump, kind->second.first);
        if (s == nullptr) {
          std::fprintf(stderr, "monomesh proxy-config: the config dump has no %s\n", kind->second.first);
          return cli::kExitFailure;
        }
        if (f.str("output") == "json") {
          std::fputs(toJson(*s).c_str(), stdout);
          std::fputc('\n', stdout);
          return cli::kExitOk;
        }
        return kind->second.second(*s, f);
      },
      true};
}

}  // namespace monomesh::tools
