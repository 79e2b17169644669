// `monomesh kube-inject -f FILE|- [-o FILE]`: istioctl kube-inject. Every workload in the file
// (Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController,
// List) comes out with the sidecar (galley/injection); other documents come out unchanged.
// Problems are printed as file:line:column: message and exit 1, writing nothing.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/command_line.h"
#include "galley/injection/injection_settings.h"
#include "galley/injection/pod_annotations.h"
#include "galley/injection/yaml_stream_injection.h"
#include "tools/tools.h"

namespace monomesh::tools {

namespace injection = galley::injection;

namespace {

bool readInput(const std::string& path, std::string& out) {
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return !std::cin.bad();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

int printErrors(const config::ConfigErrors& errors) {
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.str().c_str());
  return cli::kExitFailure;
}

cli::Flag checked(cli::Flag flag, bool cidrs, bool wildcard) {
  flag.check = [cidrs, wildcard](const std::string& v) {
    return cidrs ? injection::checkCidrList(v, wildcard) : injection::checkPortList(v, wildcard);
  };
  return flag;
}

int run(const cli::ParsedFlags& flags) {
  std::string input_path = flags.str("filename");
  if (input_path.empty() && flags.positional().size() == 1) input_path = flags.positional()[0];
  if (input_path.empty() || flags.positional().size() > (flags.wasSet("filename") ? 0u : 1u)) {
    std::fprintf(stderr, "monomesh kube-inject: give one input: -f FILE or -f - (run 'monomesh kube-inject --help')\n");
    return cli::kExitUsage;
  }

  injection::InjectionSettings settings;
  auto errors = injection::readInjectionSettings(flags.str("injectConfigFile"), flags.str("meshConfigFile"), settings);
  if (!errors.empty()) return printErrors(errors);
  for (const auto& n : settings.notes) std::fprintf(stderr, "%s\n", n.c_str());
  auto& values = settings.config.values;
  for (auto [flag, target] : {std::pair{"hub", &values.hub}, {"tag", &values.tag}, {"includeIPRanges", &values.include_ip_ranges},
                              {"excludeIPRanges", &values.exclude_ip_ranges}, {"includeInboundPorts", &values.include_inbound_ports},
                              {"excludeInboundPorts", &values.exclude_inbound_ports}}) {
    if (flags.wasSet(flag)) *target = flags.str(flag);
  }

  std::string text;
  if (!readInput(input_path, text)) {
    std::fprintf(stderr, "%s: cannot read the file\n", input_path.c_str());
    return cli::kExitFailure;
  }
  injection::Injector injector(std::move(settings.config), std::move(settings.mesh));
  injection::StreamInjection result = injection::injectYamlStream(text, input_path, injector);
  if (!result.errors.empty()) return printErrors(result.errors);
  for (const auto& s : result.skipped) std::fprintf(stderr, "monomesh kube-inject: skipped %s\n", s.c_str());

  const std::string& out_path = flags.str("output");
  if (out_path.empty() || out_path == "-") {
    std::fwrite(result.output.data(), 1, result.output.size(), stdout);
    return std::fflush(stdout) == 0 ? cli::kExitOk : cli::kExitFailure;
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << result.output;
  out.close();
  if (!out) {
    std::fprintf(stderr, "%s: cannot write the file\n", out_path.c_str());
    return cli::kExitFailure;
  }
  return cli::kExitOk;
}

}  // namespace

cli::Command kubeInjectCommand() {
  using cli::Flag;
  using cli::FlagType;
  cli::Command command{
      "kube-inject", cli::CommandGroup::Tool, "Add the sidecar to Kubernetes workloads (like istioctl kube-inject)",
      "monomesh kube-inject -f FILE|- [-o FILE] [--meshConfigFile F] [--injectConfigFile F] [flags]",
      "Reads Kubernetes YAML (several documents, or kind: List) and writes the same documents with\n"
      "Istio 1.1's sidecar in every workload's pod template: the istio-init container (traffic\n"
      "capture, `monomesh iptables` with istio-iptables.sh's flags), the istio-proxy container\n"
      "(`monomesh proxy` with the bootstrap pilot-agent would write: ADS to\n"
      "istio-pilot.istio-system:15010, Prometheus on 15090, readiness on 15020), the istio-envoy\n"
      "and istio-certs volumes and the sidecar.istio.io/status annotation. Pods annotated\n"
      "sidecar.istio.io/inject: \"false\", hostNetwork pods and injected pods are left alone (noted\n"
      "on stderr); other documents pass through unchanged. Without --meshConfigFile the mesh\n"
      "settings are the 1.1 chart's; --injectConfigFile holds policy, selectors and `values`\n"
      "(images, resources, capture defaults). Problems print as file:line:column: message, exit 1.",
      {Flag{"filename", FlagType::String, "", "Input Kubernetes YAML file, or - for standard input", 'f'},
       Flag{"output", FlagType::String, "", "Write the injected YAML here (default: standard output)", 'o'},
       Flag{"meshConfigFile", FlagType::String, "", "MeshConfig YAML (the `mesh` key of ConfigMap istio)"},
       Flag{"injectConfigFile", FlagType::String, "", "Injection config YAML (policy, selectors, values)"},
       Flag{"hub", FlagType::String, "", "Image registry of the sidecar images"},
       Flag{"tag", FlagType::String, "", "Tag of the sidecar images"},
       checked(Flag{"includeIPRanges", FlagType::String, "", "Outbound CIDRs to capture (comma list, or *)"}, true, true),
       checked(Flag{"excludeIPRanges", FlagType::String, "", "Outbound CIDRs never captured (comma list)"}, true, false),
       checked(Flag{"includeInboundPorts", FlagType::String, "", "Inbound ports to capture (comma list, or *; default: container ports)"}, false, true),
       checked(Flag{"excludeInboundPorts", FlagType::String, "", "Inbound ports never captured (comma list)"}, false, false)},
      run};
  command.takes_arguments = true;
  return command;
}

}  // namespace monomesh::tools
