// The YAML tokenizer: text to tokens (block and flow collection starts and ends, keys, values,
// scalars, anchors, aliases, tags, document markers). It follows yaml-cpp 0.7's scanner rule for
// rule — indentation stack, "simple keys" decided when their ':' shows up, where plain scalars
// end, how multi-line scalars fold — so the trees we build are the trees Monomesh has always
// read, but it works on a string_view with plain index arithmetic and makes no allocation per
// token: a scalar is a view into the text unless unescaping or folding changed it.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml/yaml_node.h"

namespace monomesh::config::yaml {

// A syntax error (or, with `unsupported`, text this scanner leaves to yaml-cpp: directives,
// byte-order marks and other encodings).
struct SyntaxError : std::runtime_error {
  SyntaxError(Mark m, const std::string& what, bool unsupported_ = false)
      : std::runtime_error(what), mark(m), unsupported(unsupported_) {}
  Mark mark;
  bool unsupported;
};

enum class TokenType : uint8_t {
  DocStart, DocEnd,
  BlockSeqStart, BlockMapStart, BlockSeqEnd, BlockMapEnd, BlockEntry,
  FlowSeqStart, FlowMapStart, FlowSeqEnd, FlowMapEnd, FlowEntry,
  Key, Value, Anchor, Alias, Tag, PlainScalar, NonPlainScalar,
};

struct Token {
  enum class Status : uint8_t { Valid, Invalid, Unverified };
  TokenType type;
  Status status = Status::Valid;
  bool owned = false;  // text is in the scanner's buffer, else in the source
  Mark mark;
  uint32_t offset = 0;  // text: scalar value, anchor or alias name, resolved tag
  uint32_t size = 0;
};

class Scanner {
 public:
  explicit Scanner(std::string_view text);

  // True when no token is left.
  bool empty() {
    if (frontReady()) return false;
    ensureTokensInQueue();
    return head_ >= tokens_.size();
  }
  // The next token; only when !empty().
  const Token& peek() {
    if (!frontReady()) ensureTokensInQueue();
    return tokens_[head_];
  }
  void pop();
  // The token's text; valid until the token is popped.
  std::string_view text(const Token& t) const;
  // Where scanning stands now (past the tokens read ahead).
  Mark mark() const;
  // Tokens popped so far.
  size_t popped() const { return popped_; }

 private:
  enum class Indent : uint8_t { None, Seq, Map };
  enum class IndentStatus : uint8_t { Valid, Invalid, Unknown };
  struct IndentMarker {
    int column;
    Indent type;
    IndentStatus status;
    int64_t start_token;  // index in tokens_, -1 when none
  };
  struct SimpleKey {
    Mark mark;
    size_t pos;
    size_t flow_level;
    int64_t indent;     // index in markers_, -1 when none
    int64_t map_start;  // index in tokens_, -1 when none
    int64_t key;        // index in tokens_
  };
  enum class Fold : uint8_t { None, Block, Flow };
  enum class Chomp : uint8_t { Strip, Clip, Keep };
  // What ends a scalar besides its indentation: nothing but the end of the text (block
  // scalars), a plain scalar's terminators in block or flow context, or the closing quote.
  enum class End : uint8_t { None, PlainBlock, PlainFlow, SingleQuote, DoubleQuote };
  struct ScalarParams {
    End end = End::None;
    bool eat_end = false;
    int indent = 0;
    bool detect_indent = false;
    char escape = 0;
    Fold fold = Fold::None;
    bool eat_leading_whitespace = false;
    bool trim_trailing_spaces = false;
    Chomp chomp = Chomp::Clip;
    bool break_on_document_marker = false;
    bool throw_on_document_marker = false;
    bool throw_on_tab_in_indentation = false;
    bool leading_spaces = false;  // out: the scalar ended at a less indented line
  };

  // The common case, inline: the next token is scanned and decided.
  bool frontReady() const { return head_ < tokens_.size() && tokens_[head_].status == Token::Status::Valid; }
  void ensureTokensInQueue();
  void scanNextToken();
  void scanToNextToken();
  void startStream();
  void endStream();

  void scanDocumentMarker(TokenType type);
  void scanFlowStart();
  void scanFlowEnd();
  void scanFlowEntry();
  void scanBlockEntry();
  void scanKey();
  void scanValue();
  void scanAnchorOrAlias();
  void scanTag();
  void scanPlainScalar();
  void scanQuotedScalar();
  void scanBlockScalar();

  void scanScalar(ScalarParams& params);
  // The scalar just scanned: a view into the source when it is a piece of it, else scratch_.
  std::string_view scalarText() const;
  int endMatch(const ScalarParams& params) const;
  void appendEscape(char escape);
  void appendCodePoint(int digits);

  Token& push(TokenType type, Mark mark);
  // A one-byte indicator: its token, marked where it stands; then past it.
  void pushIndicator(TokenType type);
  // "?", or a ':' no simple key claimed: in block context it may open a mapping here, and only
  // where a key may start.
  void startExplicitEntry(const char* misplaced);
  void pushText(Token& t, std::string_view value);
  int64_t pushIndentTo(int column, Indent type);
  void popIndentToHere();
  void popAllIndents();
  void popIndent();
  int topIndent() const;

  void insertPotentialSimpleKey();
  void invalidateSimpleKey();
  bool verifySimpleKey();
  void popAllSimpleKeys();
  void setKeyStatus(const SimpleKey& key, bool valid);

  bool inFlow() const { return !flows_.empty(); }
  bool atEnd() const { return pos_ >= text_.size(); }
  // The byte at `pos_ + k`, or '\0' past the end (never a YAML indicator).
  char at(size_t k = 0) const { return pos_ + k < text_.size() ? text_[pos_ + k] : '\0'; }
  bool blankAt(size_t k = 0) const { return at(k) == ' ' || at(k) == '\t'; }
  // Length of the line break at pos_ + k ("\n" or "\r\n", as yaml-cpp 0.7), 0 if none.
  int breakAt(size_t k = 0) const;
  bool blankOrBreakAt(size_t k = 0) const { return blankAt(k) || breakAt(k) > 0; }
  bool blankBreakOrEndAt(size_t k = 0) const { return pos_ + k >= text_.size() || blankOrBreakAt(k); }
  bool documentMarkerAt() const;
  int column() const { return ended_ ? 0 : int(pos_ - line_start_); }
  void eatBreak();
  [[noreturn]] void fail(Mark mark, const std::string& message) const;

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 0;

  bool started_ = false;
  bool ended_ = false;
  bool simple_key_allowed_ = false;
  bool can_be_json_flow_ = false;

  std::vector<Token> tokens_;
  size_t head_ = 0;
  size_t popped_ = 0;
  std::vector<IndentMarker> markers_;
  std::vector<size_t> indents_;  // stack of indexes in markers_
  std::vector<SimpleKey> simple_keys_;
  std::vector<char> flows_;  // '[' or '{' per open flow collection

  std::string scratch_;   // the scalar being scanned
  size_t content_start_ = 0;  // where its first content byte is in the source
  std::string owned_;    // texts of queued tokens that are not views into the source
};

}  // namespace monomesh::config::yaml
