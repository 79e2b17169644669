#include "config/kube/kube_list_page.h"

#include <yaml-cpp/yaml.h>

#include "config/yaml_proto_reader.h"

namespace monomesh::config::kube {

ListPageParse parseListPage(std::string_view body, const Schema& schema, const LoadOptions& options,
                            const std::string& origin) {
  ListPageParse out;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(body));
  } catch (const YAML::Exception& e) {
    out.error = "malformed list response (line " + std::to_string(e.mark.line + 1) + ", column " +
                std::to_string(e.mark.column + 1) + "): " + e.msg;
    return out;
  }
  if (!root.IsMap()) {
    out.error = "malformed list response: expected a JSON object";
    return out;
  }
  YAML::Node kind = root["kind"];
  std::string expected = schema.kind + "List";
  if (kind.IsDefined() && (!kind.IsScalar() || kind.Scalar() != expected)) {
    out.error = "expected a " + expected + ", got " + (kind.IsScalar() ? kind.Scalar() : describeNode(kind));
    return out;
  }
  YAML::Node metadata = root["metadata"];
  YAML::Node rv = metadata.IsMap() ? metadata["resourceVersion"] : YAML::Node();
  if (!rv.IsDefined() || !rv.IsScalar() || rv.Scalar().empty()) {
    out.error = expected + " without metadata.resourceVersion";
    return out;
  }
  ListPage page;
  page.resource_version = rv.Scalar();
  if (YAML::Node token = metadata["continue"]; token.IsDefined() && token.IsScalar()) page.continue_token = token.Scalar();
  YAML::Node items = root["items"];
  if (items.IsDefined() && !items.IsNull() && !items.IsSequence()) {
    out.error = expected + ".items: expected a list, got " + describeNode(items);
    return out;
  }
  if (items.IsSequence())
    for (const auto& item : items) page.items.push_back(convertObject(item, schema, options, origin));
  out.page = std::move(page);
  return out;
}

}  // namespace monomesh::config::kube
