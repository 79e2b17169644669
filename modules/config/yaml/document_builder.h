// Fills a Document node by node in document order, as a parser meets them: our own parser, and
// yaml-cpp's events or trees for what it hands to yaml-cpp. One builder is reused for many
// documents so its stacks keep their capacity.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "config/yaml/yaml_node.h"

namespace monomesh::config::yaml {

class DocumentBuilder {
 public:
  // Starts `doc` afresh. Scalars inside `source` are kept as views into it; others are copied.
  void start(Document& doc, std::string_view source);

  // Each added node becomes the next child of the innermost open collection (for a mapping:
  // key, value, key, value...). Tags: "?" plain, "!" non-plain, "" none, else a resolved tag.
  uint32_t addNull(Mark mark);
  uint32_t addScalar(Mark mark, std::string_view tag, std::string_view value);
  uint32_t beginSequence(Mark mark, std::string_view tag) { return begin(NodeKind::Sequence, mark, tag); }
  uint32_t beginMapping(Mark mark, std::string_view tag) { return begin(NodeKind::Mapping, mark, tag); }
  // Closes the innermost open collection.
  void end();
  // `node` (added before) is a child again here. False, adding nothing, when `node` is a
  // collection still open: it would contain itself, and a cyclic tree cannot be read.
  bool addAlias(uint32_t node);

  size_t openCollections() const { return open_.size(); }
  size_t nodeCount() const { return doc_->nodes_.size(); }

 private:
  struct Open {
    uint32_t node;
    size_t first_pending;  // its children so far are pending_[first_pending...]
  };
  uint32_t add(NodeKind kind, Mark mark, std::string_view tag);
  uint32_t begin(NodeKind kind, Mark mark, std::string_view tag);
  void attach(uint32_t node);

  Document* doc_ = nullptr;
  std::vector<Open> open_;
  std::vector<uint32_t> pending_;
};

}  // namespace monomesh::config::yaml
