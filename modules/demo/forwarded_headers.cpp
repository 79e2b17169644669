#include "demo/forwarded_headers.h"

#include <cctype>

namespace monomesh::demo {

namespace http = boost::beast::http;

HeaderList tracingHeaders(const Request& request) {
  HeaderList out;
  for (std::string_view name : kTracingHeaders) {
    auto it = request.find(name);
    if (it != request.end()) out.emplace_back(std::string(name), std::string(it->value()));
  }
  return out;
}

bool validUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' && c != '@') return false;
  return true;
}

std::string userFromCookie(const Request& request) {
  auto [begin, end] = request.equal_range(http::field::cookie);
  for (auto it = begin; it != end; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (pair.substr(0, 5) == "user=" && validUserName(pair.substr(5))) return std::string(pair.substr(5));
    }
  }
  return {};
}

std::string endUser(const Request& request) {
  auto it = request.find("end-user");
  if (it != request.end() && validUserName(it->value())) return std::string(it->value());
  return userFromCookie(request);
}

void addEndUser(HeaderList& headers, const std::string& user) {
  if (user.empty()) return;
  headers.emplace_back("end-user", user);
  headers.emplace_back("cookie", "user=" + user);
}

}  // namespace monomesh::demo
