// ProxyServer's certificate reload (declared in proxy_server.h): Istio 1.1 mounted workload
// certificates as files (/etc/certs/cert-chain.pem, key.pem, root-cert.pem) that Citadel rotates;
// the proxy notices, and new connections use the new certificates while open ones keep theirs.
#include <sys/stat.h>

#include <boost/asio/steady_timer.hpp>

#include "observe/log.h"
#include "proxy/config/tls_config.h"
#include "proxy/server/proxy_server.h"

namespace monomesh::proxy {

namespace {

// Modification time and size of every file: cheap to take each second, and any rewrite (or
// Kubernetes' symlink swap of a secret volume) changes it.
std::string fingerprint(const std::vector<std::string>& files) {
  std::string out;
  for (const auto& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      out += f + ":missing;";
      continue;
    }
    out += f + ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
           std::to_string(st.st_size) + ";";
  }
  return out;
}

}  // namespace

void ProxyServer::startCertificateWatch() {
  for (const auto& l : bootstrap_.static_resources().listeners()) {
    for (const auto& fc : l.filter_chains())
      if (fc.has_transport_socket())
        for (auto& f : tlsFilesOf(fc.transport_socket())) tls_files_.push_back(std::move(f));
  }
  for (const auto& c : bootstrap_.static_resources().clusters())
    if (c.has_transport_socket())
      for (auto& f : tlsFilesOf(c.transport_socket())) tls_files_.push_back(std::move(f));
  if (tls_files_.empty()) return;
  tls_fingerprint_ = fingerprint(tls_files_);
  tls_timer_ = std::make_unique<boost::asio::steady_timer>(runtime_->main());
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [this, weak = std::weak_ptr<std::function<void()>>(tick)] {
    tls_timer_->expires_after(options_.certificate_poll_interval);
    tls_timer_->async_wait([this, weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      std::string now = fingerprint(tls_files_);
      if (now == tls_fingerprint_) {
        tls_pending_.clear();
      } else if (now == tls_pending_) {
        // Unchanged for a whole interval: the writer (Citadel, kubelet) is done.
        tls_fingerprint_ = now;
        tls_pending_.clear();
        reloadCertificates();
      } else {
        tls_pending_ = now;
      }
      (*self)();
    });
  };
  tls_tick_ = tick;
  (*tick)();
}

void ProxyServer::reloadCertificates() {
  if (!configured_) return;  // still waiting for SDS secrets: the first compile reads the files anyway
  if (std::string error = recompileTls(); !error.empty()) {
    stats_.counter("server.tls_reload_rejected").inc();
    observe::logScope("proxy").warn("certificate files changed but cannot be used; keeping the previous ones: {}", error);
    return;
  }
  stats_.counter("server.tls_reload").inc();
  observe::logScope("proxy").info("certificates reloaded from {} files", tls_files_.size());
}

std::string ProxyServer::recompileTls() {
  ++tls_generation_;
  std::vector<std::shared_ptr<ClusterInfo>> clusters;
  auto listeners = std::make_shared<ListenerSnapshot>();
  std::string error = compileClusters(clusters);
  if (error.empty()) error = compileListeners(*listeners);
  if (!error.empty()) return error;
  clusters_->setClusters(std::move(clusters));
  listener_slot_->publish(std::move(listeners));
  return {};
}

}  // namespace monomesh::proxy
