#include "roles/not_available.h"

#include <cstdio>

#include "cli/command_line.h"
#include "cli/common_flags.h"

namespace monomesh::roles {

int notAvailable(const std::string& role, const std::string& what, int issue, const cli::ParsedFlags& flags) {
  if (auto err = cli::applyLoggingFlags(flags)) {
    std::fprintf(stderr, "monomesh %s: %s\n", role.c_str(), err->c_str());
    return cli::kExitUsage;
  }
  std::fprintf(stderr,
               "monomesh %s: not available in this build yet: %s lands with issue %d. Nothing was started.\n",
               role.c_str(), what.c_str(), issue);
  return cli::kExitNotAvailable;
}

}  // namespace monomesh::roles
