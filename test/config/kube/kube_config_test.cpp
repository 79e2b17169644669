// Kubeconfig and in-cluster credentials: what is read from each field, and an error naming the
// field for everything missing or malformed.
#include <boost/test/unit_test.hpp>
#include <openssl/evp.h>

#include "config/kube/kube_config.h"
#include "net/test_certs.h"
#include "temp_dir.h"

using namespace monomesh::config::kube;
using monomesh::testing::TempDir;

namespace {

std::string base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), int(data.size()));
  out.resize(size_t(n));
  return out;
}

struct Certs {
  monomesh::net::tls::testing::TestCa ca;
  monomesh::net::tls::testing::CertAndKey client = ca.issue({.common_name = "admin"});
};
const Certs& certs() {
  static Certs c;
  return c;
}

// A kubeconfig with one context; `cluster` and `user` are the bodies of its entries.
std::string kubeconfig(const std::string& cluster, const std::string& user) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
         "contexts:\n- name: dev\n  context: {cluster: c1, user: u1, namespace: istio-system}\n"
         "clusters:\n- name: c1\n  cluster:\n" + cluster +
         "users:\n- name: u1\n  user:\n" + user;
}

std::string errorOf(const std::string& cluster, const std::string& user) {
  auto result = parseKubeconfig(kubeconfig(cluster, user), "/home/me/.kube/config");
  BOOST_TEST(!result.credentials.has_value());
  return result.error;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(kube_config)

BOOST_AUTO_TEST_CASE(token_and_inline_ca) {
  auto result = parseKubeconfig(
      kubeconfig("    server: https://10.0.0.1:6443\n    certificate-authority-data: " + base64(certs().ca.certPem()) + "\n",
                 "    token: abc.def\n"),
      "/home/me/.kube/config");
  BOOST_REQUIRE_MESSAGE(result.credentials, result.error);
  const KubeCredentials& c = *result.credentials;
  BOOST_TEST(c.server.scheme == "https");
  BOOST_TEST(c.server.host == "10.0.0.1");
  BOOST_TEST(c.server.port == "6443");
  BOOST_TEST(c.ca_pem == certs().ca.certPem());
  BOOST_TEST(c.token == "abc.def");
  BOOST_TEST(c.namespace_ == "istio-system");
  BOOST_TEST(contains(c.origin, "context \"dev\""));
  std::string error;
  BOOST_TEST(*currentToken(c, error) == "abc.def");
}

BOOST_AUTO_TEST_CASE(files_relative_to_the_kubeconfig) {
  TempDir dir;
  dir.write("kube/ca.crt", certs().ca.certPem());
  dir.write("kube/admin.crt", certs().client.cert_pem);
  dir.write("kube/admin.key", certs().client.key_pem);
  dir.write("kube/token", "from-file\n");
  std::string path = dir.write("kube/config", kubeconfig("    server: https://kube.example\n    certificate-authority: ca.crt\n",
                                                         "    client-certificate: admin.crt\n    client-key: admin.key\n"
                                                         "    tokenFile: token\n"));
  auto result = loadKubeconfig(path);
  BOOST_REQUIRE_MESSAGE(result.credentials, result.error);
  const KubeCredentials& c = *result.credentials;
  BOOST_TEST(c.server.port == "443");
  BOOST_TEST(c.client_cert_pem == certs().client.cert_pem);
  BOOST_TEST(c.client_key_pem == certs().client.key_pem);
  std::string error;
  BOOST_TEST(*currentToken(c, error) == "from-file");  // re-read and trimmed
  dir.write("kube/token", "rotated");
  BOOST_TEST(*currentToken(c, error) == "rotated");
  dir.remove("kube/token");
  BOOST_TEST(!currentToken(c, error));
  BOOST_TEST(contains(error, "token file"));
}

BOOST_AUTO_TEST_CASE(client_certificate_data_and_insecure) {
  auto result = parseKubeconfig(
      kubeconfig("    server: https://[fd00::1]:8443/k8s/\n    insecure-skip-tls-verify: true\n    tls-server-name: api\n",
                 "    client-certificate-data: " + base64(certs().client.cert_pem) + "\n    client-key-data: " +
                     base64(certs().client.key_pem) + "\n"),
      "cfg");
  BOOST_REQUIRE_MESSAGE(result.credentials, result.error);
  BOOST_TEST(result.credentials->server.host == "fd00::1");
  BOOST_TEST(result.credentials->server.path_prefix == "/k8s");
  BOOST_TEST(result.credentials->server.url() == "https://[fd00::1]:8443/k8s");
  BOOST_TEST(result.credentials->insecure_skip_tls_verify);
  BOOST_TEST(result.credentials->tls_server_name == "api");
}

BOOST_AUTO_TEST_CASE(context_override) {
  std::string text =
      "current-context: dev\n"
      "contexts: [{name: dev, context: {cluster: a, user: u}}, {name: prod, context: {cluster: b, user: u}}]\n"
      "clusters: [{name: a, cluster: {server: 'https://a:1'}}, {name: b, cluster: {server: 'https://b:2'}}]\n"
      "users: [{name: u, user: {token: t}}]\n";
  BOOST_TEST(parseKubeconfig(text, "cfg").credentials->server.host == "a");
  BOOST_TEST(parseKubeconfig(text, "cfg", "prod").credentials->server.host == "b");
  BOOST_TEST(contains(parseKubeconfig(text, "cfg", "staging").error, "context \"staging\" is not in contexts"));
}

BOOST_AUTO_TEST_CASE(every_missing_or_bad_field_is_named) {
  const std::string server = "    server: https://a:6443\n", token = "    token: t\n";
  BOOST_TEST(contains(errorOf("    certificate-authority-data: x\n", token), "clusters[name=\"c1\"].cluster.server: required"));
  BOOST_TEST(contains(errorOf("    server: a:6443\n", token), "cluster.server: \"a:6443\" is not a URL"));
  BOOST_TEST(contains(errorOf("    server: ftp://a\n", token), "cluster.server: scheme \"ftp\" is not supported"));
  BOOST_TEST(contains(errorOf("    server: https://a:99999\n", token), "port \"99999\""));
  BOOST_TEST(contains(errorOf(server + "    certificate-authority-data: '*not base64*'\n", token),
                      "cluster.certificate-authority-data: not valid base64"));
  BOOST_TEST(contains(errorOf(server + "    certificate-authority-data: " + base64("hello") + "\n", token),
                      "cluster.certificate-authority-data: holds no PEM certificate"));
  BOOST_TEST(contains(errorOf(server + "    certificate-authority: /nonexistent/ca.crt\n", token),
                      "cluster.certificate-authority: /nonexistent/ca.crt: cannot read"));
  BOOST_TEST(contains(errorOf(server + "    insecure-skip-tls-verify: maybe\n", token),
                      "cluster.insecure-skip-tls-verify: expected true or false"));
  BOOST_TEST(contains(errorOf(server, "    client-certificate-data: " + base64(certs().client.cert_pem) + "\n"),
                      "users[name=\"u1\"].user.client-key: required with client-certificate"));
  BOOST_TEST(contains(errorOf(server, "    client-key-data: " + base64(certs().client.key_pem) + "\n"),
                      "user.client-certificate: required with client-key"));
  BOOST_TEST(contains(errorOf(server, "    client-certificate-data: " + base64(certs().client.cert_pem) +
                                          "\n    client-key-data: " + base64(monomesh::net::tls::testing::newKeyPem()) + "\n"),
                      "user.client-key: does not match client-certificate"));
  BOOST_TEST(contains(errorOf(server, "    tokenFile: /nonexistent/token\n"), "user.tokenFile: /nonexistent/token: cannot read"));
  BOOST_TEST(contains(errorOf(server, "    exec: {command: aws}\n"), "user.exec: not supported"));
  BOOST_TEST(contains(errorOf(server, "    auth-provider: {name: gcp}\n"), "user.auth-provider: not supported"));

  auto no_context = parseKubeconfig("apiVersion: v1\nclusters: []\n", "cfg");
  BOOST_TEST(contains(no_context.error, "kubeconfig cfg: current-context: not set"));
  auto dangling = parseKubeconfig("current-context: x\ncontexts: [{name: x, context: {cluster: nope}}]\n", "cfg");
  BOOST_TEST(contains(dangling.error, "clusters: no cluster named \"nope\""));
  auto no_cluster = parseKubeconfig("current-context: x\ncontexts: [{name: x, context: {user: u}}]\n", "cfg");
  BOOST_TEST(contains(no_cluster.error, "contexts[name=\"x\"].context.cluster: required"));
  auto bad_yaml = parseKubeconfig("current-context: [x\n", "cfg");
  BOOST_TEST(contains(bad_yaml.error, "invalid YAML"));
  auto not_a_map = parseKubeconfig("- a\n", "cfg");
  BOOST_TEST(contains(not_a_map.error, "expected a mapping"));
  auto unreadable = loadKubeconfig("/nonexistent/kubeconfig");
  BOOST_TEST(contains(unreadable.error, "kubeconfig /nonexistent/kubeconfig: cannot read"));
}

BOOST_AUTO_TEST_CASE(anonymous_user) {
  auto result = parseKubeconfig(
      "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
      "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:8001'}}]\nusers: [{name: u, user: {}}]\n",
      "cfg");
  BOOST_REQUIRE_MESSAGE(result.credentials, result.error);
  BOOST_TEST(result.credentials->server.scheme == "http");
  BOOST_TEST(result.credentials->token.empty());
}

BOOST_AUTO_TEST_CASE(in_cluster_reads_the_service_account) {
  TempDir dir;
  dir.write("sa/token", "pod-token\n");
  dir.write("sa/ca.crt", certs().ca.certPem());
  dir.write("sa/namespace", "istio-system\n");
  InClusterEnvironment env{"10.96.0.1", "443", dir.file("sa")};
  auto result = inClusterCredentials(env);
  BOOST_REQUIRE_MESSAGE(result.credentials, result.error);
  BOOST_TEST(result.credentials->server.url() == "https://10.96.0.1:443");
  BOOST_TEST(result.credentials->namespace_ == "istio-system");
  BOOST_TEST(result.credentials->origin == "in-cluster");
  std::string error;
  BOOST_TEST(*currentToken(*result.credentials, error) == "pod-token");

  InClusterEnvironment v6{"fd00::1", "6443", dir.file("sa")};
  BOOST_TEST(inClusterCredentials(v6).credentials->server.host == "fd00::1");
}

BOOST_AUTO_TEST_CASE(in_cluster_errors) {
  TempDir dir;
  BOOST_TEST(contains(inClusterCredentials({"", "", dir.path}).error, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT"));
  BOOST_TEST(contains(inClusterCredentials({"10.0.0.1", "x", dir.path}).error, "port \"x\""));
  BOOST_TEST(contains(inClusterCredentials({"10.0.0.1", "443", dir.path}).error, dir.path + "/token: cannot read"));
  dir.write("token", "  \n");
  BOOST_TEST(contains(inClusterCredentials({"10.0.0.1", "443", dir.path}).error, "empty token"));
  dir.write("token", "t");
  BOOST_TEST(contains(inClusterCredentials({"10.0.0.1", "443", dir.path}).error, dir.path + "/ca.crt: cannot read"));
  dir.write("ca.crt", "not a certificate");
  BOOST_TEST(contains(inClusterCredentials({"10.0.0.1", "443", dir.path}).error, "ca.crt: holds no PEM certificate"));
  dir.write("ca.crt", certs().ca.certPem());
  BOOST_TEST(inClusterCredentials({"10.0.0.1", "443", dir.path}).credentials.has_value());  // namespace is optional
}

BOOST_AUTO_TEST_SUITE_END()
