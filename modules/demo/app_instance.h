// What one instance of the bookinfo sample application is: which service and version it plays,
// where it listens, and how it reaches each service it depends on. In `monomesh demo` every
// instance sits behind its own sidecar, so an upstream's address (the sidecar's outbound
// listener) and its Host header (`reviews:9080`, which the sidecar routes by) are set apart.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace monomesh::demo {

// One dependency as this instance calls it.
struct Upstream {
  boost::asio::ip::tcp::endpoint address;  // where to connect
  std::string host;                        // Host header; empty: "<dependency>:9080"
  // Per attempt; 0 means bookinfo's own timeout for this call (bookinfoTimeout below).
  std::chrono::milliseconds timeout{0};
  unsigned attempts = 0;  // 0 means bookinfo's own count (bookinfoAttempts below)
};

struct ServerLimits {
  size_t max_header_bytes = 16 * 1024;  // request line + headers; more is 431
  size_t max_body_bytes = 64 * 1024;    // more is 413
  size_t max_upstream_body_bytes = 1024 * 1024;
  // Reading one request (including the keep-alive wait before it) and writing one answer.
  std::chrono::milliseconds io_timeout{std::chrono::seconds(30)};
  size_t max_connections = 1024;
};

struct AppInstance {
  std::string service;  // productpage, details, reviews or ratings
  std::string version;  // v1; reviews also v2 (black stars) and v3 (red stars)
  std::string name;     // shown in answers ("ratings-v1"); empty: "<service>-<version>"
  boost::asio::ip::tcp::endpoint listen;
  // Keyed by dependency: productpage needs "details" and "reviews" ("ratings" only for
  // /api/v1/products/<id>/ratings); reviews v2 and v3 need "ratings".
  std::map<std::string, Upstream> upstreams;
  ServerLimits limits;

  std::string instanceName() const { return name.empty() ? service + "-" + version : name; }
};

// The timeouts bookinfo hard-codes, which Istio's fault-injection task relies on: productpage
// waits 3 s for details, reviews and ratings and tries reviews twice (so a 7 s delay on ratings
// surfaces after ~6 s); reviews waits 10 s for ratings in v2 (black) and 2.5 s in v3 (red).
std::chrono::milliseconds bookinfoTimeout(const AppInstance& caller, const std::string& dependency);
unsigned bookinfoAttempts(const AppInstance& caller, const std::string& dependency);

// The upstream with bookinfo's defaults filled in (host, timeout, attempts).
Upstream effectiveUpstream(const AppInstance& caller, const std::string& dependency);

// The keys of AppInstance::upstreams an instance must have (productpage: details, reviews;
// reviews v2/v3: ratings) and may have (productpage: ratings, for /api/v1/products/<id>/ratings).
std::vector<std::string> requiredDependencies(const AppInstance& instance);
std::vector<std::string> optionalDependencies(const AppInstance& instance);

// Empty when the instance can run; otherwise what is wrong, naming the field.
std::string validateInstance(const AppInstance& instance);

}  // namespace monomesh::demo
