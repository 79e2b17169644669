#include "proxy/config/san_matchers.h"

#include <cctype>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "proxy/http/string_matcher.h"

namespace monomesh::proxy {
namespace {

namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;

struct SanRule {
  bool uri = true;  // which SANs of the peer the rule looks at
  bool dns = true;
  StringMatch match;
};

std::string lowercase(std::string_view in) {
  std::string out(in);
  for (char& ch : out) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// Envoy's DNS SAN rule for exact matchers: a certificate's "*.example.com" covers exactly one
// leftmost label ("a.example.com", not "example.com" or "a.b.example.com"); names are
// case-insensitive.
bool dnsSanMatches(const StringMatch& m, std::string_view san) {
  if (m.kind() != StringMatch::Kind::Exact) return m.matches(san);
  std::string name = lowercase(m.value()), pattern = lowercase(san);
  if (name == pattern) return true;
  if (!pattern.starts_with("*.") || name.size() <= pattern.size() - 1) return false;
  size_t label_end = name.size() - (pattern.size() - 1);
  return name.compare(label_end, std::string::npos, pattern, 1) == 0 && name.find('.') >= label_end;
}

StringMatch compileMatcher(const envoy::type::matcher::v3::StringMatcher& m, const std::string& field) {
  try {
    return StringMatch::fromProto(m);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(field + ": " + e.what());
  }
}

SanRule compileTyped(const tlsv3::SubjectAltNameMatcher& m, const std::string& field) {
  using M = tlsv3::SubjectAltNameMatcher;
  if (m.san_type() == M::SAN_TYPE_UNSPECIFIED) throw std::invalid_argument(field + ".san_type: required (URI or DNS)");
  if (m.san_type() != M::URI && m.san_type() != M::DNS)
    throw std::invalid_argument(field + ".san_type: " + M::SanType_Name(m.san_type()) +
                                " is not supported (URI and DNS are)");
  if (!m.has_matcher()) throw std::invalid_argument(field + ".matcher: required");
  return {m.san_type() == M::URI, m.san_type() == M::DNS, compileMatcher(m.matcher(), field + ".matcher")};
}

}  // namespace

PeerCheck compileSanMatchers(const tlsv3::CertificateValidationContext& v, const std::string& field) {
  if (v.match_typed_subject_alt_names_size() > 0 && v.match_subject_alt_names_size() > 0)
    throw std::invalid_argument(field + ": use either match_typed_subject_alt_names or match_subject_alt_names, not both");
  auto rules = std::make_shared<std::vector<SanRule>>();
  for (int i = 0; i < v.match_typed_subject_alt_names_size(); ++i)
    rules->push_back(compileTyped(v.match_typed_subject_alt_names(i),
                                  field + ".match_typed_subject_alt_names[" + std::to_string(i) + "]"));
  // The older list matches any SAN type; the ones we read are URI and DNS (peerIdentityOf).
  for (int i = 0; i < v.match_subject_alt_names_size(); ++i)
    rules->push_back({true, true, compileMatcher(v.match_subject_alt_names(i),
                                                 field + ".match_subject_alt_names[" + std::to_string(i) + "]")});
  if (rules->empty()) return {};
  return [rules = std::shared_ptr<const std::vector<SanRule>>(std::move(rules))](const net::tls::PeerIdentity& peer) {
    for (const SanRule& rule : *rules) {
      if (rule.uri)
        for (const auto& san : peer.uri_sans)
          if (rule.match.matches(san)) return true;
      if (rule.dns)
        for (const auto& san : peer.dns_sans)
          if (dnsSanMatches(rule.match, san)) return true;
    }
    return false;
  };
}

}  // namespace monomesh::proxy
