// Galley's certificate flags (--tlsCertFile, --tlsKeyFile, --caCertFile, Istio's /etc/certs files
// by default) as what net::tls::CertificateWatcher follows. The three may name files in different
// folders: the watcher reads `directory/name`, so names are made relative to the chain's folder.
#pragma once
#include <chrono>
#include <string>

#include "net/tls/certificate_files.h"

namespace monomesh::galley {

// `ca_file` empty: no trusted CA is read (the webhook does not ask clients for certificates).
net::tls::CertificateWatcherOptions certificateWatcherOptions(const std::string& cert_file, const std::string& key_file,
                                                              const std::string& ca_file,
                                                              std::chrono::milliseconds interval);

}  // namespace monomesh::galley
