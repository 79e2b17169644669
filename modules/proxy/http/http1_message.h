// HTTP/1 message heads as the proxy keeps them (request line or status line, and a HeaderMap),
// and Beast's parser feeding them: Beast's basic_parser does the parsing and the framing rules
// (Content-Length, chunked, Connection, limits); a head lives as long as its connection and is
// cleared for every message, so parsing a message allocates nothing once the connection has
// seen one. Bodies go into a window the caller provides, as Beast's buffer_body does.
#pragma once
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <string>
#include <type_traits>

#include "proxy/http/header_map.h"

namespace monomesh::proxy {

struct RequestHead {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string method_string;
  std::string target;
  unsigned version = 11;
  HeaderMap fields;
  void clear() noexcept;
};

struct ResponseHead {
  unsigned status = 0;
  std::string reason;  // as the upstream sent it ("" when it sent none)
  unsigned version = 11;
  HeaderMap fields;
  void clear() noexcept;
};

template <bool isRequest>
class Http1Parser final : public boost::beast::http::basic_parser<isRequest> {
 public:
  using Head = std::conditional_t<isRequest, RequestHead, ResponseHead>;

  // Clears `head`, which receives the message's head; it must outlive the parser.
  explicit Http1Parser(Head& head) : head_(head) { head_.clear(); }
  Head& head() noexcept { return head_; }
  const Head& head() const noexcept { return head_; }

  // Body bytes are copied to [data, data + size); once it is full the parser stops with
  // http::error::need_buffer, and a new window continues.
  void bodyWindow(char* data, std::size_t size) noexcept {
    window_ = data;
    left_ = size;
  }
  std::size_t windowLeft() const noexcept { return left_; }

 private:
  using error_code = boost::system::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb method, string_view method_str, string_view target, int version,
                       error_code& ec) override;
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override { ec = {}; }
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code& ec) override { ec = {}; }
  std::size_t on_body_impl(string_view body, error_code& ec) override { return take(body, ec); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code& ec) override { ec = {}; }
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override { return take(body, ec); }
  void on_finish_impl(error_code& ec) override { ec = {}; }
  std::size_t take(string_view body, error_code& ec);

  Head& head_;
  char* window_ = nullptr;
  std::size_t left_ = 0;
};

using RequestParser = Http1Parser<true>;
using ResponseParser = Http1Parser<false>;

}  // namespace monomesh::proxy
