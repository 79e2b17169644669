// `monomesh demo`: every role plus a bookinfo-style application in one process.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/common_flags.h"
#include "demo/mesh/demo_config.h"
#include "demo/mesh/demo_mesh.h"
#include "observe/log.h"
#include "roles/roles.h"

namespace monomesh::roles {

namespace {

// $HOME/.monomesh/demo-config, else ./monomesh-demo-config.
std::string defaultConfigDir() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/.monomesh/demo-config";
  return (std::filesystem::current_path() / "monomesh-demo-config").string();
}

}  // namespace

cli::Command demoCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"config-dir", FlagType::String, "", "Config folder to watch; empty: ~/.monomesh/demo-config, created with the sample config"},
      cli::portFlag("ingress-port", "8080", "Ingress gateway port on 127.0.0.1"),
      cli::portFlag("pilot-port", "15010", "Pilot's ADS port on 127.0.0.1"),
      cli::portFlag("pilot-debug-port", "8081", "Pilot's debug port on 127.0.0.1"),
      cli::portFlag("monitoring-port", "15014", "Pilot's metrics port on 127.0.0.1"),
      cli::portFlag("gateway-admin-port", "15000", "The ingress gateway's admin port on 127.0.0.1"),
      cli::portFlag("app-base-port", "19080", "Applications listen on 127.0.0.1 at this port + 1..6"),
  };
  return cli::Command{
      "demo", cli::CommandGroup::Role, "The whole mesh and a sample application in one process", "",
      "Runs pilot, an ingress gateway and one sidecar per sample workload on this machine, with the\n"
      "bookinfo application behind them, following a config folder you can drop Istio YAML into.",
      cli::roleFlags(flags, "5s"),
      [](const cli::ParsedFlags& f) {
        if (auto err = cli::applyLoggingFlags(f)) {
          std::fprintf(stderr, "monomesh demo: %s\n", err->c_str());
          return cli::kExitUsage;
        }
        demo::DemoOptions o;
        o.config_dir = f.str("config-dir").empty() ? defaultConfigDir() : f.str("config-dir");
        o.ports.ingress = uint16_t(f.integer("ingress-port"));
        o.ports.pilot_grpc = uint16_t(f.integer("pilot-port"));
        o.ports.pilot_debug = uint16_t(f.integer("pilot-debug-port"));
        o.ports.monitoring = uint16_t(f.integer("monitoring-port"));
        o.ports.gateway_admin = uint16_t(f.integer("gateway-admin-port"));
        o.ports.app_base = uint16_t(f.integer("app-base-port"));
        auto ro = cli::runtimeOptionsFrom(f);
        o.concurrency = ro.concurrency == 0 ? 1 : ro.concurrency;
        o.drain = ro.drain_duration;
        bool created = false;
        if (auto err = demo::ensureDemoConfig(o.config_dir, o.ports, created); !err.empty()) {
          std::fprintf(stderr, "monomesh demo: %s\n", err.c_str());
          return 1;
        }
        demo::DemoMesh mesh(o);
        if (auto err = mesh.start(); !err.empty()) {
          std::fprintf(stderr, "monomesh demo: cannot start: %s\n", err.c_str());
          return 1;
        }
        std::fputs(mesh.banner(created).c_str(), stdout);
        std::fflush(stdout);
        mesh.run();
        return 0;
      }};
}

}  // namespace monomesh::roles
