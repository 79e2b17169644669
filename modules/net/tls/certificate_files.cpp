#include "net/tls/certificate_files.h"

#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::net::tls {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;  // certificates are a few KiB; refuse to slurp anything big

std::optional<std::string> readFile(const std::string& path, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "cannot read " + path + ": " + std::strerror(errno);
  std::string content;
  char buf[8192];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && content.size() <= kMaxFileBytes) content.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int read_errno = errno;
  std::fclose(f);
  if (failed) return "cannot read " + path + ": " + std::strerror(read_errno);
  if (content.size() > kMaxFileBytes) return path + " is larger than 1 MiB";
  out = std::move(content);
  return std::nullopt;
}

observe::Family<observe::Counter>& reloadCounter() {
  static auto& family = observe::MetricsRegistry::global().counter(
      "monomesh_tls_certificate_reloads_total", "Certificate file sets loaded, by result (applied, rejected)",
      {"result"});
  return family;
}

}  // namespace

std::optional<std::string> readCertificateFiles(const std::string& directory, const CertificateFileNames& names,
                                                TlsSettings& settings) {
  std::string cert, key, root;
  auto path = [&](const std::string& name) { return directory + "/" + name; };
  if (auto error = readFile(path(names.cert_chain), cert)) return error;
  if (auto error = readFile(path(names.private_key), key)) return error;
  if (!names.root_cert.empty()) {
    if (auto error = readFile(path(names.root_cert), root)) return error;
  }
  settings.cert_chain_pem = std::move(cert);
  settings.private_key_pem = std::move(key);
  settings.trusted_ca_pem = std::move(root);
  return std::nullopt;
}

struct CertificateWatcher::State {
  // What one poll read: the three files, or why they could not be read.
  struct Files {
    TlsSettings pem;
    std::string error;
    bool operator==(const Files& o) const {
      return error == o.error && pem.cert_chain_pem == o.pem.cert_chain_pem &&
             pem.private_key_pem == o.pem.private_key_pem && pem.trusted_ca_pem == o.pem.trusted_ca_pem;
    }
  };

  State(boost::asio::io_context& context, CertificateWatcherOptions o, OnUpdate u, OnError e)
      : timer(context), options(std::move(o)), on_update(std::move(u)), on_error(std::move(e)) {}

  boost::asio::steady_timer timer;
  CertificateWatcherOptions options;
  OnUpdate on_update;
  OnError on_error;
  bool stopped = true;
  std::optional<Files> applied;  // the content last built, good or bad
  std::optional<Files> pending;  // changed content waiting for a second identical read
  WatchedContexts current;
  Stats stats;

  Files read() const {
    Files files;
    if (auto error = readCertificateFiles(options.directory, options.names, files.pem)) files.error = *error;
    return files;
  }

  std::optional<std::string> build(const Files& files, WatchedContexts& out) const {
    if (!files.error.empty()) return files.error;
    auto make = [&](const std::optional<TlsSettings>& base, auto factory, std::shared_ptr<const TlsContext>& into,
                    const char* side) -> std::optional<std::string> {
      if (!base) return std::nullopt;
      TlsSettings settings = *base;
      settings.cert_chain_pem = files.pem.cert_chain_pem;
      settings.private_key_pem = files.pem.private_key_pem;
      settings.trusted_ca_pem = files.pem.trusted_ca_pem;
      TlsContextResult result = factory(settings);
      if (!result.context) return std::string(side) + " context from " + options.directory + ": " + result.error;
      into = std::move(result.context);
      return std::nullopt;
    };
    if (auto error = make(options.server, makeServerContext, out.server, "server")) return error;
    return make(options.client, makeClientContext, out.client, "client");
  }

  std::optional<std::string> apply(Files files) {
    WatchedContexts built;
    std::optional<std::string> error = build(files, built);
    applied = std::move(files);
    pending.reset();
    auto& log = observe::logScope("tls");
    if (error) {
      ++stats.rejected;
      reloadCounter().with({"rejected"}).inc();
      log.warn("certificates rejected, keeping the previous ones: {}", *error);
      if (on_error) on_error(*error);
      return error;
    }
    ++stats.applied;
    reloadCounter().with({"applied"}).inc();
    log.info("certificates loaded from {}", options.directory);
    current = built;
    if (on_update) on_update(current);
    return std::nullopt;
  }

  void poll() {
    Files files = read();
    if (applied && files == *applied) {
      pending.reset();  // changed and changed back before it settled
    } else if (pending && files == *pending) {
      apply(std::move(files));
    } else {
      pending = std::move(files);
    }
  }

  static void schedule(const std::shared_ptr<State>& self) {
    self->timer.expires_after(self->options.interval);
    self->timer.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->poll();
      if (!self->stopped) schedule(self);  // a callback may have stopped the watcher
    });
  }
};

CertificateWatcher::CertificateWatcher(boost::asio::io_context& context, CertificateWatcherOptions options,
                                       OnUpdate on_update, OnError on_error)
    : state_(std::make_shared<State>(context, std::move(options), std::move(on_update), std::move(on_error))) {}

CertificateWatcher::~CertificateWatcher() { stop(); }

std::optional<std::string> CertificateWatcher::start() {
  if (!state_->stopped) return "certificate watcher for " + state_->options.directory + " is already started";
  state_->stopped = false;
  std::optional<std::string> error = state_->apply(state_->read());
  if (!state_->stopped) State::schedule(state_);
  return error;
}

void CertificateWatcher::stop() {
  state_->stopped = true;
  state_->timer.cancel();
}

const WatchedContexts& CertificateWatcher::current() const { return state_->current; }
const CertificateWatcher::Stats& CertificateWatcher::stats() const { return state_->stats; }

}  // namespace monomesh::net::tls
