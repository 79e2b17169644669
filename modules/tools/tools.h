// Tools in the binary (istioctl's subset): validate, version, proxy-status, proxy-config,
// kube-inject.
#pragma once
#include "cli/command_line.h"

namespace monomesh::tools {

cli::Command validateCommand();
cli::Command versionCommand();
cli::Command proxyStatusCommand();
cli::Command proxyConfigCommand();
cli::Command kubeInjectCommand();

}  // namespace monomesh::tools
