// Flags every role shares (Istio's logging flags; the runtime's concurrency and drain) and
// how they are applied.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "runtime/runtime.h"

namespace monomesh::cli {

std::vector<Flag> loggingFlags();
// --concurrency and --drain-duration with the given defaults.
std::vector<Flag> runtimeFlags(const std::string& drain_default = "45s");

// Applies the logging flags; returns the error to print when they are unusable.
std::optional<std::string> applyLoggingFlags(const ParsedFlags& flags);
runtime::RuntimeOptions runtimeOptionsFrom(const ParsedFlags& flags);

std::vector<Flag> concat(std::vector<Flag> a, const std::vector<Flag>& b);

// A role's own flags followed by the runtime and logging flags every role shares.
std::vector<Flag> roleFlags(std::vector<Flag> own, const std::string& drain_default = "45s");

}  // namespace monomesh::cli
