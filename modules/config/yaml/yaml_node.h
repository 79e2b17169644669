// A parsed YAML document as a compact read-only tree: every node of a document lives in one
// vector, children are index runs in a second one, and a scalar is a view into the source text
// unless unescaping or folding changed it (then it is in the document's own buffer). Nodes keep
// what the config reader decides on: kind, tag ("?" for a plain scalar, "!" for a quoted or
// block one, the resolved tag otherwise), line and column, and mapping entries in order with
// their keys (duplicates included, so the loader can report them). An alias is the node it names
// (shared, not copied), so a document is a DAG and an alias bomb stays small.
#pragma once
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace monomesh::config::yaml {

enum class NodeKind : uint8_t { Null, Scalar, Sequence, Mapping };

class Document;
struct NodeEntry;
template <class T>
class NodeRange;

class Node {
 public:
  Node() = default;  // "not there": the result of looking up an absent key

  bool defined() const { return doc_ != nullptr; }
  NodeKind kind() const;
  bool isNull() const { return !defined() || kind() == NodeKind::Null; }
  bool isScalar() const { return defined() && kind() == NodeKind::Scalar; }
  bool isSequence() const { return defined() && kind() == NodeKind::Sequence; }
  bool isMapping() const { return defined() && kind() == NodeKind::Mapping; }

  // The text of a scalar ("" for anything else).
  std::string_view scalar() const;
  // "?" plain (untagged) scalar or collection, "!" quoted or block scalar, "" null or undefined,
  // else the resolved tag ("tag:yaml.org,2002:str" for !!str).
  std::string_view tag() const;
  // A scalar written without quotes or tag: YAML resolves it to a number, boolean or null.
  bool isPlainScalar() const { return isScalar() && tag() == "?"; }

  // 1-based; 0 when the node is not defined.
  int line() const;
  int column() const;

  // Items of a sequence, entries of a mapping, 0 for anything else.
  size_t size() const;
  // Sequence item `i` (undefined when out of range or not a sequence).
  Node operator[](size_t i) const;
  // Value of the first entry whose key is the scalar `key` (undefined when absent).
  Node find(std::string_view key) const;

  // Mapping entry `i`, in document order.
  NodeEntry entry(size_t i) const;
  // Range-for over a sequence's items or a mapping's entries.
  NodeRange<Node> items() const;
  NodeRange<NodeEntry> entries() const;

  // Same node of the same document (aliases are the node they name).
  bool operator==(const Node& o) const { return doc_ == o.doc_ && index_ == o.index_; }
  uint32_t index() const { return index_; }

 private:
  friend class Document;
  Node(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}
  const Document* doc_ = nullptr;
  uint32_t index_ = 0;
};

struct NodeEntry {
  Node key;
  Node value;
};

template <class T>
class NodeRange {
 public:
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator(Node n, size_t i) : node_(n), i_(i) {}
    T operator*() const {
      if constexpr (std::is_same_v<T, Node>) return node_[i_];
      else return node_.entry(i_);
    }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    Node node_;
    size_t i_;
  };
  explicit NodeRange(Node n) : node_(n) {}
  iterator begin() const { return {node_, 0}; }
  iterator end() const { return {node_, node_.size()}; }

 private:
  Node node_;
};

inline NodeRange<Node> Node::items() const { return NodeRange<Node>(*this); }
inline NodeRange<NodeEntry> Node::entries() const { return NodeRange<NodeEntry>(*this); }

// Where the parser found a node: 0-based, as yaml-cpp's marks.
struct Mark {
  int line = 0;
  int column = 0;
};

// One YAML document. Scalars may point into the source text: it must outlive the document.
// Reused documents (clear()) keep their buffers, so parsing many documents allocates little.
class Document {
 public:
  Node root() const { return nodes_.empty() ? Node() : Node(this, 0); }
  size_t nodeCount() const { return nodes_.size(); }
  void clear();

 private:
  friend class Node;
  friend class DocumentBuilder;

  // How a node's tag is stored: the two non-specific tags inline, others in tags_.
  enum TagKind : uint8_t { kNoTag, kPlainTag, kNonPlainTag, kOtherTag };
  static constexpr uint32_t kOwned = 0x80000000u;  // scalar offset is into owned_, not the source

  struct NodeData {
    NodeKind kind;
    TagKind tag_kind;
    uint32_t tag_index;  // into tags_ for kOtherTag
    int32_t line;
    int32_t column;
    uint32_t first;  // scalar: offset (| kOwned); collection: first child in children_
    uint32_t count;  // scalar: size; sequence: items; mapping: entries (2 children each)
  };

  const NodeData& data(uint32_t i) const { return nodes_[i]; }

  std::string_view source_;
  std::vector<NodeData> nodes_;
  std::vector<uint32_t> children_;
  std::string owned_;
  std::vector<std::string> tags_;
};

// The keys a mapping repeats. Ask about each entry in order: the line of an earlier entry with
// the same scalar key, or 0. Short mappings are scanned; long ones indexed as they go.
class RepeatedKeys {
 public:
  explicit RepeatedKeys(Node map) : map_(map) {}
  int firstLine(size_t entry);

 private:
  Node map_;
  std::unordered_map<std::string_view, int> index_;
};

// The documents of one text, in order. Clearing keeps the documents (and their buffers) for
// the next text; each Document stays at its address, so Nodes stay valid while it lives.
class DocumentList {
 public:
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const Document& operator[](size_t i) const { return *docs_[i]; }
  // A new last document, cleared (reusing a spare one).
  Document& append();
  void clear() { count_ = 0; }

 private:
  std::vector<std::unique_ptr<Document>> docs_;
  size_t count_ = 0;
};

}  // namespace monomesh::config::yaml
