// Envoy's config_source.path: a file holding one DiscoveryResponse (YAML or JSON) whose resources
// are the whole set of one xDS type, followed by watching the file. Envoy reacts when a new file is
// moved into place; here the file's identity (inode, size, modification time) is polled, which
// sees such a move and also an in-place rewrite. Each new content is parsed and handed to the same
// apply function an ADS response would reach; a file that cannot be read or parsed, or that the
// apply function rejects, is logged and counted, and what is in force stays. Use from the
// io_context's thread; stop (or destroy) it before the io_context goes.
#pragma once
#include <google/protobuf/any.pb.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "observe/stats_store.h"

namespace monomesh::proxy {

class PathSubscription {
 public:
  // nullopt accepts the resources; an error message rejects them (as an ADS NACK would).
  using Apply = std::function<std::optional<std::string>(const std::string& version,
                                                         const std::vector<google::protobuf::Any>& resources)>;

  // `type_url`: every resource must be of it. `rejected`: counted for a file that is unusable.
  PathSubscription(boost::asio::io_context& context, std::string path, std::string type_url, Apply apply,
                   observe::Counter& rejected, std::chrono::milliseconds interval = std::chrono::milliseconds(250));
  ~PathSubscription();
  PathSubscription(const PathSubscription&) = delete;
  PathSubscription& operator=(const PathSubscription&) = delete;

  // Reads and applies the file once, then follows it. As in Envoy the file must be there and
  // usable at start: the error otherwise.
  std::string start();
  void stop();

  // Reads `path` into resources of `type_url` (at most 32 MiB): "" or why not.
  static std::string read(const std::string& path, const std::string& type_url, std::string& version,
                          std::vector<google::protobuf::Any>& resources);

 private:
  // "" when the file could not be examined.
  std::string identity() const;
  // Reads and applies the file: "" or why not.
  std::string load();
  void poll();

  boost::asio::io_context& context_;
  std::string path_, type_url_;
  Apply apply_;
  observe::Counter& rejected_;
  std::chrono::milliseconds interval_;
  std::string seen_;  // identity of the file last read
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace monomesh::proxy
