// One instance of the bookinfo sample application (productpage, details, reviews v1/v2/v3 or
// ratings) as a library: `monomesh demo` starts one per workload, each on the shared runtime's
// io_context and behind its own sidecar. Nothing here blocks; start() and stop() run on the
// context's thread (or before it runs), and the context must be run by one thread at a time.
//
//   AppInstance reviews{.service = "reviews", .version = "v2", .listen = {loopback, 9081}};
//   reviews.upstreams["ratings"] = {.address = sidecar_outbound, .host = "ratings:9080"};
//   BookinfoApp app(runtime.main(), reviews);
//   if (auto error = app.start(); !error.empty()) fail(error);
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "demo/app_instance.h"

namespace monomesh::demo {

class HttpServer;
class UpstreamClient;

class BookinfoApp {
 public:
  BookinfoApp(boost::asio::io_context& context, AppInstance instance);
  ~BookinfoApp();
  BookinfoApp(const BookinfoApp&) = delete;
  BookinfoApp& operator=(const BookinfoApp&) = delete;

  // Validates the instance and starts listening. Empty on success; otherwise one line naming
  // the instance and what failed ("reviews-v2: upstreams.ratings: ...", "... listen ...: Address
  // already in use"). Calling it again while running does nothing; after stop() it starts anew.
  std::string start();
  // Stops listening and closes every connection, inbound and outbound. Idempotent.
  void stop();

  // The bound address (the real port when instance.listen had port 0); empty when stopped.
  boost::asio::ip::tcp::endpoint localEndpoint() const;
  const AppInstance& instance() const { return instance_; }

 private:
  boost::asio::io_context& context_;
  AppInstance instance_;
  std::shared_ptr<UpstreamClient> client_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace monomesh::demo
