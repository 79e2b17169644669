#include "config/kube/kube_list_page.h"

#include "config/yaml/yaml_parser.h"
#include "config/yaml_proto_reader.h"

namespace monomesh::config::kube {

ListPageParse parseListPage(std::string_view body, const Schema& schema, const LoadOptions& options,
                            const std::string& origin) {
  ListPageParse out;
  yaml::DocumentList docs;
  if (auto e = yaml::parseYaml(body, docs)) {
    out.error = "malformed list response (line " + std::to_string(e->mark.line + 1) + ", column " +
                std::to_string(e->mark.column + 1) + "): " + e->message;
    return out;
  }
  yaml::Node root = docs.empty() ? yaml::Node() : docs[0].root();
  if (!root.isMapping()) {
    out.error = "malformed list response: expected a JSON object";
    return out;
  }
  yaml::Node kind = root.find("kind");
  std::string expected = schema.kind + "List";
  if (kind.defined() && (!kind.isScalar() || kind.scalar() != expected)) {
    out.error = "expected a " + expected + ", got " + (kind.isScalar() ? std::string(kind.scalar()) : describeNode(kind));
    return out;
  }
  yaml::Node metadata = root.find("metadata");
  yaml::Node rv = metadata.find("resourceVersion");
  if (!rv.isScalar() || rv.scalar().empty()) {
    out.error = expected + " without metadata.resourceVersion";
    return out;
  }
  ListPage page;
  page.resource_version = rv.scalar();
  if (yaml::Node token = metadata.find("continue"); token.isScalar()) page.continue_token = token.scalar();
  yaml::Node items = root.find("items");
  if (!items.isNull() && !items.isSequence()) {
    out.error = expected + ".items: expected a list, got " + describeNode(items);
    return out;
  }
  for (yaml::Node item : items.items()) page.items.push_back(convertObject(item, schema, options, origin));
  out.page = std::move(page);
  return out;
}

}  // namespace monomesh::config::kube
