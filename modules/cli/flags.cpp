#include "cli/flags.h"

#include <charconv>
#include <stdexcept>

#include "observe/admin_server.h"
#include "runtime/duration.h"

namespace monomesh::cli {

namespace {

const char* typeWord(FlagType t) {
  switch (t) {
    case FlagType::String: return "string";
    case FlagType::Int: return "int";
    case FlagType::Bool: return "";
    case FlagType::Duration: return "duration";
    case FlagType::Address: return "host:port";
    case FlagType::StringList: return "string";
  }
  return "";
}

const Flag* findFlag(const std::vector<Flag>& flags, const std::string& name) {
  for (const auto& f : flags)
    if (f.name == name || (name.size() == 1 && f.short_name == name[0])) return &f;
  return nullptr;
}

std::optional<long> toLong(const std::string& s) {
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

Flag intFlag(std::string name, std::string default_value, std::string help, long min, long max) {
  Flag flag{std::move(name), FlagType::Int, std::move(default_value), std::move(help)};
  flag.min = min;
  flag.max = max;
  return flag;
}

std::optional<std::string> checkFlagValue(const Flag& flag, const std::string& value) {
  auto bad = [&](const std::string& why) {
    return "invalid value \"" + value + "\" for --" + flag.name + ": " + why;
  };
  switch (flag.type) {
    case FlagType::Int: {
      auto v = toLong(value);
      if (!v) return bad("expected a whole number");
      if (flag.min < flag.max && (*v < flag.min || *v > flag.max))
        return bad("must be from " + std::to_string(flag.min) + " to " + std::to_string(flag.max));
      break;
    }
    case FlagType::Bool:
      if (value != "true" && value != "false") return bad("expected true or false");
      break;
    case FlagType::Duration: {
      auto d = runtime::parseDuration(value);
      if (!d) return bad("expected a duration such as 45s, 500ms or 1m");
      if (d->count() < 0) return bad("must not be negative");
      break;
    }
    case FlagType::Address: {
      std::string why;
      if (!observe::parseListenAddress(value, &why)) return bad("expected host:port or :port");
      break;
    }
    case FlagType::String:
    case FlagType::StringList: break;
  }
  if (flag.check) {
    if (auto why = flag.check(value)) return bad(*why);
  }
  return std::nullopt;
}

std::optional<std::string> parseFlags(const std::vector<Flag>& flags, const std::vector<std::string>& args,
                                      ParsedFlags& out) {
  for (const auto& f : flags) {
    if (f.type == FlagType::StringList) {
      out.lists_[f.name] = {};
    } else {
      out.values_[f.name] = f.default_value;
    }
  }
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-' || arg == "-") {
      out.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = body.find('='); eq != std::string::npos) {
      inline_value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    const Flag* flag = findFlag(flags, body);
    if (flag == nullptr || (arg[1] != '-' && body.size() != 1)) return "unknown flag " + arg.substr(0, arg.find('='));
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (flag->type == FlagType::Bool) {
      value = "true";
    } else {
      if (i + 1 >= args.size()) return "flag --" + flag->name + " needs a value";
      value = args[++i];
    }
    if (auto err = checkFlagValue(*flag, value)) return err;
    if (flag->type == FlagType::StringList) {
      out.lists_[flag->name].push_back(value);
    } else {
      out.values_[flag->name] = value;
    }
    out.set_[flag->name] = true;
  }
  return std::nullopt;
}

const std::string& ParsedFlags::str(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("flag --" + name + " was not declared");
  return it->second;
}

long ParsedFlags::integer(const std::string& name) const {
  const std::string& s = str(name);
  return s.empty() ? 0 : *toLong(s);
}

bool ParsedFlags::boolean(const std::string& name) const { return str(name) == "true"; }

std::chrono::nanoseconds ParsedFlags::duration(const std::string& name) const {
  const std::string& s = str(name);
  return s.empty() ? std::chrono::nanoseconds(0) : *runtime::parseDuration(s);
}

const std::vector<std::string>& ParsedFlags::list(const std::string& name) const {
  auto it = lists_.find(name);
  if (it == lists_.end()) throw std::logic_error("flag --" + name + " was not declared as a list");
  return it->second;
}

std::string describeFlags(const std::vector<Flag>& flags) {
  std::string out;
  for (const auto& f : flags) {
    std::string left = "  ";
    left += f.short_name ? std::string("-") + f.short_name + ", " : "    ";
    left += "--" + f.name;
    if (f.type != FlagType::Bool) left += std::string(" ") + typeWord(f.type);
    if (left.size() < 34) left.resize(34, ' ');
    else left += "  ";
    out += left + f.help;
    if (!f.default_value.empty()) out += " (default " + f.default_value + ")";
    if (f.type == FlagType::StringList) out += " (repeatable)";
    out += "\n";
  }
  return out;
}

}  // namespace monomesh::cli
