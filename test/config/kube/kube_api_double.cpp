#include "kube_api_double.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace monomesh::config::kube::testing {

namespace {

const char* kPython = "/usr/bin/python3";
const std::string kScript = std::string(MONOMESH_SOURCE_DIR) + "/test/config/kube/kube_api_server.py";

}  // namespace

KubeApiDouble::KubeApiDouble(const std::string& dir, const std::string& token) {
  signal(SIGPIPE, SIG_IGN);  // a double that died must fail the test, not kill it
  int in[2], out[2];
  BOOST_REQUIRE(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
  pid_ = fork();
  BOOST_REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    execl(kPython, "python3", kScript.c_str(), "--dir", dir.c_str(), "--token", token.c_str(), nullptr);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_child_ = in[1];
  from_child_ = out[0];
  YAML::Node hello = YAML::Load(readLine());
  port_ = hello["port"].as<int>();
  ca_ = hello["ca"].as<std::string>();
  client_cert_ = hello["client_cert"].as<std::string>();
  client_key_ = hello["client_key"].as<std::string>();
}

KubeApiDouble::~KubeApiDouble() {
  if (to_child_ >= 0) {
    std::string quit = "{\"op\":\"quit\"}\n";
    (void)!write(to_child_, quit.data(), quit.size());
    close(to_child_);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);  // our own child, by its id
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (from_child_ >= 0) close(from_child_);
}

std::string KubeApiDouble::readLine() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (;;) {
    size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    BOOST_REQUIRE_MESSAGE(left.count() > 0, "the API-server double did not answer within 15 s");
    pollfd p{from_child_, POLLIN, 0};
    if (poll(&p, 1, int(left.count())) <= 0) continue;
    char chunk[4096];
    ssize_t n = read(from_child_, chunk, sizeof chunk);
    BOOST_REQUIRE_MESSAGE(n > 0, "the API-server double exited (see its stderr above)");
    buffered_.append(chunk, size_t(n));
  }
}

YAML::Node KubeApiDouble::command(const std::string& json) {
  std::string line = json + "\n";
  BOOST_REQUIRE(write(to_child_, line.data(), line.size()) == ssize_t(line.size()));
  std::string text = readLine();
  YAML::Node reply = YAML::Load(text);
  BOOST_REQUIRE_MESSAGE(reply.IsMap() && !reply["error"], "double: " << json << " -> " << text);
  return reply;
}

std::string KubeApiDouble::put(const std::string& object_json) {
  return command("{\"op\":\"put\",\"object\":" + object_json + "}")["rv"].as<std::string>();
}

std::string KubeApiDouble::remove(const std::string& api_version, const std::string& kind, const std::string& ns,
                                  const std::string& name) {
  return command("{\"op\":\"delete\",\"apiVersion\":\"" + api_version + "\",\"kind\":\"" + kind + "\",\"namespace\":\"" +
                 ns + "\",\"name\":\"" + name + "\"}")["rv"].as<std::string>();
}

int KubeApiDouble::lists(const std::string& path) {
  YAML::Node n = command("{\"op\":\"stats\"}")["lists"][path];
  return n ? n.as<int>() : 0;
}

int KubeApiDouble::watches(const std::string& path) {
  YAML::Node n = command("{\"op\":\"stats\"}")["watches"][path];
  return n ? n.as<int>() : 0;
}

std::string KubeApiDouble::kubeconfig(const std::string& token, const std::string& server_name) const {
  return "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
         "contexts: [{name: test, context: {cluster: double, user: tester}}]\n"
         "clusters:\n- name: double\n  cluster:\n    server: https://127.0.0.1:" + std::to_string(port_) +
         "\n    certificate-authority: " + ca_ + "\n" +
         (server_name.empty() ? "" : "    tls-server-name: " + server_name + "\n") +
         "users: [{name: tester, user: {token: \"" + token + "\"}}]\n";
}

std::string serviceJson(const std::string& name, const std::string& ns, int port) {
  return R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")" + name + R"(","namespace":")" + ns +
         R"("},"spec":{"ports":[{"name":"http","port":)" + std::to_string(port) + "}]}}";
}

std::string virtualServiceJson(const std::string& name, const std::string& host, const std::string& ns) {
  return R"({"apiVersion":"networking.istio.io/v1alpha3","kind":"VirtualService","metadata":{"name":")" + name +
         R"(","namespace":")" + ns + R"("},"spec":{"hosts":[")" + host +
         R"("],"http":[{"route":[{"destination":{"host":")" + host + R"("}}]}]}})";
}

}  // namespace monomesh::config::kube::testing
