#include "proxy/http/string_matcher.h"

#include <stdexcept>

namespace monomesh::proxy {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

std::shared_ptr<const re2::RE2> compileRegex(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, options);
  if (!re->ok()) throw std::invalid_argument("invalid regex \"" + pattern + "\": " + re->error());
  return re;
}

StringMatch::StringMatch(Kind kind, std::string value, bool ignore_case)
    : kind_(kind), value_(std::move(value)), ignore_case_(ignore_case) {
  if (kind_ == Kind::Regex) re_ = compileRegex(value_);
}

StringMatch StringMatch::fromProto(const envoy::type::matcher::v3::StringMatcher& m) {
  using P = envoy::type::matcher::v3::StringMatcher;
  switch (m.match_pattern_case()) {
    case P::kExact: return StringMatch(Kind::Exact, m.exact(), m.ignore_case());
    case P::kPrefix: return StringMatch(Kind::Prefix, m.prefix(), m.ignore_case());
    case P::kSuffix: return StringMatch(Kind::Suffix, m.suffix(), m.ignore_case());
    case P::kContains: return StringMatch(Kind::Contains, m.contains(), m.ignore_case());
    case P::kSafeRegex: return regex(m.safe_regex());
    default: throw std::invalid_argument("string matcher needs one of exact, prefix, suffix, contains, safe_regex");
  }
}

StringMatch StringMatch::regex(const envoy::type::matcher::v3::RegexMatcher& m) { return regex(m.regex()); }

StringMatch StringMatch::regex(const std::string& pattern) { return StringMatch(Kind::Regex, pattern); }

bool StringMatch::matches(std::string_view v) const {
  switch (kind_) {
    case Kind::Any: return true;
    case Kind::Exact: return ignore_case_ ? equalsIgnoreCase(v, value_) : v == value_;
    case Kind::Prefix:
      return v.size() >= value_.size() &&
             (ignore_case_ ? equalsIgnoreCase(v.substr(0, value_.size()), value_) : v.starts_with(value_));
    case Kind::Suffix:
      return v.size() >= value_.size() &&
             (ignore_case_ ? equalsIgnoreCase(v.substr(v.size() - value_.size()), value_) : v.ends_with(value_));
    case Kind::Contains: {
      if (!ignore_case_) return v.find(value_) != std::string_view::npos;
      for (size_t i = 0; i + value_.size() <= v.size(); ++i)
        if (equalsIgnoreCase(v.substr(i, value_.size()), value_)) return true;
      return false;
    }
    case Kind::Regex: return re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re_);
  }
  return false;
}

}  // namespace monomesh::proxy
