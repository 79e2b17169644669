#include "config/kube/kube_config.h"

#include <cstdlib>
#include <filesystem>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include "config/loader.h"
#include "net/tls/pem.h"

namespace monomesh::config::kube {

namespace {

constexpr size_t kMaxCredentialFile = 1u << 20;  // certificates, keys and tokens are a few KiB

// Base64 as kubeconfig's *-data fields hold it (line breaks allowed), via OpenSSL's decoder.
std::optional<std::string> decodeBase64(const std::string& text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  EVP_ENCODE_CTX* ctx = EVP_ENCODE_CTX_new();
  if (ctx == nullptr) return std::nullopt;
  EVP_DecodeInit(ctx);
  int written = 0, tail = 0;
  bool ok = EVP_DecodeUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &written,
                             reinterpret_cast<const unsigned char*>(text.data()), int(text.size())) >= 0 &&
            EVP_DecodeFinal(ctx, reinterpret_cast<unsigned char*>(out.data()) + written, &tail) == 1;
  EVP_ENCODE_CTX_free(ctx);
  if (!ok) return std::nullopt;
  out.resize(size_t(written + tail));
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t start = s.find_first_not_of(" \t\r\n");
  return start == std::string::npos ? std::string() : s.substr(start);
}

// Reads kubeconfig's sections, remembering the file for messages and relative paths.
class KubeconfigReader {
 public:
  KubeconfigReader(std::string path) : path_(std::move(path)) {}

  CredentialsResult read(const std::string& text, const std::string& context_override) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return fail("line " + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
    }
    if (!root.IsMap()) return fail("expected a mapping with clusters, contexts, users and current-context");
    std::string context_name = context_override.empty() ? scalar(root, "current-context") : context_override;
    if (context_name.empty()) return fail("current-context: not set (and no context was chosen)");
    std::string context_path = "contexts[name=\"" + context_name + "\"]";
    YAML::Node context = named(root, "contexts", context_name);
    if (!context) return fail("context \"" + context_name + "\"" + (context_override.empty() ? " (current-context)" : "") +
                              " is not in contexts");
    YAML::Node ctx = context["context"];
    if (!ctx.IsDefined() || !ctx.IsMap()) return fail(context_path + ".context: required");
    std::string cluster_name = scalar(ctx, "cluster"), user_name = scalar(ctx, "user");
    if (cluster_name.empty()) return fail(context_path + ".context.cluster: required");

    KubeCredentials creds;
    creds.namespace_ = scalar(ctx, "namespace");
    creds.origin = "kubeconfig " + path_ + ", context \"" + context_name + "\"";
    if (!readCluster(root, cluster_name, creds)) return fail(error_);
    if (!user_name.empty() && !readUser(root, user_name, creds)) return fail(error_);
    return CredentialsResult{std::move(creds), ""};
  }

 private:
  CredentialsResult fail(const std::string& message) const { return {std::nullopt, "kubeconfig " + path_ + ": " + message}; }

  static std::string scalar(const YAML::Node& map, const char* key) {
    if (!map.IsDefined() || !map.IsMap()) return "";  // IsMap throws on a missing node
    YAML::Node v = map[key];
    return v.IsDefined() && v.IsScalar() ? v.Scalar() : "";
  }

  static YAML::Node named(const YAML::Node& root, const char* section, const std::string& name) {
    YAML::Node list = root[section];
    if (!list.IsDefined() || !list.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
    for (const auto& entry : list)
      if (entry.IsMap() && scalar(entry, "name") == name) return entry;
    return YAML::Node(YAML::NodeType::Undefined);
  }

  bool bad(const std::string& field, const std::string& message) {
    error_ = field + ": " + message;
    return false;
  }

  // `<key>-data` (base64) or `<key>` (a file path, relative to the kubeconfig's folder).
  bool readPem(const YAML::Node& map, const std::string& prefix, const std::string& key, std::string& out) {
    std::string data = scalar(map, (key + "-data").c_str()), file = scalar(map, key.c_str());
    if (!data.empty()) {
      auto decoded = decodeBase64(data);
      if (!decoded) return bad(prefix + key + "-data", "not valid base64");
      out = std::move(*decoded);
      return true;
    }
    if (!file.empty()) return readFile(prefix + key, file, out);
    return true;
  }

  bool readFile(const std::string& field, const std::string& file, std::string& out) {
    std::filesystem::path p(file);
    if (p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
    std::string error;
    auto content = readConfigFile(p.string(), kMaxCredentialFile, error);
    if (!content) return bad(field, p.string() + ": " + error);
    out = std::move(*content);
    return true;
  }

  bool readCluster(const YAML::Node& root, const std::string& name, KubeCredentials& creds) {
    std::string prefix = "clusters[name=\"" + name + "\"].cluster.";
    YAML::Node entry = named(root, "clusters", name);
    if (!entry) return bad("clusters", "no cluster named \"" + name + "\"");
    YAML::Node cluster = entry["cluster"];
    if (!cluster.IsDefined() || !cluster.IsMap()) return bad(prefix.substr(0, prefix.size() - 1), "required");
    std::string server = scalar(cluster, "server"), error;
    if (server.empty()) return bad(prefix + "server", "required");
    auto address = parseServerUrl(server, error);
    if (!address) return bad(prefix + "server", error);
    creds.server = *address;
    creds.tls_server_name = scalar(cluster, "tls-server-name");
    std::string insecure = scalar(cluster, "insecure-skip-tls-verify");
    if (!insecure.empty() && insecure != "true" && insecure != "false")
      return bad(prefix + "insecure-skip-tls-verify", "expected true or false, got \"" + insecure + "\"");
    creds.insecure_skip_tls_verify = insecure == "true";
    if (!readPem(cluster, prefix, "certificate-authority", creds.ca_pem)) return false;
    if (!creds.ca_pem.empty()) {
      std::string field = prefix + "certificate-authority" + (scalar(cluster, "certificate-authority-data").empty() ? "" : "-data");
      auto certs = net::tls::readPemCertificates(creds.ca_pem, error);
      if (!error.empty()) return bad(field, error);
      if (certs.empty()) return bad(field, "holds no PEM certificate");
    }
    return true;
  }

  bool readUser(const YAML::Node& root, const std::string& name, KubeCredentials& creds) {
    std::string prefix = "users[name=\"" + name + "\"].user.";
    YAML::Node entry = named(root, "users", name);
    if (!entry) return bad("users", "no user named \"" + name + "\"");
    YAML::Node user = entry["user"];
    if (!user.IsDefined() || user.IsNull()) return true;  // anonymous
    if (!user.IsMap()) return bad(prefix.substr(0, prefix.size() - 1), "expected a mapping");
    for (const char* plugin : {"exec", "auth-provider", "username"})
      if (user[plugin].IsDefined())
        return bad(prefix + plugin, "not supported; use a token, tokenFile or a client certificate");
    creds.token = scalar(user, "token");
    std::string token_file = scalar(user, "tokenFile");
    if (!token_file.empty()) {
      std::filesystem::path p(token_file);
      if (p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
      std::string ignored;
      if (!readFile(prefix + "tokenFile", p.string(), ignored)) return false;
      creds.token_file = p.string();
    }
    if (!readPem(user, prefix, "client-certificate", creds.client_cert_pem)) return false;
    if (!readPem(user, prefix, "client-key", creds.client_key_pem)) return false;
    bool has_cert = !creds.client_cert_pem.empty(), has_key = !creds.client_key_pem.empty();
    if (has_cert != has_key)
      return bad(prefix + (has_cert ? "client-key" : "client-certificate"),
                 std::string("required with ") + (has_cert ? "client-certificate" : "client-key"));
    if (has_cert) {
      std::string error;
      auto certs = net::tls::readPemCertificates(creds.client_cert_pem, error);
      if (!error.empty() || certs.empty()) return bad(prefix + "client-certificate", error.empty() ? "holds no PEM certificate" : error);
      auto key = net::tls::readPemPrivateKey(creds.client_key_pem, error);
      if (!key) return bad(prefix + "client-key", error.empty() ? "holds no PEM private key" : error);
      if (X509_check_private_key(certs.front().get(), key.get()) != 1)
        return bad(prefix + "client-key", "does not match client-certificate");
    }
    return true;
  }

  std::string path_;
  std::string error_;
};

}  // namespace

std::string ApiServerAddress::url() const {
  bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + port + path_prefix;
}

std::optional<ApiServerAddress> parseServerUrl(const std::string& url, std::string& error) {
  ApiServerAddress a;
  size_t sep = url.find("://");
  if (sep == std::string::npos) {
    error = "\"" + url + "\" is not a URL (expected https://host:port)";
    return std::nullopt;
  }
  a.scheme = url.substr(0, sep);
  if (a.scheme != "https" && a.scheme != "http") {
    error = "scheme \"" + a.scheme + "\" is not supported (https or http)";
    return std::nullopt;
  }
  std::string rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) a.path_prefix = rest.substr(slash);
  while (!a.path_prefix.empty() && a.path_prefix.back() == '/') a.path_prefix.pop_back();
  if (authority.find('@') != std::string::npos || a.path_prefix.find_first_of("?#") != std::string::npos) {
    error = "\"" + url + "\": user info, query and fragment are not supported";
    return std::nullopt;
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) {
      error = "\"" + url + "\": unclosed '[' in the host";
      return std::nullopt;
    }
    a.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        error = "\"" + url + "\": expected ':' after ']'";
        return std::nullopt;
      }
      port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.find(':');
    a.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (a.host.empty()) {
    error = "\"" + url + "\" has no host";
    return std::nullopt;
  }
  if (port.empty()) port = a.scheme == "https" ? "443" : "80";
  char* end = nullptr;
  long n = std::strtol(port.c_str(), &end, 10);
  if (*end != '\0' || n < 1 || n > 65535) {
    error = "\"" + url + "\": port \"" + port + "\" is not a number from 1 to 65535";
    return std::nullopt;
  }
  a.port = port;
  return a;
}

CredentialsResult parseKubeconfig(const std::string& text, const std::string& path, const std::string& context) {
  return KubeconfigReader(path).read(text, context);
}

CredentialsResult loadKubeconfig(const std::string& path, const std::string& context) {
  std::string error;
  auto text = readConfigFile(path, kMaxCredentialFile, error);
  if (!text) return {std::nullopt, "kubeconfig " + path + ": " + error};
  return parseKubeconfig(*text, path, context);
}

InClusterEnvironment InClusterEnvironment::fromProcess() {
  InClusterEnvironment env;
  if (const char* h = std::getenv("KUBERNETES_SERVICE_HOST")) env.host = h;
  if (const char* p = std::getenv("KUBERNETES_SERVICE_PORT")) env.port = p;
  return env;
}

CredentialsResult inClusterCredentials(const InClusterEnvironment& env) {
  auto fail = [](const std::string& message) { return CredentialsResult{std::nullopt, "in-cluster config: " + message}; };
  if (env.host.empty() || env.port.empty())
    return fail("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not running in a pod? use --kubeconfig)");
  std::string error;
  bool v6 = env.host.find(':') != std::string::npos;
  auto address = parseServerUrl("https://" + (v6 ? "[" + env.host + "]" : env.host) + ":" + env.port, error);
  if (!address) return fail("KUBERNETES_SERVICE_HOST/PORT: " + error);
  KubeCredentials creds;
  creds.server = *address;
  creds.origin = "in-cluster";
  creds.token_file = env.root + "/token";
  auto token = readConfigFile(creds.token_file, kMaxCredentialFile, error);
  if (!token) return fail(creds.token_file + ": " + error);
  if (trim(*token).empty()) return fail(creds.token_file + ": empty token");
  std::string ca_file = env.root + "/ca.crt";
  auto ca = readConfigFile(ca_file, kMaxCredentialFile, error);
  if (!ca) return fail(ca_file + ": " + error);
  auto certs = net::tls::readPemCertificates(*ca, error);
  if (!error.empty() || certs.empty()) return fail(ca_file + ": " + (error.empty() ? "holds no PEM certificate" : error));
  creds.ca_pem = std::move(*ca);
  if (auto ns = readConfigFile(env.root + "/namespace", kMaxCredentialFile, error)) creds.namespace_ = trim(*ns);
  return CredentialsResult{std::move(creds), ""};
}

std::optional<std::string> currentToken(const KubeCredentials& credentials, std::string& error) {
  if (credentials.token_file.empty()) return credentials.token;
  auto token = readConfigFile(credentials.token_file, kMaxCredentialFile, error);
  if (!token) {
    error = "token file " + credentials.token_file + ": " + error;
    return std::nullopt;
  }
  return trim(std::move(*token));
}

CredentialsResult resolveCredentials(const std::string& kubeconfig_path, const std::string& context) {
  if (!kubeconfig_path.empty()) return loadKubeconfig(kubeconfig_path, context);
  return inClusterCredentials(InClusterEnvironment::fromProcess());
}

}  // namespace monomesh::config::kube
