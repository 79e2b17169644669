// Certificates made at test time with OpenSSL's C API (nothing checked in): a CA, leaf
// certificates with SPIFFE URI and DNS SANs, expired ones, and keys that match nothing. EC P-256
// keys keep generation fast.
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace monomesh::net::tls::testing {

struct LeafOptions {
  std::string common_name = "workload";
  std::vector<std::string> uri_sans;  // e.g. "spiffe://cluster.local/ns/default/sa/bookinfo"
  std::vector<std::string> dns_sans;
  // Validity relative to now; an expired certificate has both in the past.
  std::chrono::seconds not_before = std::chrono::hours(-1);
  std::chrono::seconds not_after = std::chrono::hours(24);
};

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed root CA that issues leaves for both serverAuth and clientAuth, as Citadel does.
class TestCa {
 public:
  explicit TestCa(const std::string& common_name = "Test Root CA");
  const std::string& certPem() const { return root_.cert_pem; }
  CertAndKey issue(const LeafOptions& options) const;
  // A leaf for the Istio identity spiffe://cluster.local/ns/<ns>/sa/<sa>.
  CertAndKey issueWorkload(const std::string& ns, const std::string& sa) const;

 private:
  CertAndKey root_;
};

// A fresh private key belonging to no certificate.
std::string newKeyPem();

}  // namespace monomesh::net::tls::testing
