#include "cli/common_flags.h"

#include <filesystem>

#include "observe/log.h"
#include "runtime/thread_slot.h"

namespace monomesh::cli {

std::vector<Flag> loggingFlags() {
  Flag level{"log_output_level", FlagType::String, "default:info",
             "Minimum level per scope: <level> or <scope>:<level>,... (levels: debug, info, warn, error, none)"};
  level.check = [](const std::string& v) { return observe::checkLogLevels(v); };
  Flag target{"log_target", FlagType::String, "stdout", "Where logs go: stdout, stderr or a file path"};
  target.check = [](const std::string& v) -> std::optional<std::string> {
    if (v == "stdout" || v == "stderr") return std::nullopt;
    std::error_code ec;
    std::filesystem::path p(v);
    auto parent = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(parent, ec)) return "folder " + parent.string() + " does not exist";
    if (std::filesystem::is_directory(p, ec)) return "is a folder";
    return std::nullopt;
  };
  return {level, Flag{"log_as_json", FlagType::Bool, "", "Write log lines as JSON objects"}, target};
}

std::vector<Flag> runtimeFlags(const std::string& drain_default) {
  return {intFlag("concurrency", "0", "Worker threads (0: one per core)", 0, runtime::kMaxWorkers),
          Flag{"drain-duration", FlagType::Duration, drain_default,
               "How long SIGTERM/SIGINT lets in-flight work finish before a hard stop"}};
}

std::optional<std::string> applyLoggingFlags(const ParsedFlags& flags) {
  observe::LogOptions options;
  options.output_level = flags.str("log_output_level");
  options.as_json = flags.boolean("log_as_json");
  options.target = flags.str("log_target");
  return observe::configureLogging(options);
}

runtime::RuntimeOptions runtimeOptionsFrom(const ParsedFlags& flags) {
  runtime::RuntimeOptions options;
  options.concurrency = unsigned(flags.integer("concurrency"));
  options.drain_duration = std::chrono::duration_cast<std::chrono::milliseconds>(flags.duration("drain-duration"));
  return options;
}

std::vector<Flag> concat(std::vector<Flag> a, const std::vector<Flag>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<Flag> roleFlags(std::vector<Flag> own, const std::string& drain_default) {
  return concat(concat(std::move(own), runtimeFlags(drain_default)), loggingFlags());
}

}  // namespace monomesh::cli
