// How to reach and authenticate to a Kubernetes API server: read from a kubeconfig file (its
// current context's cluster and user) or from the in-cluster service account, as client-go's
// BuildConfigFromFlags does for Pilot's --kubeconfig. Every error names the file and the field.
#pragma once
#include <optional>
#include <string>

namespace monomesh::config::kube {

struct ApiServerAddress {
  std::string scheme = "https";  // "https" or "http" (kubectl proxy)
  std::string host;              // name or IP literal, without brackets
  std::string port;              // always set ("443" when the URL has none)
  std::string path_prefix;       // a server behind a path ("https://host/k8s"), without trailing '/'

  // "https://host:port" (IPv6 in brackets), for messages.
  std::string url() const;
};

struct KubeCredentials {
  ApiServerAddress server;
  std::string tls_server_name;  // name checked in the server certificate; empty: the host
  std::string ca_pem;           // roots that sign the server certificate; empty: the system's
  bool insecure_skip_tls_verify = false;
  std::string token;       // bearer token given inline
  std::string token_file;  // or read from this file on every request (tokens are rotated)
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string namespace_;  // the context's (or service account's) namespace; may be empty
  std::string origin;      // "kubeconfig /root/.kube/config, context \"kind\"" or "in-cluster"
};

struct CredentialsResult {
  std::optional<KubeCredentials> credentials;
  std::string error;  // set when credentials is empty
};

// Parses kubeconfig text; `path` names it in errors and anchors relative file paths. `context`
// overrides current-context when not empty.
CredentialsResult parseKubeconfig(const std::string& text, const std::string& path, const std::string& context = "");
CredentialsResult loadKubeconfig(const std::string& path, const std::string& context = "");

// What a pod sees: the service's host and port from the environment and the service account's
// files under `root` (injectable for tests).
struct InClusterEnvironment {
  std::string host;  // KUBERNETES_SERVICE_HOST
  std::string port;  // KUBERNETES_SERVICE_PORT
  std::string root = "/var/run/secrets/kubernetes.io/serviceaccount";

  static InClusterEnvironment fromProcess();
};
CredentialsResult inClusterCredentials(const InClusterEnvironment& environment);

// Pilot's rule: the kubeconfig when a path is given, else the in-cluster service account.
CredentialsResult resolveCredentials(const std::string& kubeconfig_path, const std::string& context = "");

// The bearer token to send now: token_file re-read (trimmed) when set, else token; empty when
// the user has none. nullopt with `error` set when the file cannot be read.
std::optional<std::string> currentToken(const KubeCredentials& credentials, std::string& error);

// Parses "https://host:port/prefix"; nullopt with `error` set when it is not such a URL.
std::optional<ApiServerAddress> parseServerUrl(const std::string& url, std::string& error);

}  // namespace monomesh::config::kube
