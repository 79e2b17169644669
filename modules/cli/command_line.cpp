#include "cli/command_line.h"

#include <cstdio>
#include <exception>

namespace monomesh::cli {

std::string CommandLine::help() const {
  std::string out =
      "Monomesh: the Istio 1.1 service mesh in one executable.\n\n"
      "Usage: monomesh <command> [flags]\n\nRoles (one per process, as the Helm chart deploys them):\n";
  auto list = [&](CommandGroup group) {
    for (const auto& c : commands_) {
      if (c.group != group) continue;
      std::string left = "  " + c.name;
      left.resize(22, ' ');
      out += left + c.summary + "\n";
    }
  };
  list(CommandGroup::Role);
  out += "\nTools:\n";
  list(CommandGroup::Tool);
  out += "  help                Show this help, or a command's: monomesh help <command>\n";
  out += "\nRun 'monomesh <command> --help' for a command's flags.\n";
  return out;
}

std::string CommandLine::commandHelp(const Command& c) const {
  std::string out = "Usage: " + (c.usage.empty() ? "monomesh " + c.name + " [flags]" : c.usage) + "\n\n" + c.summary + "\n";
  if (!c.details.empty()) out += "\n" + c.details + "\n";
  if (!c.flags.empty()) out += "\nFlags:\n" + describeFlags(c.flags);
  out += "  -h, --help                      Show this help\n";
  return out;
}

int CommandLine::run(int argc, char** argv) const {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || (args[0] == "help" && args.size() == 1)) {
    std::fputs(help().c_str(), stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  std::string name = args[0];
  args.erase(args.begin());
  bool help_wanted = false;
  if (name == "help") {
    if (args[0] == "--help" || args[0] == "-h") {
      std::fputs(help().c_str(), stdout);
      return kExitOk;
    }
    name = args[0];
    help_wanted = true;
  }
  const Command* command = nullptr;
  for (const auto& c : commands_)
    if (c.name == name) command = &c;
  if (command == nullptr) {
    std::fprintf(stderr, "monomesh: unknown command \"%s\" (run 'monomesh --help' for the list)\n", name.c_str());
    return kExitUsage;
  }
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "--help" || a == "-h") help_wanted = true;
  }
  if (help_wanted) {
    std::fputs(commandHelp(*command).c_str(), stdout);
    return kExitOk;
  }
  ParsedFlags parsed;
  if (auto err = parseFlags(command->flags, args, parsed)) {
    std::fprintf(stderr, "monomesh %s: %s (run 'monomesh %s --help')\n", name.c_str(), err->c_str(), name.c_str());
    return kExitUsage;
  }
  if (!command->takes_arguments && !parsed.positional().empty()) {
    std::fprintf(stderr, "monomesh %s: unexpected argument \"%s\" (run 'monomesh %s --help')\n", name.c_str(),
                 parsed.positional().front().c_str(), name.c_str());
    return kExitUsage;
  }
  try {
    return command->run(parsed);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "monomesh %s: %s\n", name.c_str(), e.what());
    return kExitFailure;
  }
}

}  // namespace monomesh::cli
