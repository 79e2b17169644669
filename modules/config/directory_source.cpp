#include "config/directory_source.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sys/inotify.h>
#include <unistd.h>

#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::config {

namespace fs = std::filesystem;

namespace {

bool isConfigFile(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool hidden(const fs::path& p) {
  auto name = p.filename().string();
  return !name.empty() && name[0] == '.';  // editor swap files, Kubernetes' ..data links
}

struct SourceMetrics {
  observe::Family<observe::Counter>& rescans = observe::MetricsRegistry::global().counter(
      "monomesh_config_directory_rescans_total", "Folder rescans by result (applied, unchanged, rejected)",
      {"result"});
  observe::Family<observe::Gauge>& invalid = observe::MetricsRegistry::global().gauge(
      "monomesh_config_directory_invalid_files", "Files whose current content is rejected", {"root"});
};
SourceMetrics& metrics() {
  static SourceMetrics m;
  return m;
}

}  // namespace

DirectorySource::DirectorySource(boost::asio::io_context& context, Store& store, std::string root,
                                 DirectorySourceOptions options)
    : context_(context), store_(store), root_(std::move(root)), options_(options), debounce_(context) {}

DirectorySource::~DirectorySource() { stop(); }

std::optional<std::string> DirectorySource::start() {
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return "config folder \"" + root_ + "\" does not exist or is not a folder";
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) return std::string("cannot watch \"") + root_ + "\": inotify: " + std::strerror(errno);
  stream_ = std::make_unique<boost::asio::posix::stream_descriptor>(context_, inotify_fd_);
  stopped_ = false;
  rescan();
  readEvents();
  return std::nullopt;
}

void DirectorySource::stop() {
  stopped_ = true;
  debounce_.cancel();
  if (stream_) {
    boost::system::error_code ignored;
    stream_->close(ignored);  // closes inotify_fd_ too
    stream_.reset();
  }
  inotify_fd_ = -1;
  watched_dirs_.clear();
}

void DirectorySource::addWatch(const std::string& dir) {
  if (inotify_fd_ < 0 || watched_dirs_.count(dir)) return;
  int wd = inotify_add_watch(inotify_fd_, dir.c_str(),
                             IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                 IN_DELETE_SELF | IN_MODIFY);
  if (wd >= 0) watched_dirs_[dir] = wd;
}

void DirectorySource::readEvents() {
  if (!stream_) return;
  stream_->async_read_some(boost::asio::buffer(event_buffer_), [this](boost::system::error_code ec, size_t) {
    if (ec || stopped_) return;
    // Any event (including queue overflow) means "something changed": rescan after the debounce.
    debounce_.expires_after(options_.debounce);
    debounce_.async_wait([this](boost::system::error_code wec) {
      if (!wec && !stopped_) rescan();
    });
    readEvents();
  });
}

std::vector<std::string> DirectorySource::listFiles(std::vector<std::string>& dirs) const {
  std::vector<std::string> files;
  std::error_code ec;
  dirs.push_back(root_);
  fs::recursive_directory_iterator it(root_, fs::directory_options::follow_directory_symlink, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (hidden(p)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec)) {
      dirs.push_back(p.string());
    } else if (isConfigFile(p) && it->is_regular_file(ec)) {
      files.push_back(p.string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

void DirectorySource::rescan() {
  auto& log = observe::logScope("config");
  std::vector<std::string> dirs;
  std::vector<std::string> paths = listFiles(dirs);
  for (const auto& d : dirs) addWatch(d);

  // 1. Read every file; note which ones changed (or were in error and may now be acceptable).
  std::set<std::string> present(paths.begin(), paths.end());
  std::map<std::string, LoadResult> reloaded;
  std::map<std::string, std::string> contents;
  for (const auto& path : paths) {
    std::string read_error;
    auto content = readConfigFile(path, options_.load.max_file_bytes, read_error);
    if (!content) {
      if (!std::filesystem::exists(path)) continue;  // vanished between listing and reading
      content = "\x01unreadable: " + read_error;  // never valid YAML content; retried next rescan
      auto& state = files_[path];
      if (state.errors.empty()) log.error("{}: {} (keeping its previous content)", path, read_error);
      state.content = *content;
      state.errors = {ConfigError{SourcePosition{path, 0, 0}, "", "", read_error}};
      continue;
    }
    auto it = files_.find(path);
    if (it != files_.end() && it->second.content == *content && it->second.errors.empty()) continue;
    reloaded.emplace(path, loadYaml(*content, path, options_.load));
    contents.emplace(path, std::move(*content));
  }
  std::vector<std::string> removed;
  for (const auto& [path, state] : files_)
    if (!present.count(path)) removed.push_back(path);
  if (reloaded.empty() && removed.empty()) {
    metrics().rescans.with({"unchanged"}).inc();
    return;
  }

  // 2. Decide which reloaded files are accepted. Every object belongs to exactly one file. A
  // rejected file keeps the objects it had; an accepted one claims what it now defines. When two
  // files claim one object, the file that already had it keeps it (else the first by path), and
  // the other is rejected. Rejections only grow, so this settles in at most one pass per file.
  std::set<std::string> accepted;
  for (auto& [path, result] : reloaded) {
    if (!result.ok()) continue;
    std::set<ResourceKey> own;
    for (const auto& r : result.resources)
      if (!own.insert(r.key()).second) result.errors.push_back({r.origin, r.key().str(), "", "defined twice in this file"});
    if (result.ok()) accepted.insert(path);
  }
  auto keysOf = [&](const std::string& path) -> std::vector<ResourceKey> {
    if (accepted.count(path)) {
      std::vector<ResourceKey> keys;
      for (const auto& r : reloaded[path].resources) keys.push_back(r.key());
      return keys;
    }
    auto it = files_.find(path);
    return it == files_.end() ? std::vector<ResourceKey>{} : it->second.applied;
  };
  std::set<std::string> live;  // every file that is present, in path order
  for (const auto& [path, state] : files_)
    if (present.count(path)) live.insert(path);
  for (const auto& [path, result] : reloaded) live.insert(path);
  std::map<ResourceKey, std::string> owner;
  for (bool settled = false; !settled;) {
    settled = true;
    owner.clear();
    for (const auto& path : live) {
      for (const auto& key : keysOf(path)) {
        auto [it, fresh] = owner.emplace(key, path);
        if (fresh) continue;
        // Conflict: the file that held the key before keeps it.
        auto held = [&](const std::string& p) {
          auto f = files_.find(p);
          return f != files_.end() && std::count(f->second.applied.begin(), f->second.applied.end(), key) > 0;
        };
        std::string loser = held(it->second) ? path : held(path) ? it->second : path;
        if (!accepted.count(loser)) loser = loser == path ? it->second : path;  // a rejected file keeps what it had
        std::string winner = loser == path ? it->second : path;
        for (const auto& r : reloaded[loser].resources)
          if (r.key() == key) reloaded[loser].errors.push_back({r.origin, key.str(), "", "already defined in " + winner});
        accepted.erase(loser);
        settled = false;
        break;
      }
      if (!settled) break;
    }
  }

  // 3. One transaction: what accepted files define, minus what nobody owns any more.
  std::vector<Change> changes;
  for (auto& [path, result] : reloaded) {
    FileState& state = files_[path];
    state.content = contents[path];
    if (!accepted.count(path)) {
      state.errors = result.errors;
      for (const auto& e : result.errors) log.error("{} (keeping the previous content of this file)", e.str());
      continue;
    }
    state.errors.clear();
    // Accepted with a remark (deprecated kind, Mixer config not applied yet): said once per load.
    for (const auto& n : result.notes) log.info("{} (note)", n.str());
    for (const auto& key : state.applied)
      if (!owner.count(key)) changes.push_back(Delete{key});
    state.applied = keysOf(path);
    for (auto& r : result.resources) changes.push_back(Upsert{std::move(r)});
  }
  for (const auto& path : removed) {
    for (const auto& key : files_[path].applied)
      if (!owner.count(key)) changes.push_back(Delete{key});
    files_.erase(path);
  }
  // Deletes first, so an object moving from one file to another is not deleted after its upsert.
  std::stable_partition(changes.begin(), changes.end(), [](const Change& c) { return std::holds_alternative<Delete>(c); });
  uint64_t before = store_.version();
  uint64_t after = store_.apply(std::move(changes));
  auto errors = fileErrors();
  metrics().invalid.with({root_}).set(int64_t(errors.size()));
  metrics().rescans.with({errors.empty() ? (after != before ? "applied" : "unchanged") : "rejected"}).inc();
  if (after != before) log.info("config folder {}: version {} ({} files)", root_, after, files_.size());
  if (on_rescan) on_rescan(errors);
}

std::map<std::string, ConfigErrors> DirectorySource::fileErrors() const {
  std::map<std::string, ConfigErrors> out;
  for (const auto& [path, state] : files_)
    if (!state.errors.empty()) out[path] = state.errors;
  return out;
}

}  // namespace monomesh::config
