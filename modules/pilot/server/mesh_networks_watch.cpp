#include "pilot/server/mesh_networks_watch.h"

#include <fstream>
#include <sstream>

#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::pilot {

namespace {

observe::Gauge& invalidGauge() {
  static observe::Gauge& gauge =
      observe::MetricsRegistry::global()
          .gauge("monomesh_pilot_networks_config_invalid",
                 "1 while the --networksConfig file on disk is rejected and the last good networks are in use.")
          .with({});
  return gauge;
}

// The file's text; nullopt when it cannot be read (missing, a folder, no permission).
std::optional<std::string> readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

std::string describe(const config::ConfigErrors& errors) {
  std::string out = errors.front().str();
  if (errors.size() > 1) out += " (and " + std::to_string(errors.size() - 1) + " more)";
  return out;
}

}  // namespace

MeshNetworksWatch::MeshNetworksWatch(boost::asio::io_context& context, std::string path, std::chrono::milliseconds interval)
    : timer_(context), path_(std::move(path)), interval_(interval) {
  invalidGauge().set(0);
}

std::string MeshNetworksWatch::load(bool required) {
  auto text = readText(path_);
  if (!text) {
    if (required) return "cannot read " + path_;
    good_missing_ = true;
    last_read_.reset();
    return {};
  }
  config::ConfigErrors errors;
  auto parsed = MeshNetworks::parse(*text, path_, errors);
  if (!parsed) {
    for (const auto& e : errors) observe::logScope("pilot").error("mesh networks: {}", e.str());
    return describe(errors);
  }
  networks_ = std::make_shared<const MeshNetworks>(std::move(*parsed));
  good_text_ = *text;
  last_read_ = std::move(text);
  observe::logScope("pilot").info("mesh networks from {}: {} networks", path_, networks_->size());
  return {};
}

void MeshNetworksWatch::start(Apply apply) {
  apply_ = std::move(apply);
  stopped_ = false;
  poll();
}

void MeshNetworksWatch::stop() {
  stopped_ = true;
  timer_.cancel();
}

void MeshNetworksWatch::reject(const std::optional<std::string>& text, const config::ConfigErrors& errors) {
  invalidGauge().set(1);
  if (reported_ && *reported_ == text) return;  // said already; it is still so
  reported_ = text;
  auto& log = observe::logScope("pilot");
  if (!text) log.error("mesh networks: cannot read {}; keeping the last good networks", path_);
  for (const auto& e : errors) log.error("mesh networks rejected, keeping the last good ones: {}", e.str());
}

void MeshNetworksWatch::poll() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    auto text = readText(path_);
    bool settled = text == last_read_;  // the same two polls in a row: not caught mid-write
    last_read_ = text;
    if (!text) {
      // Gone: it may be being replaced; the networks in use stay until a good file is back.
      if (!good_missing_ && settled) reject(std::nullopt, {});
    } else if (*text == good_text_ && !good_missing_) {
      invalidGauge().set(0);
      reported_.reset();
    } else if (settled) {
      config::ConfigErrors errors;
      auto parsed = MeshNetworks::parse(*text, path_, errors);
      if (!parsed) {
        reject(text, errors);
      } else {
        networks_ = std::make_shared<const MeshNetworks>(std::move(*parsed));
        good_text_ = std::move(*text);
        good_missing_ = false;
        reported_.reset();
        invalidGauge().set(0);
        observe::logScope("pilot").info("mesh networks {} changed: {} networks", path_, networks_->size());
        if (apply_) apply_(networks_);
      }
    }
    poll();
  });
}

}  // namespace monomesh::pilot
