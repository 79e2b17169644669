// A blocking HTTP/1.1 client for the demo tests, on its own io_context so it never shares a
// thread with the servers under test; every exchange has a deadline.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace monomesh::demo::test {

struct ClientResult {
  std::string error;  // empty when an answer came
  boost::beast::http::response<boost::beast::http::string_body> response;
  unsigned status() const { return error.empty() ? response.result_int() : 0; }  // 0: no answer
  const std::string& body() const { return response.body(); }
  std::string header(const std::string& name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

ClientResult httpGet(const boost::asio::ip::tcp::endpoint& to, const std::string& target, const Headers& headers = {},
                     std::chrono::seconds deadline = std::chrono::seconds(30));
ClientResult httpSend(const boost::asio::ip::tcp::endpoint& to,
                      boost::beast::http::request<boost::beast::http::string_body> request,
                      std::chrono::seconds deadline = std::chrono::seconds(30));

// Writes `bytes` as they are and returns everything read until the server closes (or the
// deadline passes).
std::string rawExchange(const boost::asio::ip::tcp::endpoint& to, const std::string& bytes,
                        std::chrono::seconds deadline = std::chrono::seconds(10));

}  // namespace monomesh::demo::test
