// Keeps one kind of one cluster in step with the API server, as client-go's Reflector does: a
// paged LIST, then a WATCH from the list's resourceVersion. A watch that ends or drops resumes
// from the last version seen; 410 Gone (as a status or an ERROR event) lists again; failures
// back off exponentially with jitter. It hands what it read to its handlers and never touches
// the store itself.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/kube/kube_client.h"
#include "config/kube/kube_watch_event.h"

namespace monomesh::observe {
class Counter;
}

namespace monomesh::config::kube {

struct KubeReflectorOptions {
  size_t page_size = 500;                // LIST `limit`
  size_t max_list_body = 64u << 20;      // bytes per LIST page
  size_t max_event_line = 8u << 20;      // bytes per WATCH event line
  std::chrono::seconds watch_timeout{300};  // `timeoutSeconds`, randomised between 1x and 2x
  // No bytes for this long ends the watch; 0: timeoutSeconds + 30 s (the server should have ended it).
  std::chrono::milliseconds watch_idle_timeout{0};
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
};

struct KubeReflectorStats {
  uint64_t lists = 0;         // completed LISTs (all pages)
  uint64_t relists = 0;       // completed LISTs after the first
  uint64_t watches = 0;       // WATCH requests the server accepted
  uint64_t watch_events = 0;  // events received (bookmarks included)
  uint64_t watch_drops = 0;   // watches that broke before the server ended them
  uint64_t errors = 0;        // failed requests, bad responses, broken streams

  KubeReflectorStats& operator+=(const KubeReflectorStats& o);
};

struct KubeReflectorHandlers {
  // A complete LIST: every item, valid or not.
  std::function<void(const Schema& kind, std::vector<KubeObject> items)> replace;
  // One ADDED, MODIFIED or DELETED event.
  std::function<void(const Schema& kind, WatchEvent event)> event;
};

class KubeReflector : public std::enable_shared_from_this<KubeReflector> {
 public:
  KubeReflector(std::shared_ptr<KubeClient> client, const Schema& kind, LoadOptions load,
                KubeReflectorOptions options, KubeReflectorHandlers handlers);

  void start();
  // Ends the loop at its next step; pending I/O is aborted. Handlers are not called afterwards.
  void stop();

  const Schema& kind() const { return *kind_; }
  bool listed() const { return stats_.lists > 0; }
  const std::string& resourceVersion() const { return resource_version_; }
  const std::string& lastError() const { return last_error_; }  // empty after a success
  const KubeReflectorStats& stats() const { return stats_; }

 private:
  enum class WatchEnd { Closed, Gone, Failed, Relist };
  static boost::asio::awaitable<void> run(std::shared_ptr<KubeReflector> self);
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<bool> list();
  boost::asio::awaitable<WatchEnd> watch();
  boost::asio::awaitable<void> backoff();
  // Handles one event line; false ends the watch with `end`.
  bool onLine(const std::string& line, bool& received, WatchEnd& end);
  void fail(const std::string& what);
  void succeeded();

  std::shared_ptr<KubeClient> client_;
  const Schema* kind_;
  LoadOptions load_;
  KubeReflectorOptions options_;
  KubeReflectorHandlers handlers_;
  std::string path_;    // "/api/v1/services"
  std::string origin_;  // "kube:<cluster>/services", for error positions
  boost::asio::steady_timer timer_;
  std::weak_ptr<KubeResponseStream> current_;
  std::minstd_rand random_;
  std::chrono::milliseconds next_backoff_{0};
  std::string resource_version_;
  std::string last_error_;
  KubeReflectorStats stats_;
  int gone_streak_ = 0;  // 410s in a row without an event between them
  bool stopped_ = false;
  struct Metrics;
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace monomesh::config::kube
