#include "proxy/http/http1_message.h"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstring>

namespace monomesh::proxy {

namespace http = boost::beast::http;

void RequestHead::clear() noexcept {
  method = http::verb::unknown;
  method_string.clear();
  target.clear();
  version = 11;
  fields.clear();
}

void ResponseHead::clear() noexcept {
  status = 0;
  reason.clear();
  version = 11;
  fields.clear();
}

template <bool isRequest>
void Http1Parser<isRequest>::on_request_impl(http::verb method, string_view method_str, string_view target, int version,
                                             error_code& ec) {
  if constexpr (isRequest) {
    head_.method = method;
    head_.method_string.assign(method_str.data(), method_str.size());
    head_.target.assign(target.data(), target.size());
    head_.version = unsigned(version);
  }
  ec = {};
}

template <bool isRequest>
void Http1Parser<isRequest>::on_response_impl(int code, string_view reason, int version, error_code& ec) {
  if constexpr (!isRequest) {
    head_.status = unsigned(code);
    head_.reason.assign(reason.data(), reason.size());
    head_.version = unsigned(version);
  }
  ec = {};
}

template <bool isRequest>
void Http1Parser<isRequest>::on_field_impl(http::field name, string_view name_string, string_view value, error_code& ec) {
  head_.fields.insertParsed(name, std::string_view(name_string.data(), name_string.size()),
                            std::string_view(value.data(), value.size()));
  ec = {};
}

template <bool isRequest>
std::size_t Http1Parser<isRequest>::take(string_view body, error_code& ec) {
  // As Beast's buffer_body: what fits in the window; need_buffer when something is left over.
  if (window_ == nullptr) {
    ec = http::error::need_buffer;
    return 0;
  }
  std::size_t n = std::min(left_, body.size());
  if (n != 0) std::memcpy(window_, body.data(), n);
  window_ += n;
  left_ -= n;
  if (n == body.size())
    ec = {};
  else
    ec = http::error::need_buffer;
  return n;
}

template class Http1Parser<true>;
template class Http1Parser<false>;

}  // namespace monomesh::proxy
