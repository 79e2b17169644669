// Shared fixtures for the injection tests: an injector with kube-inject's defaults and
// helpers to reach into injected objects.
#pragma once
#include <boost/test/unit_test.hpp>
#include <string>

#include "galley/injection/injector.h"
#include "galley/injection/json_node.h"

namespace monomesh::galley::injection::testing {

inline Injector chartInjector(InjectionConfig config = defaultInjectionConfig()) {
  return Injector(std::move(config), chartMeshConfig());
}

inline YAML::Node parse(const std::string& text) { return YAML::Load(text); }

// A container (or volume) by name in a list; an undefined node when absent.
inline YAML::Node named(const YAML::Node& list, const std::string& name) {
  if (list.IsSequence())
    for (const auto& item : list)
      if (stringValue(item["name"]) == name) return item;
  return YAML::Node(YAML::NodeType::Undefined);
}

inline std::vector<std::string> stringList(const YAML::Node& list) {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item.Scalar());
  return out;
}

// The value after `flag` in an argument list ("" when absent).
inline std::string argAfter(const YAML::Node& args, const std::string& flag) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i].Scalar() == flag) return args[i + 1].Scalar();
  return "";
}

inline const char* const kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: details-v1
  namespace: bookinfo
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app: details
        version: v1
    spec:
      containers:
      - name: details
        image: istio/examples-bookinfo-details-v1:1.10.1
        ports:
        - containerPort: 9080
)";

// A Pod whose template parts can be adjusted by string substitution in tests.
inline std::string pod(const std::string& annotations = "", const std::string& spec_extra = "") {
  std::string text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\n  labels:\n    app: web\n";
  if (!annotations.empty()) text += "  annotations:\n" + annotations;
  text += "spec:\n" + spec_extra +
          "  containers:\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 80\n    - containerPort: 443\n";
  return text;
}

}  // namespace monomesh::galley::injection::testing
