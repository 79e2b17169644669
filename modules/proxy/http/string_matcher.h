// Envoy's string matching (StringMatcher, HeaderMatcher's specifiers, safe_regex), compiled once
// per config load. Regexes use RE2, as Envoy's safe_regex does: linear time on any input.
#pragma once
#include <memory>
#include <re2/re2.h>
#include <string>
#include <string_view>

#include "envoy/type/matcher/v3/regex.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"

namespace monomesh::proxy {

class StringMatch {
 public:
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex, Any };

  StringMatch() = default;
  StringMatch(Kind kind, std::string value, bool ignore_case = false);

  // Throws std::invalid_argument with the reason (e.g. RE2's error) for a bad pattern.
  static StringMatch fromProto(const envoy::type::matcher::v3::StringMatcher& m);
  static StringMatch regex(const envoy::type::matcher::v3::RegexMatcher& m);
  static StringMatch regex(const std::string& pattern);

  bool matches(std::string_view value) const;
  Kind kind() const { return kind_; }
  const std::string& value() const { return value_; }

 private:
  Kind kind_ = Kind::Any;
  std::string value_;
  bool ignore_case_ = false;
  std::shared_ptr<const re2::RE2> re_;
};

// Compiles a regex or throws std::invalid_argument naming RE2's complaint.
std::shared_ptr<const re2::RE2> compileRegex(const std::string& pattern);

}  // namespace monomesh::proxy
