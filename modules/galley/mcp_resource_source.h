// What Galley distributes: the ResourceSource behind its ADS server. For each distributed kind
// (subscribed by the URL config/mcp/mcp_resource.h names) it serves every resource of that kind
// in the store, each in MCP's envelope, as one state-of-the-world set whose version is a hash of
// the content, so the version changes only when the content does. Store changes mark their kinds;
// after a quiet period (or a cap) only those kinds are re-packed and pushed. Nothing is served
// until the sources have synced (setServing), so a Pilot never sees a half-read config.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/store.h"
#include "net/xds/ads_server.h"

namespace monomesh::galley {

struct McpResourceSourceOptions {
  std::vector<const config::Schema*> kinds;  // empty: config::mcp::distributedKinds()
  std::chrono::milliseconds debounce_quiet{100};
  std::chrono::milliseconds debounce_cap{1000};
};

class McpResourceSource final : public net::xds::ResourceSource {
 public:
  McpResourceSource(boost::asio::io_context& context, config::Store& store, McpResourceSourceOptions options = {});
  ~McpResourceSource() override;

  // Packs every kind and follows the store; pushes go to `ads` (may be null in tests).
  void start(net::xds::AdsServer* ads);
  void stop();
  // Serving starts (and every stream is pushed) once the sources are synced.
  void setServing(bool serving);
  bool serving() const { return serving_; }

  std::optional<net::xds::Resources> resources(const envoy::config::core::v3::Node& node, std::string_view type_url,
                                               const std::vector<std::string>& names) override;

  // The kind's packed set as served now (for tests and debug); null for kinds not distributed.
  const net::xds::Resources* kindResources(const config::Schema& kind) const;
  const std::vector<const config::Schema*>& kinds() const { return options_.kinds; }
  uint64_t repacks() const { return repacks_; }

 private:
  void onStoreChange(const std::vector<config::Event>& events);
  void flush();
  // Re-packs `kind` from the snapshot; true when its version changed.
  bool repack(const config::Schema& kind, const config::StoreSnapshot& snapshot);

  boost::asio::io_context& context_;
  config::Store& store_;
  McpResourceSourceOptions options_;
  net::xds::AdsServer* ads_ = nullptr;
  config::Store::WatchId watch_ = 0;
  std::map<std::string, const config::Schema*, std::less<>> by_url_;  // subscription URL or collection
  std::map<const config::Schema*, net::xds::Resources> packed_;
  std::set<const config::Schema*> dirty_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point first_dirty_{};
  bool serving_ = false;
  uint64_t repacks_ = 0;
  // Store watchers run on the thread that applied the change; work happens on `context_`.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace monomesh::galley
