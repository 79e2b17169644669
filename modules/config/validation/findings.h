// What validating one resource found: errors (the resource is rejected) and notes (it is
// accepted, with something the user should know, e.g. a deprecated kind). Each names the
// field path and the rule; the resource's name and source position are added by the caller.
#pragma once
#include <string>
#include <string_view>

#include "config/source_position.h"
#include "config/validation/field_path.h"

namespace monomesh::config::validation {

// "text" with its quotes, for messages that name a value.
inline std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

struct ValidationResult {
  ConfigErrors errors;
  ConfigErrors notes;
  bool ok() const { return errors.empty(); }
};

class Findings {
 public:
  void error(const FieldPath& at, std::string message) { add(result_.errors, at, std::move(message)); }
  void note(const FieldPath& at, std::string message) { add(result_.notes, at, std::move(message)); }
  // Reports `problem` as an error when it is not empty (helpers return "" for valid input).
  void check(const FieldPath& at, std::string problem) {
    if (!problem.empty()) error(at, std::move(problem));
  }

  size_t errorCount() const { return result_.errors.size(); }
  ValidationResult take() { return std::move(result_); }

 private:
  static void add(ConfigErrors& to, const FieldPath& at, std::string message) {
    to.push_back(ConfigError{SourcePosition{}, "", at.str(), std::move(message)});
  }
  ValidationResult result_;
};

}  // namespace monomesh::config::validation
