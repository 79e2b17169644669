// `monomesh proxy`: the Envoy-compatible data plane (sidecar or gateway). Flags use Envoy's names.
#include "cli/common_flags.h"
#include <cstdio>

#include "proxy/server/proxy_server.h"
#include "roles/roles.h"

namespace monomesh::roles {

cli::Command proxyCommand() {
  using cli::Flag;
  using cli::FlagType;
  std::vector<Flag> flags = {
      Flag{"config-path", FlagType::String, "", "Envoy v3 bootstrap file (YAML or JSON)", 'c'},
      Flag{"config-yaml", FlagType::String, "", "Bootstrap YAML merged over --config-path"},
      cli::runtimeFlags().front(),  // --concurrency, as Envoy's
      cli::intFlag("drain-time-s", "600", "Seconds to drain connections on shutdown", 0, 86400),
      Flag{"service-cluster", FlagType::String, "", "Local service cluster name (node.cluster)"},
      Flag{"service-node", FlagType::String, "", "Local service node name (node.id)"},
      cli::intFlag("file-flush-interval-msec", "10000", "Interval for flushing access logs, in milliseconds", 1, 3600000),
  };
  return cli::Command{
      "proxy", cli::CommandGroup::Role, "Envoy-compatible sidecar or gateway proxy (xDS v3 data plane)",
      "monomesh proxy --config-path FILE [flags]",
      "Reads an Envoy v3 bootstrap and serves its listeners, routes and clusters; with ADS in the\n"
      "bootstrap it follows Pilot live.",
      cli::concat(flags, cli::loggingFlags()),
      [](const cli::ParsedFlags& f) {
        if (auto err = cli::applyLoggingFlags(f)) {
          std::fprintf(stderr, "monomesh proxy: %s\n", err->c_str());
          return cli::kExitUsage;
        }
        if (f.str("config-path").empty() && f.str("config-yaml").empty()) {
          std::fprintf(stderr, "monomesh proxy: give --config-path FILE or --config-yaml TEXT (run 'monomesh proxy --help')\n");
          return cli::kExitUsage;
        }
        proxy::ProxyOptions options;
        options.config_path = f.str("config-path");
        options.config_yaml = f.str("config-yaml");
        options.concurrency = unsigned(f.integer("concurrency"));
        options.drain_time = std::chrono::seconds(f.integer("drain-time-s"));
        options.service_cluster = f.str("service-cluster");
        options.service_node = f.str("service-node");
        options.file_flush_interval = std::chrono::milliseconds(f.integer("file-flush-interval-msec"));
        proxy::ProxyServer server(options);
        return server.run();
      }};
}

}  // namespace monomesh::roles
