// The HTTP/1.1 server (Beast) each bookinfo instance answers on. It runs on the io_context it is
// given and never blocks: every connection is a coroutine with a deadline on each read and
// write; requests are bounded (header 431, body 413, malformed 400) and the connection closes
// after such an answer. The answer itself comes from a RequestHandler, which may await upstream
// calls.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "demo/app_instance.h"

namespace monomesh::demo {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Called on the server's io_context; the server sets keep-alive, version and framing.
  virtual boost::asio::awaitable<Response> handle(Request request) = 0;
};

// A response with the given status, content type and body.
Response makeResponse(unsigned status, std::string_view content_type, std::string body);
Response jsonResponse(unsigned status, std::string body);
// The path of a request target, without the query string.
std::string_view targetPath(std::string_view target);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& context, std::shared_ptr<RequestHandler> handler, ServerLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  boost::system::error_code listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint localEndpoint() const;
  // Stops accepting and closes every open connection; requests in flight end without answer.
  void close();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace monomesh::demo
