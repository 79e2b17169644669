// HeaderMap (flat header fields) and the HTTP/1 heads Beast's parser fills through Http1Parser.
#include <boost/beast/http/error.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "proxy/http/header_map.h"
#include "proxy/http/http1_message.h"
#include "proxy/http/http1_writer.h"

using namespace monomesh::proxy;
namespace http = boost::beast::http;

namespace {

std::vector<std::string> names(const HeaderMap& m) {
  std::vector<std::string> out;
  for (const auto& f : m) out.emplace_back(f.name_string());
  return out;
}

std::vector<std::string> valuesOf(const HeaderMap& m, std::string_view name) {
  std::vector<std::string> out;
  m.forEach(name, [&out](std::string_view v) { out.emplace_back(v); });
  return out;
}

// Feeds `bytes` to a parser in one piece; returns the error put() left.
template <bool isRequest>
boost::system::error_code feed(Http1Parser<isRequest>& parser, std::string_view bytes, size_t* used = nullptr) {
  boost::system::error_code ec;
  size_t n = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (used) *used = n;
  return ec;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(header_map)

BOOST_AUTO_TEST_CASE(keeps_insertion_order_and_finds_by_id_or_name_without_case) {
  HeaderMap m;
  m.insert("Host", "a.example");
  m.insert("X-Custom", "1");
  m.insert(http::field::content_type, "text/plain");
  m.insert("x-custom", "2");
  BOOST_TEST((names(m) == std::vector<std::string>{"Host", "X-Custom", "Content-Type", "x-custom"}));
  BOOST_TEST(m.find(http::field::host)->value() == "a.example");
  BOOST_TEST(m.find("HOST")->name() == http::field::host);  // a known name gets its id
  BOOST_TEST(m["content-type"] == "text/plain");
  BOOST_TEST(m["missing"] == "");
  BOOST_TEST(m.count("X-CUSTOM") == 2u);
  BOOST_TEST((valuesOf(m, "x-custom") == std::vector<std::string>{"1", "2"}));
  HeaderName custom("x-custom");
  BOOST_TEST(m.find(custom)->value() == "1");
}

BOOST_AUTO_TEST_CASE(set_replaces_every_field_of_a_name_and_erase_removes_them) {
  HeaderMap m;
  m.insert("a", "1");
  m.insert("b", "2");
  m.insert("A", "3");
  m.set("a", "4");
  BOOST_TEST((names(m) == std::vector<std::string>{"b", "a"}));
  BOOST_TEST(m["a"] == "4");
  BOOST_TEST(m.erase("B") == 1u);
  BOOST_TEST(m.erase("b") == 0u);
  auto next = m.erase(m.begin());
  BOOST_TEST((next == m.end()));
  BOOST_TEST(m.empty());
}

BOOST_AUTO_TEST_CASE(copies_are_independent_and_a_moved_from_map_is_empty_and_usable) {
  HeaderMap m;
  m.insert("k", std::string(3000, 'v'));  // beyond the first block
  m.insert("short", "s");
  HeaderMap copy = m;
  m.set("short", "changed");
  m.clear();
  m.insert("other", "o");
  BOOST_TEST(copy["short"] == "s");
  BOOST_TEST(copy["k"] == std::string(3000, 'v'));
  HeaderMap moved = std::move(copy);
  BOOST_TEST(moved["short"] == "s");
  BOOST_TEST(copy.empty());  // NOLINT: moved from on purpose
  copy.insert("again", "a");
  BOOST_TEST(copy["again"] == "a");
  BOOST_TEST(moved["k"] == std::string(3000, 'v'));
  BOOST_TEST(m["other"] == "o");
}

BOOST_AUTO_TEST_CASE(values_stay_valid_while_the_map_grows_and_after_their_field_is_erased) {
  HeaderMap m;
  m.insert("first", "value-one");
  std::string_view first = m["first"];
  for (int i = 0; i < 200; ++i) m.insert("h" + std::to_string(i), std::string(50, char('a' + i % 26)));
  m.erase("first");
  BOOST_TEST(first == "value-one");
  BOOST_TEST(m.size() == 200u);
  BOOST_TEST(m["h199"] == std::string(50, char('a' + 199 % 26)));
}

BOOST_AUTO_TEST_CASE(clear_reuses_the_memory_for_the_next_message) {
  HeaderMap m;
  for (int round = 0; round < 3; ++round) {
    m.clear();
    for (int i = 0; i < 40; ++i) m.insert("name-" + std::to_string(i), "round " + std::to_string(round));
    BOOST_TEST(m.size() == 40u);
    BOOST_TEST(m["name-39"] == "round " + std::to_string(round));
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http1_message)

BOOST_AUTO_TEST_CASE(request_head_and_body_through_a_window) {
  RequestHead head;
  RequestParser parser(head);
  std::string body(25, 'b');
  std::string bytes = "POST /up?x=1 HTTP/1.1\r\nHost: h\r\nX-Long:   spaced value  \r\nContent-Length: 25\r\n\r\n" + body;
  size_t used = 0;
  BOOST_TEST(!feed(parser, bytes, &used));
  BOOST_TEST(parser.is_header_done());
  BOOST_TEST((head.method == http::verb::post));
  BOOST_TEST(head.method_string == "POST");
  BOOST_TEST(head.target == "/up?x=1");
  BOOST_TEST(head.version == 11u);
  BOOST_TEST(head.fields["x-long"] == "spaced value");
  BOOST_TEST(*parser.content_length() == 25u);
  // The body, 10 bytes of window at a time: need_buffer until it is all there.
  std::string got;
  std::string_view rest(bytes.data() + used, bytes.size() - used);
  char window[10];
  while (!parser.is_done()) {
    parser.bodyWindow(window, sizeof(window));
    size_t n = 0;
    auto ec = feed(parser, rest, &n);
    BOOST_TEST((!ec || ec == http::error::need_buffer));
    got.append(window, sizeof(window) - parser.windowLeft());
    rest.remove_prefix(n);
  }
  BOOST_TEST(got == body);
}

BOOST_AUTO_TEST_CASE(folded_and_unspaced_values_arrive_as_beast_reads_them) {
  RequestHead head;
  RequestParser parser(head);
  BOOST_TEST(!feed(parser, "GET / HTTP/1.1\r\nHost:h\r\nX-Fold: first\r\n  second\r\nX-Empty:\r\n\r\n"));
  BOOST_TEST(head.fields["host"] == "h");
  BOOST_TEST(head.fields["x-fold"] == "first second");
  BOOST_TEST(head.fields.count("x-empty") == 1u);
  BOOST_TEST(head.fields["x-empty"] == "");
}

BOOST_AUTO_TEST_CASE(a_new_parser_clears_the_head_it_fills) {
  RequestHead head;
  {
    RequestParser first(head);
    BOOST_TEST(!feed(first, "GET /a HTTP/1.1\r\nHost: a\r\nX-Only-First: 1\r\n\r\n"));
  }
  RequestParser second(head);
  BOOST_TEST(!feed(second, "GET /b HTTP/1.0\r\nHost: b\r\n\r\n"));
  BOOST_TEST(head.target == "/b");
  BOOST_TEST(head.version == 10u);
  BOOST_TEST(head.fields.size() == 1u);
  BOOST_TEST(head.fields["host"] == "b");
}

BOOST_AUTO_TEST_CASE(chunked_response_body_and_its_head_written_back) {
  ResponseHead head;
  ResponseParser parser(head);
  std::string bytes = "HTTP/1.1 201 Made\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  char window[64];
  parser.bodyWindow(window, sizeof(window));
  std::string_view rest = bytes;
  while (!parser.is_done() && !rest.empty()) {
    size_t n = 0;
    auto ec = feed(parser, rest, &n);
    BOOST_TEST(!ec);
    rest.remove_prefix(n);
  }
  BOOST_TEST(parser.is_done());
  BOOST_TEST(parser.chunked());
  BOOST_TEST(std::string(window, sizeof(window) - parser.windowLeft()) == "hello");
  BOOST_TEST(head.status == 201u);
  BOOST_TEST(head.reason == "Made");
  std::string out;
  appendResponseHead(head, out);
  BOOST_TEST(out == "HTTP/1.1 201 Made\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(request_head_written_back_with_changes) {
  RequestHead head;
  RequestParser parser(head);
  BOOST_TEST(!feed(parser, "GET /old HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  head.target = "/new";
  head.fields.erase(http::field::connection);
  head.fields.insert("x-request-id", "id");
  std::string out;
  appendRequestHead(head, out);
  BOOST_TEST(out == "GET /new HTTP/1.1\r\nHost: h\r\nx-request-id: id\r\n\r\n");
}

BOOST_AUTO_TEST_SUITE_END()
