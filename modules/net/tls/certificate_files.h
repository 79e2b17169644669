// Istio's workload certificates as files in one directory (cert-chain.pem, key.pem and
// root-cert.pem, as Citadel's secret is mounted at /etc/certs), and a watcher that rebuilds the TLS
// contexts when they change. Replacing a context never disturbs a live connection: each SSL holds
// a reference to the SSL_CTX it was made from, so existing connections finish with the old
// certificate and new ones get the new one.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/tls/tls_context.h"

namespace monomesh::net::tls {

struct CertificateFileNames {
  std::string cert_chain = "cert-chain.pem";
  std::string private_key = "key.pem";
  std::string root_cert = "root-cert.pem";  // empty: no trusted CA is read
};

// Reads the files of `directory` into settings.cert_chain_pem, private_key_pem and
// trusted_ca_pem. The error names the file: "cannot read /etc/certs/key.pem: No such file or
// directory". `settings` is unchanged on error.
std::optional<std::string> readCertificateFiles(const std::string& directory, const CertificateFileNames& names,
                                                TlsSettings& settings);

struct WatchedContexts {
  std::shared_ptr<const TlsContext> server;  // null unless CertificateWatcherOptions::server is set
  std::shared_ptr<const TlsContext> client;
};

struct CertificateWatcherOptions {
  std::string directory;
  CertificateFileNames names;
  std::chrono::milliseconds interval{1000};
  // What each context is built from; the PEM fields are replaced by the files' content.
  std::optional<TlsSettings> server;
  std::optional<TlsSettings> client;
};

// Polls the files on a timer rather than with inotify: Kubernetes swaps a secret volume by
// re-pointing a symlink, which inotify on the files themselves misses, while reading three small
// files once a second costs nothing. A change is applied once two consecutive polls read the same
// content, so a half-written set or a read that straddles the swap is not mistaken for a bad one.
// A set that fails to build (unreadable file, key mismatch...) is reported once and the last good
// contexts stay. Use from the io_context's thread; the io_context must outlive the watcher.
class CertificateWatcher {
 public:
  using OnUpdate = std::function<void(const WatchedContexts&)>;
  using OnError = std::function<void(const std::string& error)>;

  CertificateWatcher(boost::asio::io_context& context, CertificateWatcherOptions options, OnUpdate on_update,
                     OnError on_error);
  ~CertificateWatcher();
  CertificateWatcher(const CertificateWatcher&) = delete;
  CertificateWatcher& operator=(const CertificateWatcher&) = delete;

  // Loads the files now, calling on_update or on_error before it returns, then polls. Returns the
  // error of that first load; polling goes on regardless, so files that appear later are used.
  // Starting a started watcher is an error; it may start again after stop().
  std::optional<std::string> start();
  void stop();

  // The last good contexts; both null before the first good load.
  const WatchedContexts& current() const;

  struct Stats {
    uint64_t applied = 0;   // sets built and handed to on_update
    uint64_t rejected = 0;  // sets that failed and were reported to on_error
  };
  const Stats& stats() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the pending timer handler
};

}  // namespace monomesh::net::tls
