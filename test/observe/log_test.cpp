// Logging scopes: level specs, level names, JSON and text output.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "observe/log.h"

namespace obs = monomesh::observe;
namespace fs = std::filesystem;
using spdlog::level::level_enum;

namespace {

// Every test starts and ends with all scopes at info, writing text to stdout.
struct LogFixture {
  LogFixture() { reset(); }
  ~LogFixture() {
    reset();
    for (const auto& p : files) {
      std::error_code ignored;
      fs::remove(p, ignored);
    }
  }
  static void reset() {
    obs::LogOptions o;
    o.output_level = "info";
    obs::configureLogging(o);
  }
  fs::path tempFile(const std::string& stem) {
    auto p = fs::temp_directory_path() /
             (stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(files.size()) + ".log");
    fs::remove(p);
    files.push_back(p);
    return p;
  }
  static std::vector<std::string> lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  static level_enum level(const char* scope) { return obs::logScope(scope).level(); }

  std::vector<fs::path> files;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(logging, LogFixture)

BOOST_AUTO_TEST_CASE(parse_log_level_accepts_istio_and_envoy_names) {
  struct Case {
    const char* name;
    level_enum level;
  };
  const Case cases[] = {{"debug", spdlog::level::debug},   {"info", spdlog::level::info},
                        {"warn", spdlog::level::warn},     {"error", spdlog::level::err},
                        {"none", spdlog::level::off},      {"trace", spdlog::level::trace},
                        {"warning", spdlog::level::warn},  {"critical", spdlog::level::critical},
                        {"off", spdlog::level::off}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("level \"" << c.name << "\"") {
      auto level = obs::parseLogLevel(c.name);
      BOOST_TEST(level.has_value());
      if (level) BOOST_TEST(int(*level) == int(c.level));
    }
  }
  for (const char* bad : {"", "verbose", "INFO", "Debug", " info", "info "}) {
    BOOST_TEST_CONTEXT("level \"" << bad << "\"") { BOOST_TEST(!obs::parseLogLevel(bad).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(scope_names_and_lookup) {
  const auto& names = obs::logScopeNames();
  BOOST_TEST(!names.empty());
  BOOST_TEST((std::find(names.begin(), names.end(), "default") != names.end()));
  BOOST_TEST((std::find(names.begin(), names.end(), "xds") != names.end()));
  auto levels = obs::logLevels();
  BOOST_TEST(levels.size() == names.size());
  for (const auto& n : names) {
    BOOST_TEST_CONTEXT("scope " << n) {
      BOOST_TEST(levels.count(n) == 1u);
      BOOST_CHECK_NO_THROW(obs::logScope(n));
    }
  }
  BOOST_CHECK_THROW(obs::logScope("no-such-scope"), std::logic_error);
  // The default scope is spdlog's default logger.
  BOOST_TEST(&obs::logScope("default") == spdlog::default_logger_raw());
}

BOOST_AUTO_TEST_CASE(single_level_applies_to_every_scope) {
  BOOST_TEST(!obs::setLogLevels("debug").has_value());
  for (const auto& [scope, level] : obs::logLevels()) {
    BOOST_TEST_CONTEXT("scope " << scope) {
      BOOST_TEST(level == "debug");
      BOOST_TEST(int(obs::logScope(scope).level()) == int(spdlog::level::debug));
    }
  }
}

BOOST_AUTO_TEST_CASE(scoped_spec_changes_only_named_scopes) {
  BOOST_TEST(!obs::setLogLevels("default:warn,xds:debug").has_value());
  BOOST_TEST(int(level("default")) == int(spdlog::level::warn));
  BOOST_TEST(int(level("xds")) == int(spdlog::level::debug));
  BOOST_TEST(int(level("ads")) == int(spdlog::level::info));
  BOOST_TEST(int(level("config")) == int(spdlog::level::info));
  auto levels = obs::logLevels();
  BOOST_TEST(levels["xds"] == "debug");
  BOOST_TEST(levels["ads"] == "info");
  // Every reported name is one setLogLevels accepts back.
  for (const auto& [scope, name] : levels) {
    BOOST_TEST_CONTEXT("scope " << scope << " level " << name) {
      BOOST_TEST(obs::parseLogLevel(name).has_value());
    }
  }
  BOOST_TEST(!obs::setLogLevels("default:info,xds:info,").has_value());  // trailing comma tolerated
  BOOST_TEST(int(level("xds")) == int(spdlog::level::info));
}

BOOST_AUTO_TEST_CASE(invalid_spec_changes_nothing) {
  struct Case {
    const char* spec;
    const char* mentions;
  };
  const Case cases[] = {{"xds:debug,bogus:info", "bogus"}, {"xds:debug,default:loud", "loud"},
                        {"loud", "loud"},                  {"xds:debug,admin", "admin"},
                        {"", ""},                          {"xds:", ""},
                        {":debug", ""}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("spec \"" << c.spec << "\"") {
      auto err = obs::setLogLevels(c.spec);
      BOOST_TEST(err.has_value());
      if (err) BOOST_TEST(err->find(c.mentions) != std::string::npos, *err);
      BOOST_TEST(int(level("xds")) == int(spdlog::level::info));
      BOOST_TEST(int(level("default")) == int(spdlog::level::info));
      BOOST_TEST(int(level("admin")) == int(spdlog::level::info));
    }
  }
}

BOOST_AUTO_TEST_CASE(check_log_levels_validates_without_applying) {
  BOOST_TEST(!obs::checkLogLevels("default:debug,xds:error").has_value());
  BOOST_TEST(!obs::checkLogLevels("warning").has_value());
  BOOST_TEST(int(level("default")) == int(spdlog::level::info));
  BOOST_TEST(int(level("xds")) == int(spdlog::level::info));
  BOOST_TEST(obs::checkLogLevels("nope:debug").has_value());
  BOOST_TEST(obs::checkLogLevels("xds:nope").has_value());
  BOOST_TEST(obs::checkLogLevels("nope").has_value());
}

BOOST_AUTO_TEST_CASE(json_output_is_one_object_per_line) {
  auto path = tempFile("monomesh-log-json");
  obs::LogOptions o;
  o.output_level = "default:info";
  o.as_json = true;
  o.target = path.string();
  auto err = obs::configureLogging(o);
  BOOST_TEST_REQUIRE(!err.has_value(), err.value_or(""));
  obs::logScope("xds").info("say \"hi\"\nline2\ttab\\end");
  obs::logScope("xds").debug("hidden at info");
  obs::logScope("default").warn("plain {}", 42);
  obs::logScope("admin").error("ctl\x01" "char");
  for (const auto& n : obs::logScopeNames()) obs::logScope(n).flush();
  reset();  // closes the file

  auto got = lines(path);
  BOOST_TEST_REQUIRE(got.size() == 3u);
  BOOST_TEST(got[0].rfind("{\"time\":\"", 0) == 0u, got[0]);
  BOOST_TEST(got[0].find("\"level\":\"info\"") != std::string::npos, got[0]);
  BOOST_TEST(got[0].find("\"scope\":\"xds\"") != std::string::npos, got[0]);
  BOOST_TEST(got[0].find("\"msg\":\"say \\\"hi\\\"\\nline2\\ttab\\\\end\"") != std::string::npos, got[0]);
  BOOST_TEST(got[0].back() == '}');
  BOOST_TEST(got[1].find("\"level\":\"warn\"") != std::string::npos, got[1]);
  BOOST_TEST(got[1].find("\"scope\":\"default\"") != std::string::npos, got[1]);
  BOOST_TEST(got[1].find("\"msg\":\"plain 42\"") != std::string::npos, got[1]);
  BOOST_TEST(got[2].find("\"level\":\"error\"") != std::string::npos, got[2]);
  BOOST_TEST(got[2].find("\"msg\":\"ctl\\u0001char\"") != std::string::npos, got[2]);
  for (const auto& line : got) {
    BOOST_TEST_CONTEXT(line) {
      BOOST_TEST(line.front() == '{');
      BOOST_TEST(line.back() == '}');
    }
  }
}

BOOST_AUTO_TEST_CASE(text_output_is_tab_separated) {
  auto path = tempFile("monomesh-log-text");
  obs::LogOptions o;
  o.output_level = "info";
  o.as_json = false;
  o.target = path.string();
  BOOST_TEST_REQUIRE(!obs::configureLogging(o).has_value());
  obs::logScope("xds").info("hello world");
  obs::logScope("default").warn("plain");
  for (const auto& n : obs::logScopeNames()) obs::logScope(n).flush();
  reset();

  auto got = lines(path);
  BOOST_TEST_REQUIRE(got.size() == 2u);
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t tab; (tab = s.find('\t', start)) != std::string::npos; start = tab + 1)
      parts.push_back(s.substr(start, tab - start));
    parts.push_back(s.substr(start));
    return parts;
  };
  auto xds = split(got[0]);
  BOOST_TEST_REQUIRE(xds.size() == 4u, got[0]);
  BOOST_TEST(xds[0].size() == 27u, "timestamp " << xds[0]);  // 2006-01-02T15:04:05.000000Z
  BOOST_TEST(xds[0].back() == 'Z');
  BOOST_TEST(xds[0][10] == 'T');
  BOOST_TEST(xds[1] == "info");
  BOOST_TEST(xds[2] == "xds");
  BOOST_TEST(xds[3] == "hello world");
  auto plain = split(got[1]);
  BOOST_TEST_REQUIRE(plain.size() == 3u, got[1]);  // the default scope is not named
  BOOST_TEST(plain[1] == "warn");
  BOOST_TEST(plain[2] == "plain");
}

BOOST_AUTO_TEST_CASE(configure_logging_errors) {
  // A file that cannot be created: its parent is a regular file.
  auto parent = tempFile("monomesh-log-parent");
  { std::ofstream(parent) << "x"; }
  obs::LogOptions o;
  o.target = (parent / "child.log").string();
  auto err = obs::configureLogging(o);
  BOOST_TEST(err.has_value());
  if (err) {
    BOOST_TEST(err->find("child.log") != std::string::npos, *err);
    BOOST_TEST(err->find('\n') == std::string::npos, "the error must be one line: " << *err);
  }

  obs::LogOptions bad_level;
  bad_level.output_level = "xds:loud";
  err = obs::configureLogging(bad_level);
  BOOST_TEST(err.has_value());
  BOOST_TEST(int(level("xds")) == int(spdlog::level::info));

  obs::LogOptions bad_scope;
  bad_scope.output_level = "nosuch:debug";
  BOOST_TEST(obs::configureLogging(bad_scope).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
