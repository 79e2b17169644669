// `monomesh validate -f FILE|DIR|-`: loads Istio config and Kubernetes objects exactly as the
// roles do and reports every error as file:line:column: message. Exit 1 on any invalid object.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "cli/command_line.h"
#include "config/loader.h"
#include "observe/json_text.h"
#include "tools/tools.h"

namespace monomesh::tools {

namespace fs = std::filesystem;
using observe::jsonEscape;

namespace {

// Expands folders into their YAML/JSON files (sorted); "-" stays as standard input.
std::vector<std::string> expandInputs(const std::vector<std::string>& inputs, std::vector<std::string>& missing) {
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (in == "-") {
      files.push_back(in);
    } else if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(in, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        auto ext = it->path().extension().string();
        if (it->is_regular_file(ec) && (ext == ".yaml" || ext == ".yml" || ext == ".json")) found.push_back(it->path().string());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(in, ec)) {
      files.push_back(in);
    } else {
      missing.push_back(in);
    }
  }
  return files;
}

// [{"file", "line", "column", "object", "field", "message"}, ...]
std::string jsonList(const config::ConfigErrors& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& e = list[i];
    if (i) out += ",";
    out += "{\"file\":\"" + jsonEscape(e.position.file) + "\",\"line\":" + std::to_string(e.position.line) +
           ",\"column\":" + std::to_string(e.position.column) + ",\"object\":\"" + jsonEscape(e.subject) +
           "\",\"field\":\"" + jsonEscape(e.path) + "\",\"message\":\"" + jsonEscape(e.message) + "\"}";
  }
  return out + "]";
}

// Notes in text form: a note that only one object carries is printed with its position; one that
// many carry (every Mixer object has the same) once, with a count per kind.
std::vector<std::string> noteLines(const config::ConfigErrors& notes) {
  std::map<std::string, std::vector<const config::ConfigError*>> by_message;
  std::vector<std::string> order;
  for (const auto& n : notes) {
    auto& list = by_message[n.message];
    if (list.empty()) order.push_back(n.message);
    list.push_back(&n);
  }
  std::vector<std::string> lines;
  for (const auto& message : order) {
    const auto& list = by_message[message];
    if (list.size() == 1) {
      const auto& n = *list[0];
      lines.push_back(n.position.str() + ": " + n.subject + ": note: " + message);
      continue;
    }
    std::map<std::string, int> kinds;
    for (const auto* n : list) ++kinds[n->subject.substr(0, n->subject.find(' '))];
    std::string line = "note: " + std::to_string(list.size()) + " objects (";
    bool first = true;
    for (const auto& [kind, count] : kinds) {
      line += (first ? "" : " ") + kind + "×" + std::to_string(count);
      first = false;
    }
    lines.push_back(line + "): " + message);
  }
  return lines;
}

}  // namespace

cli::Command validateCommand() {
  using cli::Flag;
  using cli::FlagType;
  Flag output{"output", FlagType::String, "text", "Output format: text or json", 'o'};
  output.check = [](const std::string& v) -> std::optional<std::string> {
    if (v == "text" || v == "json") return std::nullopt;
    return "expected text or json";
  };
  cli::Command command{
      "validate", cli::CommandGroup::Tool, "Check Istio config files (like istioctl validate)",
      "monomesh validate -f FILE|DIR|- [-f ...] [flags]",
      "Reads each file (folders recursively; '-' is standard input), checks every object against its\n"
      "schema and Istio 1.1's validation rules (what Galley's webhook enforced), and prints every\n"
      "problem as file:line:column: Kind namespace/name: field.path: what is wrong. Exit 0 when\n"
      "everything is valid, 1 when anything is not. Kubernetes objects the mesh does not read are\n"
      "skipped; notes (deprecated kinds, Mixer config not applied yet) do not make a file invalid.",
      {Flag{"filename", FlagType::StringList, "", "File, folder or - to validate", 'f'}, output},
      [](const cli::ParsedFlags& flags) {
        std::vector<std::string> inputs = flags.list("filename");
        for (const auto& p : flags.positional()) inputs.push_back(p);
        if (inputs.empty()) {
          std::fprintf(stderr, "monomesh validate: no input; give -f FILE, -f DIR or -f - (run 'monomesh validate --help')\n");
          return cli::kExitUsage;
        }
        std::vector<std::string> missing;
        auto files = expandInputs(inputs, missing);
        for (const auto& m : missing) {
          std::fprintf(stderr, "monomesh validate: %s: no such file or folder\n", m.c_str());
        }
        if (!missing.empty()) return cli::kExitUsage;
        config::ConfigErrors errors, notes;
        size_t resources = 0;
        std::map<std::string, int> skipped;
        config::LoadOptions options;
        options.validate = true;  // Istio 1.1's semantic rules, as Galley's webhook ran them
        for (const auto& file : files) {
          config::LoadResult result;
          if (file == "-") {
            std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
            result = config::loadYaml(text, "-", options);
          } else {
            result = config::loadFile(file, options);
          }
          resources += result.resources.size();
          for (auto& s : result.skipped) ++skipped[s.kind];
          errors.insert(errors.end(), result.errors.begin(), result.errors.end());
          notes.insert(notes.end(), result.notes.begin(), result.notes.end());
        }
        if (flags.str("output") == "json") {
          std::string out = "{\"valid\":" + std::string(errors.empty() ? "true" : "false") +
                            ",\"files\":" + std::to_string(files.size()) + ",\"resources\":" + std::to_string(resources) +
                            ",\"errors\":" + jsonList(errors) + ",\"notes\":" + jsonList(notes) + ",\"skipped\":{";
          bool first = true;
          for (auto& [kind, n] : skipped) {
            out += (first ? "\"" : ",\"") + jsonEscape(kind) + "\":" + std::to_string(n);
            first = false;
          }
          out += "}}\n";
          std::fputs(out.c_str(), stdout);
        } else {
          for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.str().c_str());
          for (const auto& line : noteLines(notes)) std::printf("%s\n", line.c_str());
          std::string summary = errors.empty() ? "valid: " : "invalid: ";
          summary += std::to_string(resources) + " objects in " + std::to_string(files.size()) + " files";
          if (!errors.empty()) summary += ", " + std::to_string(errors.size()) + " errors";
          if (!skipped.empty()) {
            summary += "; skipped (not read by the mesh):";
            for (auto& [kind, n] : skipped) summary += " " + kind + "×" + std::to_string(n);
          }
          std::printf("%s\n", summary.c_str());
        }
        return errors.empty() ? cli::kExitOk : cli::kExitFailure;
      }};
  command.takes_arguments = true;
  return command;
}

}  // namespace monomesh::tools
