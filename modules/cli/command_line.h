// The `monomesh <command> [flags]` dispatcher: the command table, --help texts, and the rule
// that any unknown command, unknown flag or bad value prints one line naming it and exits 2.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "cli/flags.h"

namespace monomesh::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // the command ran and found a problem
inline constexpr int kExitUsage = 2;         // the command line itself is wrong
inline constexpr int kExitNotAvailable = 3;  // the capability has not landed in this build

enum class CommandGroup { Role, Tool };

struct Command {
  std::string name;
  CommandGroup group = CommandGroup::Tool;
  std::string summary;   // one line for `monomesh --help`
  std::string usage;     // "monomesh validate -f FILE|DIR|- [flags]"
  std::string details;   // paragraph for `monomesh <command> --help`
  std::vector<Flag> flags;
  std::function<int(const ParsedFlags&)> run;
  bool takes_arguments = false;  // positional arguments besides flags (validate's files)
};

class CommandLine {
 public:
  explicit CommandLine(std::vector<Command> commands) : commands_(std::move(commands)) {}

  // Dispatches; returns the process exit code.
  int run(int argc, char** argv) const;

  std::string help() const;
  std::string commandHelp(const Command& command) const;

 private:
  std::vector<Command> commands_;
};

}  // namespace monomesh::cli
