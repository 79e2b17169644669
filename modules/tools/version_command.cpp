// `monomesh version`: what this binary is.
#include <cstdio>

#include "observe/build_info.h"
#include "tools/tools.h"

namespace monomesh::tools {

cli::Command versionCommand() {
  using cli::Flag;
  using cli::FlagType;
  Flag output{"output", FlagType::String, "text", "Output format: text, short or json", 'o'};
  output.check = [](const std::string& v) -> std::optional<std::string> {
    if (v == "text" || v == "short" || v == "json") return std::nullopt;
    return "expected text, short or json";
  };
  return cli::Command{"version", cli::CommandGroup::Tool, "Print the version", "", "", {output},
                      [](const cli::ParsedFlags& flags) {
                        const auto& b = observe::buildInfo();
                        const auto& fmt = flags.str("output");
                        if (fmt == "json") {
                          std::fputs(observe::buildInfoJson().c_str(), stdout);
                        } else if (fmt == "short") {
                          std::printf("%s\n", b.version.c_str());
                        } else {
                          std::printf("monomesh %s (%s build, %s; accepts %s config, serves %s xDS)\n", b.version.c_str(),
                                      b.build_type.c_str(), b.compiler.c_str(), b.istio_api.c_str(), b.xds_api.c_str());
                        }
                        return cli::kExitOk;
                      }};
}

}  // namespace monomesh::tools
