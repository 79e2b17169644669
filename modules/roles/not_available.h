// What a role prints when its capability has not landed in this build: it says so plainly and
// exits with kExitNotAvailable. It never pretends to run.
#pragma once
#include <string>

#include "cli/flags.h"

namespace monomesh::roles {

// `what` names the missing capability; `issue` the tracker issue that brings it.
int notAvailable(const std::string& role, const std::string& what, int issue, const cli::ParsedFlags& flags);

}  // namespace monomesh::roles
