#include "galley/certificate_flags.h"

#include <filesystem>

namespace monomesh::galley {

net::tls::CertificateWatcherOptions certificateWatcherOptions(const std::string& cert_file, const std::string& key_file,
                                                              const std::string& ca_file,
                                                              std::chrono::milliseconds interval) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path cert = fs::absolute(cert_file, ec);
  fs::path folder = cert.parent_path();
  auto relative = [&](const std::string& file) { return fs::absolute(file, ec).lexically_relative(folder).string(); };
  net::tls::CertificateWatcherOptions out;
  out.directory = folder.string();
  out.names.cert_chain = cert.filename().string();
  out.names.private_key = relative(key_file);
  out.names.root_cert = ca_file.empty() ? std::string() : relative(ca_file);
  out.interval = interval;
  return out;
}

}  // namespace monomesh::galley
