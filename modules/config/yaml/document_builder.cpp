#include "config/yaml/document_builder.h"

#include <cstdint>

namespace monomesh::config::yaml {

void DocumentBuilder::start(Document& doc, std::string_view source) {
  doc.clear();
  doc.source_ = source;
  doc_ = &doc;
  open_.clear();
  pending_.clear();
}

uint32_t DocumentBuilder::add(NodeKind kind, Mark mark, std::string_view tag) {
  Document::NodeData d{kind, Document::kNoTag, 0, mark.line, mark.column, 0, 0};
  if (tag == "?") {
    d.tag_kind = Document::kPlainTag;
  } else if (tag == "!") {
    d.tag_kind = Document::kNonPlainTag;
  } else if (!tag.empty()) {
    d.tag_kind = Document::kOtherTag;
    d.tag_index = uint32_t(doc_->tags_.size());
    doc_->tags_.emplace_back(tag);
  }
  auto index = uint32_t(doc_->nodes_.size());
  doc_->nodes_.push_back(d);
  attach(index);
  return index;
}

void DocumentBuilder::attach(uint32_t node) {
  if (!open_.empty()) pending_.push_back(node);
}

uint32_t DocumentBuilder::addNull(Mark mark) { return add(NodeKind::Null, mark, ""); }

uint32_t DocumentBuilder::addScalar(Mark mark, std::string_view tag, std::string_view value) {
  uint32_t index = add(NodeKind::Scalar, mark, tag);
  auto& d = doc_->nodes_[index];
  d.count = uint32_t(value.size());
  // A view when the text is a piece of the source (compared as addresses, not contents).
  auto at = reinterpret_cast<uintptr_t>(value.data());
  auto src = reinterpret_cast<uintptr_t>(doc_->source_.data());
  if (!value.empty() && at >= src && at + value.size() <= src + doc_->source_.size()) {
    d.first = uint32_t(at - src);
  } else {
    d.first = uint32_t(doc_->owned_.size()) | Document::kOwned;
    doc_->owned_.append(value);
  }
  return index;
}

uint32_t DocumentBuilder::begin(NodeKind kind, Mark mark, std::string_view tag) {
  uint32_t index = add(kind, mark, tag);
  open_.push_back(Open{index, pending_.size()});
  return index;
}

void DocumentBuilder::end() {
  if (open_.empty()) return;
  Open o = open_.back();
  open_.pop_back();
  auto& d = doc_->nodes_[o.node];
  d.first = uint32_t(doc_->children_.size());
  size_t n = pending_.size() - o.first_pending;
  doc_->children_.insert(doc_->children_.end(), pending_.begin() + std::ptrdiff_t(o.first_pending), pending_.end());
  pending_.resize(o.first_pending);
  d.count = uint32_t(d.kind == NodeKind::Mapping ? n / 2 : n);
}

bool DocumentBuilder::addAlias(uint32_t node) {
  for (const Open& o : open_)
    if (o.node == node) return false;
  attach(node);
  return true;
}

}  // namespace monomesh::config::yaml
