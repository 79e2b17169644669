#include "galley/invalid_config.h"

#include "observe/json_text.h"

namespace monomesh::galley {

void appendInvalid(std::vector<InvalidConfig>& out, const std::string& source,
                   const std::map<std::string, config::ConfigErrors>& errors) {
  for (const auto& [name, list] : errors) out.push_back(InvalidConfig{source, name, list});
}

std::string invalidConfigJson(const std::vector<InvalidConfig>& entries) {
  using observe::jsonEscape;
  auto quoted = [](const std::string& s) { return "\"" + jsonEscape(s) + "\""; };
  std::string out = "{\"invalid\": [";
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& entry = entries[i];
    out += std::string(i ? ",\n  " : "\n  ") + "{\"source\": " + quoted(entry.source) + ", \"name\": " + quoted(entry.name) +
           ", \"errors\": [";
    for (size_t j = 0; j < entry.errors.size(); ++j) {
      const auto& e = entry.errors[j];
      out += std::string(j ? ", " : "") + "{\"position\": " + quoted(e.position.str()) + ", \"subject\": " +
             quoted(e.subject) + ", \"path\": " + quoted(e.path) + ", \"message\": " + quoted(e.message) + "}";
    }
    out += "]}";
  }
  out += entries.empty() ? "]}\n" : "\n]}\n";
  return out;
}

}  // namespace monomesh::galley
