#include "demo/app_instance.h"

#include <cctype>
#include <set>

namespace monomesh::demo {

using std::chrono::milliseconds;

milliseconds bookinfoTimeout(const AppInstance& caller, const std::string& dependency) {
  if (caller.service == "reviews" && dependency == "ratings")
    return caller.version == "v2" ? milliseconds(10000) : milliseconds(2500);
  return milliseconds(3000);  // productpage's requests.get(..., timeout=3.0)
}

unsigned bookinfoAttempts(const AppInstance& caller, const std::string& dependency) {
  return caller.service == "productpage" && dependency == "reviews" ? 2 : 1;
}

Upstream effectiveUpstream(const AppInstance& caller, const std::string& dependency) {
  Upstream out;
  if (auto it = caller.upstreams.find(dependency); it != caller.upstreams.end()) out = it->second;
  if (out.host.empty()) out.host = dependency + ":9080";
  if (out.timeout.count() <= 0) out.timeout = bookinfoTimeout(caller, dependency);
  if (out.attempts == 0) out.attempts = bookinfoAttempts(caller, dependency);
  return out;
}

std::vector<std::string> requiredDependencies(const AppInstance& instance) {
  if (instance.service == "productpage") return {"details", "reviews"};
  if (instance.service == "reviews" && instance.version != "v1") return {"ratings"};
  return {};
}

std::vector<std::string> optionalDependencies(const AppInstance& instance) {
  if (instance.service == "productpage") return {"ratings"};
  return {};
}

namespace {

bool validHost(const std::string& host) {
  if (host.size() > 255) return false;
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' ||
          c == ']' || c == '_'))
      return false;
  return true;
}

}  // namespace

std::string validateInstance(const AppInstance& instance) {
  static const std::set<std::string> services = {"productpage", "details", "reviews", "ratings"};
  if (!services.count(instance.service))
    return "service: \"" + instance.service + "\" is not one of productpage, details, reviews, ratings";
  if (instance.service == "reviews") {
    if (instance.version != "v1" && instance.version != "v2" && instance.version != "v3")
      return "version: reviews comes in v1, v2 and v3, not \"" + instance.version + "\"";
  } else if (instance.version.empty()) {
    return "version: empty (bookinfo's " + instance.service + " is v1)";
  }
  std::string name = instance.instanceName();
  if (name.size() > 128 || !validHost(name) || name.find(':') != std::string::npos)
    return "name: \"" + name + "\" must be at most 128 letters, digits, '.', '-' or '_'";
  for (const auto& dependency : requiredDependencies(instance))
    if (!instance.upstreams.count(dependency))
      return "upstreams." + dependency + ": " + instance.instanceName() + " calls " + dependency +
             " but has no address for it";
  std::set<std::string> allowed;
  for (const auto& dependency : requiredDependencies(instance)) allowed.insert(dependency);
  for (const auto& dependency : optionalDependencies(instance)) allowed.insert(dependency);
  for (const auto& [dependency, upstream] : instance.upstreams) {
    if (!allowed.count(dependency))
      return "upstreams." + dependency + ": " + instance.instanceName() + " never calls " + dependency;
    if (upstream.address.port() == 0)
      return "upstreams." + dependency + ".address: port 0 cannot be reached";
    if (!validHost(upstream.host))
      return "upstreams." + dependency + ".host: \"" + upstream.host + "\" is not a host[:port]";
    if (upstream.attempts > 10) return "upstreams." + dependency + ".attempts: at most 10";
  }
  if (instance.limits.max_header_bytes < 1024 || instance.limits.max_body_bytes == 0)
    return "limits: max_header_bytes must be at least 1024 and max_body_bytes above 0";
  if (instance.limits.max_connections == 0) return "limits.max_connections: must be above 0";
  return {};
}

}  // namespace monomesh::demo
