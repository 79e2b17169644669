#include "proxy/http/h2_header_list.h"

#include <array>

#include "proxy/http/request_support.h"

namespace monomesh::proxy {

namespace http = boost::beast::http;

namespace {

constexpr std::size_t kFields = static_cast<std::size_t>(http::field::xref) + 1;

// ASCII only, as header names are (std::tolower is a call per character and asks the locale).
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

}  // namespace

std::string_view lowerCaseName(http::field id) {
  static const std::array<std::string, kFields> names = [] {
    std::array<std::string, kFields> table;
    for (std::size_t i = 1; i < kFields; ++i) {
      std::string_view canonical = http::to_string(static_cast<http::field>(i));
      table[i].reserve(canonical.size());
      for (char c : canonical) table[i].push_back(lower(c));
    }
    return table;
  }();
  auto i = static_cast<std::size_t>(id);
  return i < kFields ? std::string_view(names[i]) : std::string_view();
}

void H2HeaderList::clear() noexcept {
  refs_.clear();
  names_.clear();
  pending_.clear();
}

void H2HeaderList::add(const HeaderMap::Field& field) {
  if (field.name() != http::field::unknown) {
    refs_.push_back({lowerCaseName(field.name()), field.value()});
    return;
  }
  std::size_t at = names_.size();
  pending_.emplace_back(refs_.size(), at);
  names_.append(field.name_string());
  for (std::size_t i = at; i < names_.size(); ++i) names_[i] = lower(names_[i]);
  refs_.push_back({std::string_view(), field.value()});
}

void http2RequestHeaders(H2HeaderList& out, std::string_view method, bool tls, std::string_view path,
                         const HeaderMap& fields, bool keep_te) {
  out.clear();
  out.add(":method", method);
  out.add(":scheme", tls ? "https" : "http");
  out.add(":authority", fields[http::field::host]);
  out.add(":path", path);
  for (const auto& f : fields) {
    if (f.name() == http::field::host || (isHopByHop(f.name()) && !(keep_te && f.name() == http::field::te))) continue;
    out.add(f);
  }
}

std::span<const net::h2::HeaderRef> H2HeaderList::refs() {
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    auto [entry, offset] = pending_[i];
    std::size_t end = i + 1 < pending_.size() ? pending_[i + 1].second : names_.size();
    refs_[entry].name = std::string_view(names_.data() + offset, end - offset);
  }
  return refs_;
}

}  // namespace monomesh::proxy
