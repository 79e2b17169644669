// H2HeaderList (HTTP/2 header blocks by reference) and http2RequestHeaders.
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

#include "proxy/http/h2_header_list.h"

using namespace monomesh::proxy;
namespace http = boost::beast::http;

namespace {

std::vector<std::pair<std::string, std::string>> pairs(H2HeaderList& list) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& h : list.refs()) out.emplace_back(h.name, h.value);
  return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

}  // namespace

BOOST_AUTO_TEST_SUITE(h2_header_list)

BOOST_AUTO_TEST_CASE(names_are_lower_case_known_or_not) {
  HeaderMap fields;
  fields.insert("Content-Type", "text/plain");
  fields.insert("X-Custom-Thing", "Value Kept");
  fields.insert(http::field::cache_control, "no-cache");
  H2HeaderList list;
  list.add(":status", "200");
  for (const auto& f : fields) list.add(f);
  BOOST_TEST((pairs(list) == Pairs{{":status", "200"},
                                   {"content-type", "text/plain"},
                                   {"x-custom-thing", "Value Kept"},
                                   {"cache-control", "no-cache"}}));
  BOOST_TEST(lowerCaseName(http::field::content_length) == "content-length");
  BOOST_TEST(lowerCaseName(http::field::unknown) == "");
}

BOOST_AUTO_TEST_CASE(views_stay_valid_while_the_name_buffer_grows) {
  // Many unknown names: the buffer they are lower-cased into grows (and moves) meanwhile.
  HeaderMap fields;
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) names.push_back("X-Header-Number-" + std::to_string(i));
  for (const auto& n : names) fields.insert(n, "v");
  H2HeaderList list;
  for (const auto& f : fields) list.add(f);
  auto refs = list.refs();
  BOOST_TEST_REQUIRE(refs.size() == 200u);
  for (int i = 0; i < 200; ++i) BOOST_TEST(refs[i].name == "x-header-number-" + std::to_string(i));
  // Cleared and reused: the same block again, from the kept memory.
  list.clear();
  BOOST_TEST(list.size() == 0u);
  for (const auto& f : fields) list.add(f);
  BOOST_TEST(list.refs()[199].name == "x-header-number-199");
}

BOOST_AUTO_TEST_CASE(request_headers_for_an_http2_upstream) {
  HeaderMap fields;
  fields.insert(http::field::host, "example.com");
  fields.insert("User-Agent", "curl/8");
  fields.insert("Connection", "keep-alive");
  fields.insert("Transfer-Encoding", "chunked");
  fields.insert("TE", "trailers");
  fields.insert("content-type", "application/grpc");
  H2HeaderList list;
  http2RequestHeaders(list, "POST", true, "/pkg.Svc/Call", fields, /*keep_te=*/true);
  BOOST_TEST((pairs(list) == Pairs{{":method", "POST"},
                                   {":scheme", "https"},
                                   {":authority", "example.com"},
                                   {":path", "/pkg.Svc/Call"},
                                   {"user-agent", "curl/8"},
                                   {"te", "trailers"},
                                   {"content-type", "application/grpc"}}));
  // From an HTTP/1.1 client, TE concerned only its own hop.
  http2RequestHeaders(list, "GET", false, "/", fields, /*keep_te=*/false);
  BOOST_TEST((pairs(list) == Pairs{{":method", "GET"},
                                   {":scheme", "http"},
                                   {":authority", "example.com"},
                                   {":path", "/"},
                                   {"user-agent", "curl/8"},
                                   {"content-type", "application/grpc"}}));
}

BOOST_AUTO_TEST_SUITE_END()
