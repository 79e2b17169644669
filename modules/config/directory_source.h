// Feeds a store from a folder of YAML/JSON files (recursively) and follows it with inotify.
// Each rescan is applied as one transaction. A file that fails to load, or that defines an
// object another file already defines, keeps its previous good content in the store; the
// error is logged, counted and listed until the file is fixed.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/store.h"

namespace monomesh::config {

struct DirectorySourceOptions {
  // Semantic validation is on: a file Galley would have refused is not applied.
  LoadOptions load = [] {
    LoadOptions o;
    o.validate = true;
    return o;
  }();
  // Quiet time after a change before the folder is rescanned (editors write in several steps).
  std::chrono::milliseconds debounce{50};
};

class DirectorySource {
 public:
  DirectorySource(boost::asio::io_context& context, Store& store, std::string root,
                  DirectorySourceOptions options = {});
  ~DirectorySource();

  // Loads the folder once and starts watching it. An error (missing or unreadable folder,
  // no inotify) is returned as one line; file errors are not start errors.
  std::optional<std::string> start();
  void stop();

  // Rescans now (also what a change notification triggers after the debounce).
  void rescan();

  // Files whose current content is not applied, with why.
  std::map<std::string, ConfigErrors> fileErrors() const;
  size_t fileCount() const { return files_.size(); }
  const std::string& root() const { return root_; }

  // Called after every rescan that changed something or found errors (main context).
  std::function<void(const std::map<std::string, ConfigErrors>& errors)> on_rescan;

 private:
  struct FileState {
    std::string content;              // last content seen
    std::vector<ResourceKey> applied;  // keys this file owns in the store
    ConfigErrors errors;               // errors of `content`, if it is not applied
  };
  std::vector<std::string> listFiles(std::vector<std::string>& dirs) const;
  void armWatch();
  void addWatch(const std::string& dir);
  void readEvents();

  boost::asio::io_context& context_;
  Store& store_;
  std::string root_;
  DirectorySourceOptions options_;
  std::map<std::string, FileState> files_;
  std::map<std::string, int> watched_dirs_;
  int inotify_fd_ = -1;
  std::unique_ptr<boost::asio::posix::stream_descriptor> stream_;
  boost::asio::steady_timer debounce_;
  std::array<char, 64 * 1024> event_buffer_{};
  bool stopped_ = false;
};

}  // namespace monomesh::config
