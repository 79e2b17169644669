#include "config/yaml/yaml_parser.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "config/yaml/document_builder.h"
#include "config/yaml/yaml_from_yamlcpp.h"
#include "config/yaml/yaml_scanner.h"
#include "observe/log.h"

namespace monomesh::config::yaml {

namespace {

std::atomic<size_t> fallbacks{0};

// yaml-cpp's null words for an untagged plain scalar.
bool isNullWord(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// Text yaml-cpp reads differently from plain UTF-8: a byte-order mark or NUL bytes at the start
// select another encoding, and byte 0x04 is its end-of-stream marker.
bool needsYamlCpp(std::string_view text) {
  if (text.size() >= 0x7fffffff) return true;  // node offsets are 31 bits
  if (!text.empty()) {
    auto first = uint8_t(text[0]);
    if (first == 0x00 || first == 0xEF || first == 0xFE || first == 0xFF) return true;
    if (text.size() > 1 && text[1] == '\0') return true;
  }
  return std::memchr(text.data(), 0x04, text.size()) != nullptr;
}

// Tokens to documents, following yaml-cpp's document parser so the trees are the same: which
// token starts which node, where an empty node is null, the mark each node gets.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), scanner_(text) {}

  // The next document into `doc`; false when the text has no more.
  bool next(Document& doc) {
    if (scanner_.empty()) return false;
    builder_.start(doc, text_);
    anchors_.clear();
    collections_.clear();
    depth_ = 0;
    size_t popped = scanner_.popped();
    if (scanner_.peek().type == TokenType::DocStart) scanner_.pop();
    parseNode();
    // A token no node takes (", x" at the top) would start null documents forever (yaml-cpp
    // 0.7 does just that): it is an error.
    if (scanner_.popped() == popped) fail(scanner_.peek().mark, "unexpected token where a document should start");
    while (!scanner_.empty() && scanner_.peek().type == TokenType::DocEnd) scanner_.pop();
    return true;
  }

  bool more() { return !scanner_.empty(); }

 private:
  enum class Collection : uint8_t { BlockMap, BlockSeq, FlowMap, FlowSeq, CompactMap };

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ >= kMaxNestingDepth)
        p_.fail(p_.scanner_.mark(), "nested too deeply (more than " + std::to_string(kMaxNestingDepth) + " levels)");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  [[noreturn]] void fail(Mark m, const std::string& message) { throw SyntaxError(m, message); }

  const Token& peek() { return scanner_.peek(); }
  bool nextIs(TokenType type) { return !scanner_.empty() && peek().type == type; }

  void anchor(const std::string& name, uint32_t node) {
    if (!name.empty()) anchors_.emplace_back(name, node);
  }

  void parseNode() {
    DepthGuard guard(*this);
    if (scanner_.empty()) {
      builder_.addNull(scanner_.mark());
      return;
    }
    const Mark mark = peek().mark;
    // ": v" with no key: a one-entry mapping with a null key.
    if (peek().type == TokenType::Value) return parseCollection(NodeKind::Mapping, mark, "?", "");
    if (peek().type == TokenType::Alias) {
      std::string_view name = scanner_.text(peek());
      auto it = std::find_if(anchors_.rbegin(), anchors_.rend(), [&](const auto& a) { return a.first == name; });
      if (it == anchors_.rend()) fail(mark, "the referenced anchor is not defined");
      if (!builder_.addAlias(it->second)) fail(mark, kAliasCycle);
      scanner_.pop();
      return;
    }
    std::string tag, anchor_name;
    parseProperties(tag, anchor_name);
    if (scanner_.empty()) {
      anchor(anchor_name, builder_.addNull(mark));
      return;
    }
    const Token& token = peek();
    if (tag.empty()) tag = token.type == TokenType::NonPlainScalar ? "!" : "?";
    switch (token.type) {
      case TokenType::PlainScalar:
      case TokenType::NonPlainScalar: {
        std::string_view value = scanner_.text(token);
        bool null = token.type == TokenType::PlainScalar && tag == "?" && isNullWord(value);
        anchor(anchor_name, null ? builder_.addNull(mark) : builder_.addScalar(mark, tag, value));
        scanner_.pop();
        return;
      }
      case TokenType::FlowSeqStart:
      case TokenType::BlockSeqStart: return parseCollection(NodeKind::Sequence, mark, tag, anchor_name);
      case TokenType::FlowMapStart:
      case TokenType::BlockMapStart: return parseCollection(NodeKind::Mapping, mark, tag, anchor_name);
      case TokenType::Key:
        // "[a: b]": a single-pair mapping, only inside a flow sequence.
        if (!collections_.empty() && collections_.back() == Collection::FlowSeq)
          return parseCollection(NodeKind::Mapping, mark, tag, anchor_name);
        break;
      default: break;
    }
    // Nothing here (only properties, or the next token belongs to the parent).
    anchor(anchor_name, tag == "?" ? builder_.addNull(mark) : builder_.addScalar(mark, tag, ""));
  }

  // The anchor names the collection before its content is read, so an alias inside it is caught.
  void parseCollection(NodeKind kind, Mark mark, std::string_view tag, const std::string& anchor_name) {
    bool mapping = kind == NodeKind::Mapping;
    anchor(anchor_name, mapping ? builder_.beginMapping(mark, tag) : builder_.beginSequence(mark, tag));
    if (mapping) parseMapping();
    else parseSequence();
    builder_.end();
  }

  void parseProperties(std::string& tag, std::string& anchor_name) {
    while (!scanner_.empty()) {
      const Token& t = peek();
      if (t.type == TokenType::Tag) {
        if (!tag.empty()) fail(t.mark, "cannot assign multiple tags to the same node");
        tag = scanner_.text(t);
      } else if (t.type == TokenType::Anchor) {
        if (!anchor_name.empty()) fail(t.mark, "cannot assign multiple anchors to the same node");
        anchor_name = scanner_.text(t);
      } else {
        return;
      }
      scanner_.pop();
    }
  }

  void parseSequence() {
    if (peek().type == TokenType::BlockSeqStart) parseBlockSequence();
    else if (peek().type == TokenType::FlowSeqStart) parseFlow(Collection::FlowSeq);
  }

  void parseBlockSequence() {
    scanner_.pop();
    collections_.push_back(Collection::BlockSeq);
    for (;;) {
      if (scanner_.empty()) fail(scanner_.mark(), "end of sequence not found");
      const TokenType type = peek().type;
      if (type != TokenType::BlockEntry && type != TokenType::BlockSeqEnd) fail(peek().mark, "end of sequence not found");
      scanner_.pop();
      if (type == TokenType::BlockSeqEnd) break;
      if (nextIs(TokenType::BlockEntry) || nextIs(TokenType::BlockSeqEnd)) {  // "-" alone: null
        builder_.addNull(peek().mark);
        continue;
      }
      parseNode();
    }
    collections_.pop_back();
  }

  void parseMapping() {
    switch (peek().type) {
      case TokenType::BlockMapStart: return parseBlockMapping();
      case TokenType::FlowMapStart: return parseFlow(Collection::FlowMap);
      case TokenType::Key:
      case TokenType::Value: return parseCompactMapping();
      default: return;
    }
  }

  // A key (or null) then a value (or null); `mark` places the nulls.
  void parseEntry(Mark mark) {
    if (peek().type == TokenType::Key) {
      scanner_.pop();
      parseNode();
    } else {
      builder_.addNull(mark);
    }
    if (nextIs(TokenType::Value)) {
      scanner_.pop();
      parseNode();
    } else {
      builder_.addNull(mark);
    }
  }

  void parseBlockMapping() {
    scanner_.pop();
    collections_.push_back(Collection::BlockMap);
    for (;;) {
      if (scanner_.empty()) fail(scanner_.mark(), "end of map not found");
      const TokenType type = peek().type;
      if (type != TokenType::Key && type != TokenType::Value && type != TokenType::BlockMapEnd)
        fail(peek().mark, "end of map not found");
      if (type == TokenType::BlockMapEnd) {
        scanner_.pop();
        break;
      }
      parseEntry(peek().mark);
    }
    collections_.pop_back();
  }

  // "[a, b]" or "{a: b, c}": nodes (entries in a mapping) separated by commas.
  void parseFlow(Collection type) {
    const bool mapping = type == Collection::FlowMap;
    const TokenType end = mapping ? TokenType::FlowMapEnd : TokenType::FlowSeqEnd;
    const char* unclosed = mapping ? "end of map flow not found" : "end of sequence flow not found";
    scanner_.pop();
    collections_.push_back(type);
    for (;;) {
      if (scanner_.empty()) fail(scanner_.mark(), unclosed);
      if (peek().type == end) {
        scanner_.pop();
        break;
      }
      if (mapping) parseEntry(peek().mark);
      else parseNode();
      if (scanner_.empty()) fail(scanner_.mark(), unclosed);
      if (peek().type == TokenType::FlowEntry) scanner_.pop();
      else if (peek().type != end) fail(peek().mark, unclosed);
    }
    collections_.pop_back();
  }

  // One entry with no braces: "[a: b]" in a flow sequence, or ": b" with no key.
  void parseCompactMapping() {
    collections_.push_back(Collection::CompactMap);
    parseEntry(peek().mark);
    collections_.pop_back();
  }

  std::string_view text_;
  Scanner scanner_;
  DocumentBuilder builder_;
  std::vector<std::pair<std::string, uint32_t>> anchors_;  // latest definition last
  std::vector<Collection> collections_;
  int depth_ = 0;
};

}  // namespace

std::optional<ParseError> parseFast(std::string_view text, DocumentList& out) {
  out.clear();
  if (needsYamlCpp(text)) return ParseError{{0, 0}, "encoding left to yaml-cpp", true};
  try {
    Parser parser(text);
    while (parser.more()) parser.next(out.append());
  } catch (const SyntaxError& e) {
    out.clear();
    return ParseError{e.mark, e.what(), e.unsupported};
  }
  return std::nullopt;
}

std::optional<ParseError> parseYaml(std::string_view text, DocumentList& out) {
  auto fast = parseFast(text, out);
  // Our errors stand: they are yaml-cpp's, at the same places (the differential test checks),
  // and yaml-cpp 0.7 loops forever on some texts we reject.
  if (!fast || !fast->unsupported) return fast;
  fallbacks.fetch_add(1, std::memory_order_relaxed);
  observe::logScope("config").debug("YAML read by yaml-cpp: {}", fast->message);
  return parseWithYamlCpp(text, out);
}

size_t yamlCppFallbacks() { return fallbacks.load(std::memory_order_relaxed); }

}  // namespace monomesh::config::yaml
