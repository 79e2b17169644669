// LDS applied as Envoy applies it, on the main context. An LDS response is the whole dynamic
// listener set: listeners it adds or changes are compiled and checked first (any error rejects the
// whole response, nothing changes); removed ones stop accepting and drain; a listener whose HTTP
// connection managers name RDS route configurations that have not arrived warms (is not bound,
// or keeps its previous form) until they do or their initial_fetch_timeout passes. The bootstrap's
// listeners warm the same way but LDS cannot change them. Initialization ends once the bootstrap
// listeners and the first LDS response have warmed.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <google/protobuf/any.pb.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "envoy/admin/v3/config_dump.pb.h"
#include "observe/stats_store.h"
#include "proxy/listener/listener_config.h"

namespace monomesh::proxy {

// What the server does to its sockets and snapshot after a change.
struct ListenerChange {
  std::vector<std::shared_ptr<const ListenerConfig>> active;   // every listener in force now
  std::vector<std::shared_ptr<const ListenerConfig>> added;    // new: bind them
  std::vector<std::shared_ptr<const ListenerConfig>> drained;  // removed or replaced: drain their connections
  std::vector<std::string> closed;                              // removed: close their sockets
};

class ListenerDiscovery {
 public:
  struct Hooks {
    // Compiles one listener; throws std::invalid_argument naming the field.
    std::function<std::shared_ptr<const ListenerConfig>(const envoy::config::listener::v3::Listener&)> compile;
    // Applies a change; returns the added listeners that could not be bound (they are dropped).
    std::function<std::vector<std::string>(const ListenerChange&)> apply;
    // The route configuration names every listener (active or warming) needs.
    std::function<void(const std::set<std::string>&)> want_routes;
    // Whether RDS has delivered route configuration `name`.
    std::function<bool(const std::string&)> routes_ready;
    // Runs once, when initialization ends.
    std::function<void()> initialized;
  };
  ListenerDiscovery(boost::asio::io_context& main, observe::StatsStore& stats, Hooks hooks);
  ~ListenerDiscovery();
  ListenerDiscovery(const ListenerDiscovery&) = delete;
  ListenerDiscovery& operator=(const ListenerDiscovery&) = delete;

  // The bootstrap's listeners (they warm like the others). With `lds`, initialization also waits
  // for the first LDS response (at most `lds_timeout`; 0: for ever).
  void start(std::vector<std::shared_ptr<const ListenerConfig>> bootstrap, bool lds, std::chrono::milliseconds lds_timeout);
  // The bootstrap's listeners recompiled (new TLS material): swapped in, nothing drains.
  void replaceBootstrap(std::vector<std::shared_ptr<const ListenerConfig>> bootstrap);

  // One LDS response; nullopt accepts it, an error message rejects it (NACK).
  std::optional<std::string> onListeners(const std::string& version, const std::vector<google::protobuf::Any>& resources);
  // RDS delivered route configurations: warming listeners may be done.
  void onRoutes();
  // Hands every listener in force to the server as added (it binds them once it serves).
  void bindAll();
  // The drain time of these removed or replaced listeners has ended: they leave /config_dump's
  // draining_state.
  void drained(const std::vector<std::shared_ptr<const ListenerConfig>>& configs);

  bool initialized() const noexcept { return initialized_; }
  std::set<std::string> wantedRoutes() const;
  void dump(envoy::admin::v3::ListenersConfigDump& out) const;

 private:
  struct Entry {
    std::shared_ptr<const ListenerConfig> config;
    std::string bytes;  // canonical bytes of the Listener
    std::string version;
    std::chrono::system_clock::time_point last_updated;
    bool bootstrap = false;
    std::unique_ptr<boost::asio::steady_timer> timer;  // warming: RDS initial_fetch_timeout
  };

  // Starts warming `entry` under `name`, or activates it when its routes are all there.
  void warm(const std::string& name, Entry entry, ListenerChange& change);
  void activate(const std::string& name, ListenerChange& change);
  // Hands a change to the server (with `force`, even an empty one: the configs were swapped).
  void commit(ListenerChange& change, bool force = false);
  bool routesReady(const ListenerConfig& config) const;
  // Two listeners bound to one address: the error names the later one (`next` lists the kept
  // listeners before the new ones).
  static std::string checkAddresses(const std::vector<std::shared_ptr<const ListenerConfig>>& next);
  void checkInitialized();
  void updateGauges();

  boost::asio::io_context& main_;
  Hooks hooks_;
  std::map<std::string, Entry> active_;
  std::map<std::string, Entry> warming_;
  // Removed or replaced forms still draining their connections, oldest first per name.
  std::multimap<std::string, Entry> draining_;
  std::unique_ptr<boost::asio::steady_timer> lds_timer_;
  std::string lds_version_;
  bool lds_waiting_ = false;
  bool started_ = false;
  bool initialized_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  observe::Counter *update_attempt_, *update_success_, *update_rejected_, *listener_added_, *listener_modified_,
      *listener_removed_, *create_success_, *create_failure_;
  observe::Gauge *version_, *total_active_, *total_warming_, *total_draining_;
};

}  // namespace monomesh::proxy
