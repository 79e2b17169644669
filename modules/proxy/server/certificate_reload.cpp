// ProxyServer's certificate reload (declared in proxy_server.h): Istio 1.1 mounted workload
// certificates as files (/etc/certs/cert-chain.pem, key.pem, root-cert.pem) that Citadel rotates;
// the proxy notices, and new connections use the new certificates while open ones keep theirs.
#include <sys/stat.h>

#include <boost/asio/steady_timer.hpp>

#include "observe/log.h"
#include "proxy/config/runtime_values.h"
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
  everyInterval(options_.certificate_poll_interval, [this] {
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
  });
}

void ProxyServer::everyInterval(std::chrono::milliseconds interval, std::function<void()> task) {
  auto timer = std::make_shared<boost::asio::steady_timer>(runtime_->main());
  periodic_timers_.push_back(timer);
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [timer, interval, task = std::move(task), weak = std::weak_ptr<std::function<void()>>(tick)] {
    timer->expires_after(interval);
    timer->async_wait([weak, task](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      task();
      (*self)();
    });
  };
  periodic_ticks_.push_back(tick);
  (*tick)();
}

// Envoy watches the disk layer's symlink root: a new tree (symlink swapped) applies without a
// restart. Polled each second; only a change is published.
void ProxyServer::startRuntimeReload() {
  bool has_disk = false;
  for (const auto& layer : bootstrap_.layered_runtime().layers()) has_disk |= layer.has_disk_layer();
  if (!has_disk) return;
  everyInterval(std::chrono::seconds(1), [this] {
    auto next = loadRuntime(bootstrap_.layered_runtime(), admin_runtime_);
    const auto& current = runtime_slot_->latest();
    if (current && current->values == next->values) return;
    runtime_slot_->publish(std::move(next));
    observe::logScope("proxy").info("runtime reloaded from its disk layer");
  });
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
  if (dynamic_) {
    // Only the bootstrap's resources are recompiled; dynamic ones keep their contexts.
    cluster_infos_ = clusters;
    bootstrap_listeners_ = listeners->listeners;
    if (cluster_discovery_) cluster_discovery_->replaceBootstrap(std::move(clusters));
    else clusters_->setClusters(std::move(clusters));
    if (listener_discovery_) listener_discovery_->replaceBootstrap(std::move(listeners->listeners));
    return {};
  }
  clusters_->setClusters(std::move(clusters));
  listener_slot_->publish(std::move(listeners));
  return {};
}

}  // namespace monomesh::proxy
