// Command-line flags: each command declares its flags (name, type, default, help); parsing
// checks every value, so a role starts only with values it can use.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace monomesh::cli {

enum class FlagType { String, Int, Bool, Duration, Address, StringList };

struct Flag {
  std::string name;           // without dashes: "configDir", "drain-time-s"
  FlagType type = FlagType::String;
  std::string default_value;  // as text; "" for none
  std::string help;
  char short_name = 0;        // 'f' for -f
  // Extra check on the text of a value; returns why it is wrong.
  std::function<std::optional<std::string>(const std::string&)> check;
  long min = 0, max = 0;      // Int range when min < max
};

class ParsedFlags {
 public:
  const std::string& str(const std::string& name) const;
  long integer(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::chrono::nanoseconds duration(const std::string& name) const;
  const std::vector<std::string>& list(const std::string& name) const;
  bool wasSet(const std::string& name) const { return set_.count(name) > 0; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend std::optional<std::string> parseFlags(const std::vector<Flag>&, const std::vector<std::string>&, ParsedFlags&);
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> lists_;
  std::map<std::string, bool> set_;
  std::vector<std::string> positional_;
};

// An Int flag limited to min..max (ports: 0..65535).
Flag intFlag(std::string name, std::string default_value, std::string help, long min, long max);
inline Flag portFlag(std::string name, std::string default_value, std::string help) {
  return intFlag(std::move(name), std::move(default_value), std::move(help), 0, 65535);
}

// Parses args (after the command name). Returns a one-line error naming the flag or value.
// "--help"/"-h" are not handled here.
std::optional<std::string> parseFlags(const std::vector<Flag>& flags, const std::vector<std::string>& args,
                                      ParsedFlags& out);

// Checks one value against its flag's type and range.
std::optional<std::string> checkFlagValue(const Flag& flag, const std::string& value);

// "  --name type   help (default ...)" lines for --help.
std::string describeFlags(const std::vector<Flag>& flags);

}  // namespace monomesh::cli
