// Tools in the binary (istioctl's subset): validate, version; later kube-inject, proxy-status,
// proxy-config.
#pragma once
#include "cli/command_line.h"

namespace monomesh::tools {

cli::Command validateCommand();
cli::Command versionCommand();

}  // namespace monomesh::tools
