#include "galley/file_poller.h"

#include <boost/asio/steady_timer.hpp>

#include "config/loader.h"

namespace monomesh::galley {

PolledFiles readPolledFiles(const std::vector<std::string>& paths, size_t max_bytes) {
  PolledFiles out;
  for (const auto& path : paths) {
    std::string error;
    out.contents.push_back(config::readConfigFile(path, max_bytes, error));
    out.errors.push_back(out.contents.back() ? std::string() : path + ": " + error);
  }
  return out;
}

struct FilePoller::State {
  State(boost::asio::io_context& c, std::vector<std::string> p, std::chrono::milliseconds i, OnChange o, size_t m)
      : timer(c), paths(std::move(p)), interval(i), on_change(std::move(o)), max_bytes(m) {}

  boost::asio::steady_timer timer;
  std::vector<std::string> paths;
  std::chrono::milliseconds interval;
  OnChange on_change;
  size_t max_bytes;
  bool stopped = true;
  PolledFiles reported;                // what the owner has seen
  std::optional<PolledFiles> pending;  // a changed read waiting for a second identical one

  static void arm(const std::shared_ptr<State>& self) {
    self->timer.expires_after(self->interval);
    std::weak_ptr<State> weak = self;
    self->timer.async_wait([weak](const boost::system::error_code& ec) {
      auto state = weak.lock();
      if (ec || !state || state->stopped) return;
      state->poll();
      if (!state->stopped) arm(state);
    });
  }

  void poll() {
    PolledFiles now = readPolledFiles(paths, max_bytes);
    if (now == reported) {
      pending.reset();
      return;
    }
    if (!pending || !(*pending == now)) {
      pending = std::move(now);
      return;
    }
    reported = std::move(*pending);
    pending.reset();
    on_change(reported);
  }
};

FilePoller::FilePoller(boost::asio::io_context& context, std::vector<std::string> paths,
                       std::chrono::milliseconds interval, OnChange on_change, size_t max_bytes)
    : state_(std::make_shared<State>(context, std::move(paths), interval, std::move(on_change), max_bytes)) {}

FilePoller::~FilePoller() { stop(); }

void FilePoller::start(PolledFiles baseline) {
  state_->reported = std::move(baseline);
  state_->pending.reset();
  state_->stopped = false;
  State::arm(state_);
}

void FilePoller::stop() {
  state_->stopped = true;
  state_->timer.cancel();
}

}  // namespace monomesh::galley
