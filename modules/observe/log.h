// Istio-style logging scopes on spdlog: each subsystem logs through its scope ("xds", "config"...)
// whose level is set by --log_output_level=default:info,xds:debug and changed at run time through
// the admin /logging endpoint. Output is Istio's tab-separated text or JSON (--log_as_json).
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <spdlog/logger.h>
#include <string>
#include <string_view>
#include <vector>

namespace monomesh::observe {

struct LogOptions {
  std::string output_level = "default:info";
  bool as_json = false;
  std::string target = "stdout";  // stdout, stderr or a file path
};

// Every scope the binary has; `default` is spdlog's default logger.
const std::vector<std::string>& logScopeNames();

// The logger of a known scope. Unknown names are a programming error and throw.
spdlog::logger& logScope(std::string_view name);

// Applies options; returns a one-line error (unknown scope, bad level, unopenable target).
std::optional<std::string> configureLogging(const LogOptions& options);

// "debug" (every scope) or "default:info,xds:debug". Nothing changes when any part is invalid.
std::optional<std::string> setLogLevels(std::string_view spec);

// Validates a spec without applying it.
std::optional<std::string> checkLogLevels(std::string_view spec);

// Scope -> level name, for /logging.
std::map<std::string, std::string> logLevels();

// Accepted level names: Istio's (debug info warn error none) and Envoy's (trace warning critical off).
std::optional<spdlog::level::level_enum> parseLogLevel(std::string_view name);

}  // namespace monomesh::observe
