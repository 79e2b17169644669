#include "observe/log.h"

#include "observe/json_text.h"
#include "observe/time_text.h"

#include <chrono>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace monomesh::observe {
namespace {

const std::vector<std::string> kScopes = {
    "default", "runtime", "admin", "config", "cli", "proxy", "http", "upstream", "xds", "ads",
    "pilot", "registry", "kube", "galley", "validation", "mcp", "security", "multicluster", "demo",
    "h2", "grpc", "tls"};

void appendJson(spdlog::memory_buf_t& out, std::string_view s) {
  std::string escaped = jsonEscape(s);
  out.append(std::string_view(escaped));
}

std::string_view istioLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "debug";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "error";
    default: return "none";
  }
}

// Istio's line shapes: "<time>\t<level>\t[<scope>\t]<message>" or one JSON object per line.
class IstioFormatter final : public spdlog::formatter {
 public:
  explicit IstioFormatter(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string stamp = formatUtcTime(msg.time, 6);
    std::string_view scope(msg.logger_name.data(), msg.logger_name.size());
    std::string_view text(msg.payload.data(), msg.payload.size());
    if (json_) {
      dest.append(std::string_view("{\"time\":\""));
      dest.append(std::string_view(stamp));
      dest.append(std::string_view("\",\"level\":\""));
      dest.append(istioLevelName(msg.level));
      dest.append(std::string_view("\",\"scope\":\""));
      appendJson(dest, scope.empty() ? "default" : scope);
      dest.append(std::string_view("\",\"msg\":\""));
      appendJson(dest, text);
      dest.append(std::string_view("\"}\n"));
    } else {
      dest.append(std::string_view(stamp));
      dest.push_back('\t');
      dest.append(istioLevelName(msg.level));
      dest.push_back('\t');
      if (!scope.empty() && scope != "default") {
        dest.append(scope);
        dest.push_back('\t');
      }
      dest.append(text);
      dest.push_back('\n');
    }
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<IstioFormatter>(json_);
  }

 private:
  bool json_;
};

struct Scopes {
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  Scopes() {
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    sink->set_formatter(std::make_unique<IstioFormatter>(false));
    for (const auto& name : kScopes) {
      auto logger = std::make_shared<spdlog::logger>(name == "default" ? "" : name, sink);
      logger->set_level(spdlog::level::info);
      logger->flush_on(spdlog::level::info);
      loggers.emplace(name, logger);
    }
    spdlog::set_default_logger(loggers.at("default"));
  }
};

Scopes& scopes() {
  static Scopes instance;
  return instance;
}

}  // namespace

const std::vector<std::string>& logScopeNames() { return kScopes; }

spdlog::logger& logScope(std::string_view name) {
  auto& all = scopes().loggers;
  auto it = all.find(name);
  if (it == all.end()) throw std::logic_error("unknown log scope " + std::string(name));
  return *it->second;
}

std::optional<spdlog::level::level_enum> parseLogLevel(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "critical" || name == "fatal") return spdlog::level::critical;
  if (name == "none" || name == "off") return spdlog::level::off;
  return std::nullopt;
}

namespace {

using LevelChanges = std::vector<std::pair<spdlog::logger*, spdlog::level::level_enum>>;

std::optional<std::string> parseLevelSpec(std::string_view spec, LevelChanges& changes) {
  auto& all = scopes().loggers;
  if (spec.find(':') == std::string_view::npos && spec.find(',') == std::string_view::npos) {
    auto level = parseLogLevel(spec);
    if (!level) return "unknown log level \"" + std::string(spec) + "\"";
    for (auto& [name, logger] : all) changes.emplace_back(logger.get(), *level);
  } else {
    size_t start = 0;
    while (start <= spec.size()) {
      size_t end = spec.find(',', start);
      if (end == std::string_view::npos) end = spec.size();
      std::string_view part = spec.substr(start, end - start);
      start = end + 1;
      if (part.empty()) continue;
      size_t colon = part.find(':');
      if (colon == std::string_view::npos)
        return "\"" + std::string(part) + "\" is not <scope>:<level>";
      std::string_view scope = part.substr(0, colon), level_name = part.substr(colon + 1);
      auto it = all.find(scope);
      if (it == all.end()) return "unknown log scope \"" + std::string(scope) + "\"";
      auto level = parseLogLevel(level_name);
      if (!level) return "unknown log level \"" + std::string(level_name) + "\"";
      changes.emplace_back(it->second.get(), *level);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> checkLogLevels(std::string_view spec) {
  LevelChanges changes;
  return parseLevelSpec(spec, changes);
}

std::optional<std::string> setLogLevels(std::string_view spec) {
  LevelChanges changes;
  if (auto err = parseLevelSpec(spec, changes)) return err;
  for (auto& [logger, level] : changes) logger->set_level(level);
  return std::nullopt;
}

std::map<std::string, std::string> logLevels() {
  std::map<std::string, std::string> out;
  for (auto& [name, logger] : scopes().loggers) {
    auto sv = spdlog::level::to_string_view(logger->level());
    out[name] = std::string(sv.data(), sv.size());
  }
  return out;
}

std::optional<std::string> configureLogging(const LogOptions& options) {
  spdlog::sink_ptr sink;
  try {
    if (options.target == "stdout") {
      sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else if (options.target == "stderr") {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.target);
    }
  } catch (const std::exception& e) {
    return "cannot open log target \"" + options.target + "\": " + e.what();
  }
  if (auto err = setLogLevels(options.output_level)) return err;
  sink->set_formatter(std::make_unique<IstioFormatter>(options.as_json));
  for (auto& [name, logger] : scopes().loggers) {
    logger->sinks().clear();
    logger->sinks().push_back(sink);
  }
  return std::nullopt;
}

}  // namespace monomesh::observe
