#include "tools/debug_fetch.h"

#include <google/protobuf/util/json_util.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "observe/admin_server.h"

namespace monomesh::tools {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr auto kTimeout = std::chrono::seconds(10);
constexpr size_t kMaxBody = 256u << 20;  // a large mesh's config dump
}  // namespace

std::optional<std::string> httpGet(const std::string& address, const std::string& path, std::string& error) {
  auto endpoint = observe::parseListenAddress(address, &error);
  if (!endpoint) {
    error = "\"" + address + "\" is not an address (" + error + ")";
    return std::nullopt;
  }
  if (endpoint->address().is_unspecified()) endpoint->address(asio::ip::address_v4::loopback());
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBody);
  beast::flat_buffer buffer;
  http::request<http::empty_body> request{http::verb::get, path, 11};
  request.set(http::field::host, address);
  request.set(http::field::connection, "close");
  beast::error_code result;
  stream.expires_after(kTimeout);
  stream.async_connect(*endpoint, [&](beast::error_code ec) {
    if (ec) {
      result = ec;
      error = "cannot connect to " + address + ": " + ec.message();
      return;
    }
    http::async_write(stream, request, [&](beast::error_code ec2, size_t) {
      if (ec2) {
        result = ec2;
        error = "cannot send to " + address + ": " + ec2.message();
        return;
      }
      http::async_read(stream, buffer, parser, [&](beast::error_code ec3, size_t) {
        if (ec3) {
          result = ec3;
          error = "no answer from " + address + path + ": " + ec3.message();
        }
      });
    });
  });
  io.run();
  if (result) return std::nullopt;
  auto& response = parser.get();
  if (response.result_int() != 200) {
    error = "http://" + address + path + " answered " + std::to_string(response.result_int()) + ": " + response.body();
    while (!error.empty() && error.back() == '\n') error.pop_back();
    return std::nullopt;
  }
  return std::move(response.body());
}

std::optional<google::protobuf::Value> fetchJson(const std::string& address, const std::string& path, std::string& error) {
  auto body = httpGet(address, path, error);
  if (!body) return std::nullopt;
  google::protobuf::Value value;
  auto status = google::protobuf::util::JsonStringToMessage(*body, &value);
  if (!status.ok()) {
    error = "http://" + address + path + " did not answer JSON: " + std::string(status.message());
    return std::nullopt;
  }
  return value;
}

const google::protobuf::Value& member(const google::protobuf::Value& object, const std::string& name) {
  static const google::protobuf::Value kEmpty;
  if (!object.has_struct_value()) return kEmpty;
  auto it = object.struct_value().fields().find(name);
  return it == object.struct_value().fields().end() ? kEmpty : it->second;
}

std::string text(const google::protobuf::Value& v) {
  if (v.has_string_value()) return v.string_value();
  if (v.kind_case() == google::protobuf::Value::kNumberValue) {
    auto n = v.number_value();
    return n == double(int64_t(n)) ? std::to_string(int64_t(n)) : std::to_string(n);
  }
  if (v.kind_case() == google::protobuf::Value::kBoolValue) return v.bool_value() ? "true" : "false";
  return {};
}

}  // namespace monomesh::tools
