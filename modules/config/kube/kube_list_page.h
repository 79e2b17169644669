// One page of a LIST response ({"kind":"ServiceList","metadata":{"resourceVersion":...,
// "continue":...},"items":[...]}): its items converted one by one (an invalid item is reported,
// the others still count), the version the list was read at, and the token for the next page.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/kube/kube_object.h"

namespace monomesh::config::kube {

struct ListPage {
  std::vector<KubeObject> items;
  std::string resource_version;  // metadata.resourceVersion: where the watch starts
  std::string continue_token;    // metadata.continue: empty on the last page
};

struct ListPageParse {
  std::optional<ListPage> page;
  std::string error;  // set when the body is not a list of this kind
};

ListPageParse parseListPage(std::string_view body, const Schema& schema, const LoadOptions& options,
                            const std::string& origin);

}  // namespace monomesh::config::kube
