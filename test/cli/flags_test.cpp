#include <boost/test/unit_test.hpp>

#include "cli/flags.h"

using namespace monomesh::cli;

namespace {

std::vector<Flag> sampleFlags() {
  Flag port{"port", FlagType::Int, "80", "a port"};
  port.min = 0;
  port.max = 65535;
  return {Flag{"name", FlagType::String, "x", "a name", 'n'}, port,
          Flag{"verbose", FlagType::Bool, "", "chatty"},
          Flag{"wait", FlagType::Duration, "1s", "how long"},
          Flag{"addr", FlagType::Address, ":15010", "where"},
          Flag{"file", FlagType::StringList, "", "inputs", 'f'}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(flags)

BOOST_AUTO_TEST_CASE(defaults_apply_when_not_given) {
  ParsedFlags p;
  BOOST_TEST(!parseFlags(sampleFlags(), {}, p));
  BOOST_TEST(p.str("name") == "x");
  BOOST_TEST(p.integer("port") == 80);
  BOOST_TEST(!p.boolean("verbose"));
  BOOST_TEST(p.duration("wait").count() == 1000000000);
  BOOST_TEST(!p.wasSet("name"));
}

BOOST_AUTO_TEST_CASE(both_value_spellings_short_names_and_lists) {
  ParsedFlags p;
  BOOST_TEST(!parseFlags(sampleFlags(), {"--name=a", "--port", "8080", "--verbose", "-f", "x.yaml", "--file=y.yaml",
                                         "pos", "--", "--not-a-flag"},
                         p));
  BOOST_TEST(p.str("name") == "a");
  BOOST_TEST(p.integer("port") == 8080);
  BOOST_TEST(p.boolean("verbose"));
  BOOST_TEST((p.list("file") == std::vector<std::string>{"x.yaml", "y.yaml"}));
  BOOST_TEST((p.positional() == std::vector<std::string>{"pos", "--not-a-flag"}));
  BOOST_TEST(p.wasSet("name"));
}

BOOST_AUTO_TEST_CASE(errors_name_the_flag_and_value) {
  auto error = [](std::vector<std::string> args) {
    ParsedFlags p;
    auto e = parseFlags(sampleFlags(), args, p);
    return e ? *e : std::string();
  };
  BOOST_TEST(error({"--bogus"}) == "unknown flag --bogus");
  BOOST_TEST(error({"--bogus=1"}) == "unknown flag --bogus");
  BOOST_TEST(error({"-name"}) == "unknown flag -name");  // long names need two dashes
  BOOST_TEST(error({"--port", "abc"}) == "invalid value \"abc\" for --port: expected a whole number");
  BOOST_TEST(error({"--port=70000"}) == "invalid value \"70000\" for --port: must be from 0 to 65535");
  BOOST_TEST(error({"--verbose=maybe"}) == "invalid value \"maybe\" for --verbose: expected true or false");
  BOOST_TEST(error({"--wait", "5"}) == "invalid value \"5\" for --wait: expected a duration such as 45s, 500ms or 1m");
  BOOST_TEST(error({"--wait=-1s"}) == "invalid value \"-1s\" for --wait: must not be negative");
  BOOST_TEST(error({"--addr", "nowhere"}) == "invalid value \"nowhere\" for --addr: expected host:port or :port");
  BOOST_TEST(error({"--name"}) == "flag --name needs a value");
}

BOOST_AUTO_TEST_CASE(custom_checks_run) {
  Flag f{"output", FlagType::String, "text", "format"};
  f.check = [](const std::string& v) -> std::optional<std::string> {
    return v == "text" ? std::nullopt : std::optional<std::string>("expected text");
  };
  ParsedFlags p;
  auto e = parseFlags({f}, {"--output=yaml"}, p);
  BOOST_TEST(e.value_or("") == "invalid value \"yaml\" for --output: expected text");
}

BOOST_AUTO_TEST_CASE(help_lists_flags_with_defaults) {
  std::string help = describeFlags(sampleFlags());
  BOOST_TEST(help.find("-n, --name string") != std::string::npos);
  BOOST_TEST(help.find("(default :15010)") != std::string::npos);
  BOOST_TEST(help.find("--verbose ") != std::string::npos);
  BOOST_TEST(help.find("(repeatable)") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
