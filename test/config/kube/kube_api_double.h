// Runs kube_api_server.py (the Kubernetes API-server double) as a child process for one test and
// drives it over its stdin/stdout: add, change and delete objects, drop watches, force 410 Gone.
#pragma once
#include <string>
#include <sys/types.h>
#include <yaml-cpp/yaml.h>

namespace monomesh::config::kube::testing {

class KubeApiDouble {
 public:
  // Certificates are made in `dir`; requests must carry `token` (or a client certificate).
  explicit KubeApiDouble(const std::string& dir, const std::string& token = "test-token");
  ~KubeApiDouble();
  KubeApiDouble(const KubeApiDouble&) = delete;

  int port() const { return port_; }
  const std::string& caFile() const { return ca_; }
  const std::string& clientCertFile() const { return client_cert_; }
  const std::string& clientKeyFile() const { return client_key_; }

  // Sends one command ({"op": ...}) and returns the reply; fails the test after 15 s of silence.
  YAML::Node command(const std::string& json);
  // Adds or replaces an object; returns its new resourceVersion.
  std::string put(const std::string& object_json);
  std::string remove(const std::string& api_version, const std::string& kind, const std::string& ns,
                     const std::string& name);
  // How many LIST / WATCH requests a collection ("/api/v1/services") has had.
  int lists(const std::string& path);
  int watches(const std::string& path);

  // A kubeconfig for this server (CA file, bearer token).
  std::string kubeconfig(const std::string& token, const std::string& server_name = "") const;

 private:
  std::string readLine();

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffered_;
  int port_ = 0;
  std::string ca_, client_cert_, client_key_;
};

// Objects in the API's JSON.
std::string serviceJson(const std::string& name, const std::string& ns = "default", int port = 80);
std::string virtualServiceJson(const std::string& name, const std::string& host, const std::string& ns = "default");

}  // namespace monomesh::config::kube::testing
