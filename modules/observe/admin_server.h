// The admin HTTP/1.1 server (Beast) that every role mounts its handlers on: health, metrics,
// version, logging, and later each role's debug pages. It runs on the main control context;
// it is not on the data path. Handlers that change state require POST, as Envoy's admin does.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace monomesh::observe {

struct AdminRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;  // percent-decoded
  std::string body;
};

struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using AdminHandler = std::function<AdminResponse(const AdminRequest&)>;

struct AdminLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::chrono::seconds io_timeout{30};
  size_t max_connections = 256;
};

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& context, AdminLimits limits = {});
  ~AdminServer();

  // `mutating` handlers answer 405 to anything but POST.
  void handle(const std::string& path, const std::string& help, AdminHandler handler,
              bool mutating = false);

  boost::system::error_code listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint localEndpoint() const;

  // Stops accepting and closes open connections.
  void close();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// "127.0.0.1:15000", ":15014" (all interfaces), "[::1]:80", "localhost:8080".
std::optional<boost::asio::ip::tcp::endpoint> parseListenAddress(const std::string& text,
                                                                std::string* error = nullptr);

}  // namespace monomesh::observe
