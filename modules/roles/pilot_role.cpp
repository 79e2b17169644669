// `monomesh pilot`: service registries and Istio config turned into xDS. Flags as pilot-discovery.
#include <cstdio>

#include "cli/common_flags.h"
#include "observe/log.h"
#include "pilot/server/pilot_server.h"
#include "roles/roles.h"

namespace monomesh::roles {

cli::Command pilotCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"configDir", FlagType::String, "", "Folder of Istio config and Kubernetes objects to watch"},
      Flag{"grpcAddr", FlagType::Address, ":15010", "ADS (xDS over gRPC) address"},
      Flag{"httpAddr", FlagType::Address, ":8080", "Debug HTTP address (/debug/*)"},
      Flag{"monitoringAddr", FlagType::Address, ":15014", "Metrics and health address"},
      Flag{"meshConfig", FlagType::String, "/etc/istio/config/mesh", "Mesh config file"},
      Flag{"networksConfig", FlagType::String, "/etc/istio/config/meshNetworks", "Mesh networks file"},
      Flag{"configSource", FlagType::StringList, "", "Galley address (host:port) to take config from over MCP"},
      Flag{"kubeconfig", FlagType::String, "", "Kubeconfig file (empty: in-cluster credentials)"},
      Flag{"registries", FlagType::StringList, "", "Service registries: Kubernetes, MCP (default Kubernetes)"},
      Flag{"clusterID", FlagType::String, "Kubernetes", "ID of the cluster this Pilot runs in"},
      Flag{"domain", FlagType::String, "cluster.local", "DNS domain suffix"},
      Flag{"debounceAfter", FlagType::Duration, "100ms", "Quiet time before a push (PILOT_DEBOUNCE_AFTER)"},
      Flag{"debounceMax", FlagType::Duration, "10s", "Longest a push waits for quiet (PILOT_DEBOUNCE_MAX)"},
      cli::intFlag("pushThrottle", "100", "Proxies answering a push at once; 0: no limit (PILOT_PUSH_THROTTLE)", 0, 1000000),
      Flag{"debounceEndpoints", FlagType::Bool, "true",
           "Debounce endpoint-only changes too; false pushes them at once (PILOT_ENABLE_EDS_DEBOUNCE)"},
  };
  return cli::Command{
      "pilot", cli::CommandGroup::Role, "Service discovery and Istio config to xDS (ADS server)", "",
      "Watches service registries and Istio config and serves Envoy v3 xDS to every proxy.",
      cli::roleFlags(flags),
      [](const cli::ParsedFlags& f) {
        if (auto err = cli::applyLoggingFlags(f)) {
          std::fprintf(stderr, "monomesh pilot: %s\n", err->c_str());
          return cli::kExitUsage;
        }
        pilot::PilotOptions o;
        o.config_dir = f.str("configDir");
        o.grpc_addr = f.str("grpcAddr");
        o.http_addr = f.str("httpAddr");
        o.monitoring_addr = f.str("monitoringAddr");
        o.mesh_config = f.str("meshConfig");
        o.mesh_config_required = f.wasSet("meshConfig");
        o.networks_config = f.str("networksConfig");
        o.networks_config_required = f.wasSet("networksConfig");
        o.kubeconfig = f.str("kubeconfig");
        o.config_sources = f.list("configSource");
        o.registries = f.list("registries");
        o.cluster_id = f.str("clusterID");
        o.domain = f.str("domain");
        o.debounce.quiet = std::chrono::duration_cast<std::chrono::milliseconds>(f.duration("debounceAfter"));
        o.debounce.cap = std::chrono::duration_cast<std::chrono::milliseconds>(f.duration("debounceMax"));
        o.debounce.endpoints = f.boolean("debounceEndpoints");
        o.push_throttle = size_t(f.integer("pushThrottle"));
        auto runtime_options = cli::runtimeOptionsFrom(f);
        runtime_options.concurrency = 1;  // Pilot runs on the control context; one idle worker at most
        runtime::Runtime runtime(runtime_options);
        pilot::PilotServer server(o, runtime);
        if (auto err = server.start(); !err.empty()) {
          observe::logScope("pilot").error("start-up step \"{}", err.insert(err.find(':'), "\" failed"));
          return 1;
        }
        runtime.drain().add("pilot", [&server](std::function<void()> done) {
          server.stop();
          done();
        });
        runtime.run();
        server.stop();
        return 0;
      }};
}

}  // namespace monomesh::roles
