// Follows a few small files (the injector's config, the webhook configuration and its CA bundle)
// by reading them on a timer and reporting when their content changed. Polling, as the
// certificate watcher does, because Kubernetes swaps ConfigMap and Secret volumes by re-pointing a
// symlink, which inotify on the files misses; reading a few KiB once a second costs nothing. A
// change is reported once two consecutive polls read the same content, so a half-written file is
// not taken for a broken one. Use from the io_context's thread; destroy before the io_context.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace monomesh::galley {

// One file's content, or nullopt with the reason in `errors` at the same index.
struct PolledFiles {
  std::vector<std::optional<std::string>> contents;
  std::vector<std::string> errors;

  bool operator==(const PolledFiles&) const = default;
};

// Reads each file (at most `max_bytes`); never throws.
PolledFiles readPolledFiles(const std::vector<std::string>& paths, size_t max_bytes);

class FilePoller {
 public:
  using OnChange = std::function<void(const PolledFiles& now)>;

  FilePoller(boost::asio::io_context& context, std::vector<std::string> paths, std::chrono::milliseconds interval,
             OnChange on_change, size_t max_bytes = 4u << 20);
  ~FilePoller();
  FilePoller(const FilePoller&) = delete;
  FilePoller& operator=(const FilePoller&) = delete;

  // `baseline` is what the caller loaded at start-up: only a later difference is reported.
  void start(PolledFiles baseline);
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;  // the timer's handler holds a weak reference
};

}  // namespace monomesh::galley
