#include "config/yaml/yaml_node.h"

namespace monomesh::config::yaml {

NodeKind Node::kind() const { return doc_ ? doc_->data(index_).kind : NodeKind::Null; }

std::string_view Node::scalar() const {
  if (!isScalar()) return {};
  const auto& d = doc_->data(index_);
  if (d.first & Document::kOwned) return std::string_view(doc_->owned_).substr(d.first & ~Document::kOwned, d.count);
  return doc_->source_.substr(d.first, d.count);
}

std::string_view Node::tag() const {
  if (!doc_) return {};
  const auto& d = doc_->data(index_);
  switch (d.tag_kind) {
    case Document::kNoTag: return {};
    case Document::kPlainTag: return "?";
    case Document::kNonPlainTag: return "!";
    case Document::kOtherTag: return doc_->tags_[d.tag_index];
  }
  return {};
}

int Node::line() const { return doc_ ? doc_->data(index_).line + 1 : 0; }

int Node::column() const { return doc_ ? doc_->data(index_).column + 1 : 0; }

size_t Node::size() const {
  if (!doc_) return 0;
  const auto& d = doc_->data(index_);
  return d.kind == NodeKind::Sequence || d.kind == NodeKind::Mapping ? d.count : 0;
}

Node Node::operator[](size_t i) const {
  if (!isSequence() || i >= size()) return {};
  return Node(doc_, doc_->children_[doc_->data(index_).first + i]);
}

NodeEntry Node::entry(size_t i) const {
  if (!isMapping() || i >= size()) return {};
  size_t at = doc_->data(index_).first + 2 * i;
  return {Node(doc_, doc_->children_[at]), Node(doc_, doc_->children_[at + 1])};
}

Node Node::find(std::string_view key) const {
  if (!isMapping()) return {};
  const auto& d = doc_->data(index_);
  for (uint32_t i = 0; i < d.count; ++i) {
    Node k(doc_, doc_->children_[d.first + 2 * i]);
    if (k.isScalar() && k.scalar() == key) return Node(doc_, doc_->children_[d.first + 2 * i + 1]);
  }
  return {};
}

void Document::clear() {
  source_ = {};
  nodes_.clear();
  children_.clear();
  owned_.clear();
  tags_.clear();
}

int RepeatedKeys::firstLine(size_t entry) {
  NodeEntry e = map_.entry(entry);
  if (!e.key.isScalar()) return 0;
  constexpr size_t kScanned = 16;  // a linear scan beats hashing for the mappings config has
  if (map_.size() <= kScanned) {
    for (size_t j = 0; j < entry; ++j) {
      Node k = map_.entry(j).key;
      if (k.isScalar() && k.scalar() == e.key.scalar()) return k.line();
    }
    return 0;
  }
  auto [it, fresh] = index_.emplace(e.key.scalar(), e.key.line());
  return fresh ? 0 : it->second;
}

Document& DocumentList::append() {
  if (count_ == docs_.size()) docs_.push_back(std::make_unique<Document>());
  Document& doc = *docs_[count_++];
  doc.clear();
  return doc;
}

}  // namespace monomesh::config::yaml
