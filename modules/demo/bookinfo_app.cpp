#include "demo/bookinfo_app.h"

#include "demo/http_server.h"
#include "demo/services.h"
#include "demo/upstream_client.h"
#include "observe/log.h"

namespace monomesh::demo {

namespace {
std::string endpointText(const boost::asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}
}  // namespace

BookinfoApp::BookinfoApp(boost::asio::io_context& context, AppInstance instance)
    : context_(context), instance_(std::move(instance)) {}

BookinfoApp::~BookinfoApp() { stop(); }

std::string BookinfoApp::start() {
  if (server_) return {};
  const std::string name = instance_.instanceName();
  if (std::string error = validateInstance(instance_); !error.empty()) return name + ": " + error;
  client_ = std::make_shared<UpstreamClient>(context_, instance_.limits.max_upstream_body_bytes);
  auto server = std::make_unique<HttpServer>(context_, makeService(instance_, client_), instance_.limits);
  if (auto ec = server->listen(instance_.listen)) {
    client_->close();
    client_.reset();
    return name + ": listen " + endpointText(instance_.listen) + ": " + ec.message();
  }
  server_ = std::move(server);
  observe::logScope("demo").info("{} listening on {}", name, endpointText(server_->localEndpoint()));
  return {};
}

void BookinfoApp::stop() {
  if (server_) server_->close();
  if (client_) client_->close();
  server_.reset();
  client_.reset();
}

boost::asio::ip::tcp::endpoint BookinfoApp::localEndpoint() const {
  return server_ ? server_->localEndpoint() : boost::asio::ip::tcp::endpoint{};
}

}  // namespace monomesh::demo
