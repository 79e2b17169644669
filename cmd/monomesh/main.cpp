// monomesh: parse argv, pick a role or tool, run it. Nothing else.
#include "cli/command_line.h"
#include "roles/roles.h"
#include "tools/tools.h"

int main(int argc, char** argv) {
  using namespace monomesh;
  cli::CommandLine command_line({
      roles::proxyCommand(),
      roles::pilotCommand(),
      roles::galleyCommand(),
      roles::multiclusterSyncCommand(),
      roles::demoCommand(),
      tools::validateCommand(),
      tools::versionCommand(),
      tools::proxyStatusCommand(),
      tools::proxyConfigCommand(),
      tools::kubeInjectCommand(),
  });
  return command_line.run(argc, argv);
}
