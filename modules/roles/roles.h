// One composition root per role. Each returns its command: flags, help and the function that
// runs the role. The roles' modules never include each other.
#pragma once
#include "cli/command_line.h"

namespace monomesh::roles {

cli::Command proxyCommand();
cli::Command pilotCommand();
cli::Command galleyCommand();
cli::Command multiclusterSyncCommand();
cli::Command demoCommand();

}  // namespace monomesh::roles
