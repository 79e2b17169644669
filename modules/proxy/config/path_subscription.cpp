#include "proxy/config/path_subscription.h"

#include <sys/stat.h>

#include "config/loader.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "observe/log.h"
#include "proxy/config/bootstrap_loader.h"

namespace monomesh::proxy {

namespace asio = boost::asio;

PathSubscription::PathSubscription(asio::io_context& context, std::string path, std::string type_url, Apply apply,
                                   observe::Counter& rejected, std::chrono::milliseconds interval)
    : context_(context),
      path_(std::move(path)),
      type_url_(std::move(type_url)),
      apply_(std::move(apply)),
      rejected_(rejected),
      interval_(interval) {}

PathSubscription::~PathSubscription() { stop(); }

std::string PathSubscription::read(const std::string& path, const std::string& type_url, std::string& version,
                                   std::vector<google::protobuf::Any>& resources) {
  std::string error;
  auto text = config::readConfigFile(path, 32u << 20, error);
  if (!text) return path + ": " + error;
  envoy::service::discovery::v3::DiscoveryResponse response;
  auto errors = readProtoText(*text, path, "DiscoveryResponse", response);
  if (!errors.empty()) return errors.front().str();
  if (!response.type_url().empty() && response.type_url() != type_url)
    return path + ": type_url: \"" + response.type_url() + "\", expected \"" + type_url + "\"";
  for (int i = 0; i < response.resources_size(); ++i)
    if (response.resources(i).type_url() != type_url)
      return path + ": resources[" + std::to_string(i) + "]: a " + response.resources(i).type_url() + ", expected a " +
             type_url;
  version = response.version_info();
  resources.assign(response.resources().begin(), response.resources().end());
  return {};
}

std::string PathSubscription::identity() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return {};
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

std::string PathSubscription::load() {
  std::string version;
  std::vector<google::protobuf::Any> resources;
  if (auto error = read(path_, type_url_, version, resources); !error.empty()) return error;
  if (auto rejected = apply_(version, resources)) return path_ + " (version " + version + "): " + *rejected;
  return {};
}

std::string PathSubscription::start() {
  seen_ = identity();
  if (auto error = load(); !error.empty()) return error;
  timer_ = std::make_unique<asio::steady_timer>(context_);
  poll();
  return {};
}

void PathSubscription::poll() {
  timer_->expires_after(interval_);
  timer_->async_wait([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
    auto live = alive.lock();
    if (ec || !live || !*live) return;
    std::string now = identity();
    if (!now.empty() && now != seen_) {
      seen_ = now;
      if (auto error = load(); !error.empty()) {
        rejected_.inc();
        observe::logScope("xds").warn("a changed file is not applied, the previous config stays: {}", error);
      }
    }
    poll();
  });
}

void PathSubscription::stop() {
  *alive_ = false;
  if (timer_) timer_->cancel();
  timer_.reset();
}

}  // namespace monomesh::proxy
