#include "galley/injection/injection_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/mesh_config.h"
#include "galley/injection/json_node.h"
#include "observe/build_info.h"

namespace monomesh::galley::injection {

namespace mesh = istio::mesh::v1alpha1;

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [key, value] : match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    bool listed = it != labels.end() && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    if (r.op == "In" && !listed) return false;
    if (r.op == "NotIn" && listed) return false;
    if (r.op == "Exists" && it == labels.end()) return false;
    if (r.op == "DoesNotExist" && it != labels.end()) return false;
  }
  return true;
}

InjectionConfig defaultInjectionConfig() {
  InjectionConfig c;
  c.values.tag = observe::buildInfo().version;
  return c;
}

namespace {

// Reads one YAML document into the config, collecting every problem with its position.
class ConfigReader {
 public:
  explicit ConfigReader(std::string file) : file_(std::move(file)) {}

  void fail(const YAML::Node& at, const std::string& path, const std::string& message) {
    auto mark = at.Mark();
    errors_.push_back(config::ConfigError{config::SourcePosition{file_, mark.line + 1, mark.column + 1}, "", path, message});
  }

  bool string(const YAML::Node& n, const std::string& path, std::string& out) {
    if (!n.IsScalar() || jsonKind(n) != JsonKind::String) {
      fail(n, path, "expected a string");
      return false;
    }
    out = n.Scalar();
    return true;
  }

  template <class Int>
  void integer(const YAML::Node& n, const std::string& path, Int& out, long long min, long long max) {
    if (!n.IsScalar() || jsonKind(n) != JsonKind::Number) return fail(n, path, "expected an integer");
    try {
      size_t used = 0;
      long long v = std::stoll(n.Scalar(), &used);
      if (used != n.Scalar().size() || v < min || v > max) throw std::out_of_range("range");
      out = static_cast<Int>(v);
    } catch (const std::exception&) {
      fail(n, path, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
  }

  void flag(const YAML::Node& n, const std::string& path, bool& out) {
    if (!n.IsScalar() || jsonKind(n) != JsonKind::Bool) return fail(n, path, "expected true or false");
    out = n.Scalar()[0] == 't' || n.Scalar()[0] == 'T';
  }

  void strings(const YAML::Node& n, const std::string& path, std::vector<std::string>& out) {
    if (!n.IsSequence()) return fail(n, path, "expected a list of strings");
    out.clear();
    for (size_t i = 0; i < n.size(); ++i) {
      std::string s;
      if (string(n[i], path + "[" + std::to_string(i) + "]", s)) out.push_back(s);
    }
  }

  bool object(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) return true;
    fail(n, path, "expected an object");
    return false;
  }

  void selector(const YAML::Node& n, const std::string& path, LabelSelector& out) {
    if (!object(n, path)) return;
    for (const auto& e : n) {
      const std::string key = e.first.Scalar();
      const std::string sub = path + "." + key;
      if (key == "matchLabels") {
        if (!object(e.second, sub)) continue;
        for (const auto& l : e.second) {
          std::string v;
          if (string(l.second, sub + "." + l.first.Scalar(), v)) out.match_labels[l.first.Scalar()] = v;
        }
      } else if (key == "matchExpressions") {
        if (!e.second.IsSequence()) {
          fail(e.second, sub, "expected a list");
          continue;
        }
        for (size_t i = 0; i < e.second.size(); ++i) requirement(e.second[i], sub + "[" + std::to_string(i) + "]", out);
      } else {
        fail(e.first, sub, "unknown field (a LabelSelector has matchLabels and matchExpressions)");
      }
    }
  }

  void requirement(const YAML::Node& n, const std::string& path, LabelSelector& out) {
    if (!object(n, path)) return;
    LabelSelector::Requirement r;
    for (const auto& e : n) {
      const std::string key = e.first.Scalar();
      if (key == "key") {
        string(e.second, path + ".key", r.key);
      } else if (key == "operator") {
        string(e.second, path + ".operator", r.op);
      } else if (key == "values") {
        strings(e.second, path + ".values", r.values);
      } else {
        fail(e.first, path + "." + key, "unknown field");
      }
    }
    bool with_values = r.op == "In" || r.op == "NotIn";
    if (r.key.empty()) fail(n, path + ".key", "required");
    if (!with_values && r.op != "Exists" && r.op != "DoesNotExist") {
      fail(n, path + ".operator", "\"" + r.op + "\" is not one of In, NotIn, Exists, DoesNotExist");
    } else if (with_values == r.values.empty()) {
      fail(n, path + ".values", with_values ? "In and NotIn need values" : "Exists and DoesNotExist take no values");
    }
    out.match_expressions.push_back(r);
  }

  void resources(const YAML::Node& n, const std::string& path, SidecarValues& v) {
    if (!object(n, path)) return;
    for (const auto& e : n) {
      const std::string key = e.first.Scalar();
      const std::string sub = path + "." + key;
      if ((key != "requests" && key != "limits") || !object(e.second, sub)) {
        if (key != "requests" && key != "limits") fail(e.first, sub, "unknown field (requests or limits)");
        continue;
      }
      for (const auto& q : e.second) {
        const std::string name = q.first.Scalar();
        std::string* target = name == "cpu"      ? (key == "requests" ? &v.requests_cpu : &v.limits_cpu)
                              : name == "memory" ? (key == "requests" ? &v.requests_memory : &v.limits_memory)
                                                 : nullptr;
        if (!target) {
          fail(q.first, sub + "." + name, "unknown resource (cpu or memory)");
        } else if (q.second.IsScalar() && jsonKind(q.second) == JsonKind::Number) {
          *target = q.second.Scalar();  // `cpu: 1` is a quantity too
        } else {
          string(q.second, sub + "." + name, *target);
        }
      }
    }
  }

  void values(const YAML::Node& n, SidecarValues& v) {
    if (!object(n, "values")) return;
    const std::map<std::string, std::string*> strings_by_key = {
        {"hub", &v.hub}, {"tag", &v.tag}, {"proxyImage", &v.proxy_image}, {"initImage", &v.init_image},
        {"imagePullPolicy", &v.image_pull_policy}, {"clusterDomain", &v.cluster_domain},
        {"includeIPRanges", &v.include_ip_ranges}, {"excludeIPRanges", &v.exclude_ip_ranges},
        {"includeInboundPorts", &v.include_inbound_ports}, {"excludeInboundPorts", &v.exclude_inbound_ports},
        {"kubevirtInterfaces", &v.kubevirt_interfaces}, {"network", &v.network}, {"trustDomain", &v.trust_domain},
        {"istioVersion", &v.istio_version}};
    for (const auto& e : n) {
      const std::string key = e.first.Scalar();
      const std::string path = "values." + key;
      if (auto it = strings_by_key.find(key); it != strings_by_key.end()) {
        string(e.second, path, *it->second);
      } else if (key == "initCommand") {
        strings(e.second, path, v.init_command);
      } else if (key == "proxyCommand") {
        strings(e.second, path, v.proxy_command);
      } else if (key == "statusPort") {
        integer(e.second, path, v.status_port, 0, 65535);
      } else if (key == "readinessInitialDelaySeconds") {
        integer(e.second, path, v.readiness_initial_delay_seconds, 0, 4294967295LL);
      } else if (key == "readinessPeriodSeconds") {
        integer(e.second, path, v.readiness_period_seconds, 0, 4294967295LL);
      } else if (key == "readinessFailureThreshold") {
        integer(e.second, path, v.readiness_failure_threshold, 0, 4294967295LL);
      } else if (key == "resources") {
        resources(e.second, path, v);
      } else if (key == "privileged") {
        flag(e.second, path, v.privileged);
      } else if (key == "enableCoreDump") {
        flag(e.second, path, v.enable_core_dump);
      } else {
        fail(e.first, path, "unknown field");
      }
    }
    if (v.proxy_command.empty()) fail(n, "values.proxyCommand", "the proxy container needs a command");
  }

  void selectors(const YAML::Node& n, const std::string& path, std::vector<LabelSelector>& out) {
    if (!n.IsSequence()) return fail(n, path, "expected a list of label selectors");
    for (size_t i = 0; i < n.size(); ++i) {
      LabelSelector s;
      selector(n[i], path + "[" + std::to_string(i) + "]", s);
      out.push_back(s);
    }
  }

  void read(const YAML::Node& root, InjectionConfig& out, std::vector<std::string>& notes) {
    if (!root.IsDefined() || root.IsNull()) return;
    if (!object(root, "")) return;
    for (const auto& e : root) {
      const std::string key = e.first.Scalar();
      if (key == "policy") {
        std::string policy;
        if (!string(e.second, key, policy)) continue;
        if (policy == "enabled") {
          out.policy = InjectionPolicy::Enabled;
        } else if (policy == "disabled") {
          out.policy = InjectionPolicy::Disabled;
        } else {
          fail(e.second, key, "\"" + policy + "\" is not enabled or disabled");
        }
      } else if (key == "neverInjectSelector") {
        selectors(e.second, key, out.never_inject_selector);
      } else if (key == "alwaysInjectSelector") {
        selectors(e.second, key, out.always_inject_selector);
      } else if (key == "values") {
        values(e.second, out.values);
      } else if (key == "template") {
        notes.push_back(file_ + ":" + std::to_string(e.first.Mark().line + 1) +
                        ": note: Istio's Go template is not run; the sidecar comes from `values`");
      } else {
        fail(e.first, key, "unknown field (policy, neverInjectSelector, alwaysInjectSelector, values, template)");
      }
    }
  }

  config::ConfigErrors take() { return std::move(errors_); }

 private:
  std::string file_;
  config::ConfigErrors errors_;
};

void setSeconds(google::protobuf::Duration* d, int64_t seconds) {
  d->set_seconds(seconds);
  d->set_nanos(0);
}

}  // namespace

config::ConfigErrors readInjectionConfig(const std::string& text, const std::string& file, InjectionConfig& out,
                                         std::vector<std::string>& notes) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return {config::ConfigError{config::SourcePosition{file, e.mark.line + 1, e.mark.column + 1}, "", "",
                                "invalid YAML: " + e.msg}};
  }
  ConfigReader reader(file);
  reader.read(root, out, notes);
  return reader.take();
}

config::ConfigErrors readInjectionConfigFile(const std::string& path, InjectionConfig& out,
                                             std::vector<std::string>& notes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {config::ConfigError{config::SourcePosition{path, 0, 0}, "", "", "cannot read the injection config file"}};
  std::stringstream ss;
  ss << in.rdbuf();
  return readInjectionConfig(ss.str(), path, out, notes);
}

mesh::MeshConfig chartMeshConfig() {
  mesh::MeshConfig m = config::defaultMeshConfig();
  m.set_access_log_file("");
  auto* proxy = m.mutable_default_config();
  setSeconds(proxy->mutable_connect_timeout(), 10);
  proxy->set_discovery_address("istio-pilot.istio-system:15010");
  proxy->set_concurrency(2);
  proxy->mutable_tracing()->mutable_zipkin()->set_address("zipkin.istio-system:9411");
  return m;
}

}  // namespace monomesh::galley::injection
