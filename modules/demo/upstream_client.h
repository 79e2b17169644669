// The HTTP/1.1 client (Beast) a bookinfo instance calls its dependencies with: GET only, one
// deadline per attempt covering connect, write and the whole answer, bounded answers, and
// keep-alive connections reused per upstream (a reused connection the peer has closed meanwhile
// is replaced once, within the same deadline).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "demo/app_instance.h"

namespace monomesh::demo {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct UpstreamReply {
  unsigned status = 0;  // 0: no HTTP answer; `error` says why
  std::string body;
  std::string error;    // "timed out after 2500 ms", "connect: Connection refused", ...
  bool ok() const { return status == 200; }
};

class UpstreamClient : public std::enable_shared_from_this<UpstreamClient> {
 public:
  UpstreamClient(boost::asio::io_context& context, size_t max_body_bytes, size_t max_idle_per_upstream = 4);
  ~UpstreamClient();

  // One GET to `upstream` for `target` with the upstream's Host and `headers`, tried up to
  // upstream.attempts times while the answer is not a 200 (bookinfo's productpage retries
  // reviews that way); each attempt has upstream.timeout. The last reply is returned.
  boost::asio::awaitable<UpstreamReply> get(Upstream upstream, std::string target, HeaderList headers);

  // Closes idle and in-flight connections; calls in flight end with an error.
  void close();

  struct Connection;

 private:
  boost::asio::awaitable<UpstreamReply> attempt(Upstream upstream, std::string target, HeaderList headers);
  std::shared_ptr<Connection> takeIdle(const std::string& key);
  void putIdle(const std::string& key, std::shared_ptr<Connection> connection);

  boost::asio::io_context& context_;
  size_t max_body_bytes_;
  size_t max_idle_per_upstream_;
  std::map<std::string, std::vector<std::shared_ptr<Connection>>> idle_;
  std::list<std::weak_ptr<Connection>> live_;  // idle and in use, for close()
  bool closed_ = false;
};

}  // namespace monomesh::demo
