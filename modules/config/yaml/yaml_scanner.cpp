#include "config/yaml/yaml_scanner.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace monomesh::config::yaml {

namespace {

constexpr size_t kNone = std::string::npos;
// yaml-cpp decides a simple key ("key: value") only within one line and this many bytes.
constexpr size_t kMaxSimpleKeyLength = 1024;

bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isOneOf(char c, const char* set) { return c != '\0' && std::strchr(set, c) != nullptr; }

// Bytes that may end a run of ordinary scalar content: anything that could end the scalar,
// break the line or start an escape. Bytes not listed are copied in bulk.
using StopTable = std::array<bool, 256>;

StopTable stopTable(const char* stops) {
  StopTable t{};
  for (const char* s = stops; *s; ++s) t[uint8_t(*s)] = true;
  t[uint8_t('\n')] = t[uint8_t('\r')] = true;
  return t;
}

const StopTable& stopsFor(int end) {
  static const std::array<StopTable, 5> tables = {
      stopTable(""),                 // End::None (block scalars)
      stopTable(": \t"),             // End::PlainBlock
      stopTable(": \t,?[]{}"),       // End::PlainFlow
      stopTable("'"),                // End::SingleQuote
      stopTable("\"\\"),             // End::DoubleQuote
  };
  return tables[size_t(end)];
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp <= 0x7F) {
    out += char(cp);
  } else if (cp <= 0x7FF) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp <= 0xFFFF) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

}  // namespace

Scanner::Scanner(std::string_view text) : text_(text) {}

int Scanner::breakAt(size_t k) const {
  char c = at(k);
  if (c == '\n') return 1;
  return c == '\r' && at(k + 1) == '\n' ? 2 : 0;
}

bool Scanner::documentMarkerAt() const {
  if (text_.size() - pos_ < 3) return false;
  char c = text_[pos_];
  if ((c != '-' && c != '.') || text_[pos_ + 1] != c || text_[pos_ + 2] != c) return false;
  return blankBreakOrEndAt(3);
}

void Scanner::eatBreak() {
  pos_ += size_t(breakAt());
  ++line_;
  line_start_ = pos_;
}

Mark Scanner::mark() const { return Mark{line_, column()}; }

void Scanner::fail(Mark m, const std::string& message) const { throw SyntaxError(m, message); }

std::string_view Scanner::text(const Token& t) const {
  return (t.owned ? std::string_view(owned_) : text_).substr(t.offset, t.size);
}

// ---- the token queue ----

void Scanner::pop() {
  ensureTokensInQueue();
  if (head_ < tokens_.size()) {
    ++head_;
    ++popped_;
  }
  // Reuse the queue once drained. Simple keys name tokens by index, so only when none is pending.
  if (head_ == tokens_.size() && simple_keys_.empty()) {
    tokens_.clear();
    owned_.clear();
    head_ = 0;
    if (indents_.size() == 1) markers_.resize(1);
  }
}

void Scanner::ensureTokensInQueue() {
  for (;;) {
    if (head_ < tokens_.size()) {
      const Token& t = tokens_[head_];
      if (t.status == Token::Status::Valid) return;
      if (t.status == Token::Status::Invalid) {
        ++head_;
        continue;
      }
      // Unverified: its simple key is not decided yet; read on.
    }
    if (ended_) return;
    scanNextToken();
  }
}

void Scanner::pushIndicator(TokenType type) {
  Mark m = mark();
  ++pos_;
  push(type, m);
}

Token& Scanner::push(TokenType type, Mark m) {
  tokens_.push_back(Token{type, Token::Status::Valid, false, m, 0, 0});
  return tokens_.back();
}

void Scanner::pushText(Token& t, std::string_view value) {
  auto at = reinterpret_cast<uintptr_t>(value.data());
  auto src = reinterpret_cast<uintptr_t>(text_.data());
  if (!value.empty() && at >= src && at + value.size() <= src + text_.size()) {
    t.offset = uint32_t(at - src);
  } else {
    t.owned = true;
    t.offset = uint32_t(owned_.size());
    owned_.append(value);
  }
  t.size = uint32_t(value.size());
}

// ---- stream, indentation and simple keys ----

void Scanner::startStream() {
  started_ = true;
  simple_key_allowed_ = true;
  markers_.push_back(IndentMarker{-1, Indent::None, IndentStatus::Valid, -1});
  indents_.push_back(0);
}

void Scanner::endStream() {
  ended_ = true;  // also puts marks from here on at column 0, as yaml-cpp does
  popAllIndents();
  popAllSimpleKeys();
  simple_key_allowed_ = false;
}

int Scanner::topIndent() const { return indents_.empty() ? 0 : markers_[indents_.back()].column; }

int64_t Scanner::pushIndentTo(int col, Indent type) {
  if (inFlow()) return -1;
  const IndentMarker& last = markers_[indents_.back()];
  if (col < last.column) return -1;
  if (col == last.column && !(type == Indent::Seq && last.type == Indent::Map)) return -1;
  auto token = int64_t(tokens_.size());
  push(type == Indent::Seq ? TokenType::BlockSeqStart : TokenType::BlockMapStart, mark());
  markers_.push_back(IndentMarker{col, type, IndentStatus::Valid, token});
  indents_.push_back(markers_.size() - 1);
  return int64_t(markers_.size() - 1);
}

void Scanner::popIndentToHere() {
  if (inFlow()) return;
  while (!indents_.empty()) {
    const IndentMarker& m = markers_[indents_.back()];
    int col = column();
    if (m.column < col) break;
    bool block_entry = at() == '-' && blankBreakOrEndAt(1);
    if (m.column == col && !(m.type == Indent::Seq && !block_entry)) break;
    popIndent();
  }
  while (!indents_.empty() && markers_[indents_.back()].status == IndentStatus::Invalid) popIndent();
}

void Scanner::popAllIndents() {
  if (inFlow()) return;
  while (!indents_.empty() && markers_[indents_.back()].type != Indent::None) popIndent();
}

void Scanner::popIndent() {
  IndentMarker m = markers_[indents_.back()];
  indents_.pop_back();
  if (m.status != IndentStatus::Valid) {
    invalidateSimpleKey();
    return;
  }
  if (m.type == Indent::Seq) push(TokenType::BlockSeqEnd, mark());
  else if (m.type == Indent::Map) push(TokenType::BlockMapEnd, mark());
}

void Scanner::insertPotentialSimpleKey() {
  if (!simple_key_allowed_) return;
  if (!simple_keys_.empty() && simple_keys_.back().flow_level == flows_.size()) return;
  SimpleKey key{mark(), pos_, flows_.size(), -1, -1, -1};
  if (!inFlow()) {
    key.indent = pushIndentTo(column(), Indent::Map);
    if (key.indent >= 0) {
      IndentMarker& m = markers_[size_t(key.indent)];
      m.status = IndentStatus::Unknown;
      key.map_start = m.start_token;
      tokens_[size_t(key.map_start)].status = Token::Status::Unverified;
    }
  }
  key.key = int64_t(tokens_.size());
  push(TokenType::Key, mark()).status = Token::Status::Unverified;
  simple_keys_.push_back(key);
}

void Scanner::setKeyStatus(const SimpleKey& key, bool valid) {
  auto status = valid ? Token::Status::Valid : Token::Status::Invalid;
  if (key.indent >= 0) markers_[size_t(key.indent)].status = valid ? IndentStatus::Valid : IndentStatus::Invalid;
  if (key.map_start >= 0) tokens_[size_t(key.map_start)].status = status;
  if (key.key >= 0) tokens_[size_t(key.key)].status = status;
}

void Scanner::invalidateSimpleKey() {
  if (simple_keys_.empty() || simple_keys_.back().flow_level != flows_.size()) return;
  setKeyStatus(simple_keys_.back(), false);
  simple_keys_.pop_back();
}

bool Scanner::verifySimpleKey() {
  if (simple_keys_.empty() || simple_keys_.back().flow_level != flows_.size()) return false;
  SimpleKey key = simple_keys_.back();
  simple_keys_.pop_back();
  bool valid = line_ == key.mark.line && pos_ - key.pos <= kMaxSimpleKeyLength;
  setKeyStatus(key, valid);
  return valid;
}

// Forgets the pending keys without deciding them, as yaml-cpp 0.7 does: a key token left
// unverified is read as a key once the text ends ("a: 1\n0\n" is {a: 1, 0: null}).
void Scanner::popAllSimpleKeys() { simple_keys_.clear(); }

// ---- tokens ----

void Scanner::scanNextToken() {
  if (ended_) return;
  if (!started_) {
    startStream();
    return;
  }
  scanToNextToken();
  popIndentToHere();
  if (atEnd()) {
    endStream();
    return;
  }
  const char c = at();
  if (column() == 0) {
    if (c == '%') throw SyntaxError(mark(), "directives are left to yaml-cpp", true);
    if (documentMarkerAt()) return scanDocumentMarker(c == '-' ? TokenType::DocStart : TokenType::DocEnd);
  }
  if (c == '[' || c == '{') return scanFlowStart();
  if (c == ']' || c == '}') return scanFlowEnd();
  if (c == ',') return scanFlowEntry();
  if (c == '-' && blankBreakOrEndAt(1)) return scanBlockEntry();
  if (c == '?' && blankOrBreakAt(1)) return scanKey();
  if (c == ':') {
    bool value = inFlow() ? can_be_json_flow_ || blankOrBreakAt(1) || isOneOf(at(1), ",]}") : blankBreakOrEndAt(1);
    if (value) return scanValue();
  }
  if (c == '*' || c == '&') return scanAnchorOrAlias();
  if (c == '!') return scanTag();
  if (!inFlow() && (c == '|' || c == '>')) return scanBlockScalar();
  if (c == '\'' || c == '"') return scanQuotedScalar();
  bool plain = inFlow() ? !(isOneOf(c, "?,[]{}#&*!|>'\"%@`") || ((c == '-' || c == ':') && (blankAt(1) || pos_ + 1 >= text_.size())))
                        : !(isOneOf(c, ",[]{}#&*!|>'\"%@`") || (isOneOf(c, "-?:") && blankBreakOrEndAt(1)));
  if (plain && !blankOrBreakAt()) return scanPlainScalar();
  fail(mark(), "unknown token");
}

void Scanner::scanToNextToken() {
  for (;;) {
    while (blankAt()) {
      // A tab cannot be indentation, so no key may start after one at the start of a line.
      if (!inFlow() && at() == '\t') simple_key_allowed_ = false;
      ++pos_;
    }
    if (at() == '#') {  // a comment runs to the line break ("\n" or "\r\n")
      size_t start = pos_;
      const void* nl = std::memchr(text_.data() + pos_, '\n', text_.size() - pos_);
      pos_ = nl ? size_t(static_cast<const char*>(nl) - text_.data()) : text_.size();
      if (pos_ < text_.size() && pos_ > start && text_[pos_ - 1] == '\r') --pos_;
    }
    if (breakAt() == 0) break;
    eatBreak();
    invalidateSimpleKey();
    if (!inFlow()) simple_key_allowed_ = true;
  }
}

void Scanner::scanDocumentMarker(TokenType type) {
  popAllIndents();
  popAllSimpleKeys();
  simple_key_allowed_ = false;
  can_be_json_flow_ = false;
  Mark m = mark();
  pos_ += 3;
  push(type, m);
}

void Scanner::scanFlowStart() {
  insertPotentialSimpleKey();  // a flow collection can be a key
  simple_key_allowed_ = true;
  can_be_json_flow_ = false;
  Mark m = mark();
  char c = at();
  ++pos_;
  flows_.push_back(c);
  push(c == '[' ? TokenType::FlowSeqStart : TokenType::FlowMapStart, m);
}

void Scanner::scanFlowEnd() {
  if (!inFlow()) fail(mark(), "illegal flow end");
  // A lone entry ("{a}") is a key with no value.
  if (flows_.back() == '{' && verifySimpleKey()) push(TokenType::Value, mark());
  else if (flows_.back() == '[') invalidateSimpleKey();
  simple_key_allowed_ = false;
  can_be_json_flow_ = true;
  Mark m = mark();
  char c = at();
  ++pos_;
  if (flows_.back() != (c == ']' ? '[' : '{')) fail(m, "illegal flow end");
  flows_.pop_back();
  push(c == ']' ? TokenType::FlowSeqEnd : TokenType::FlowMapEnd, m);
}

void Scanner::scanFlowEntry() {
  if (inFlow()) {
    if (flows_.back() == '{' && verifySimpleKey()) push(TokenType::Value, mark());
    else if (flows_.back() == '[') invalidateSimpleKey();
  }
  simple_key_allowed_ = true;
  can_be_json_flow_ = false;
  pushIndicator(TokenType::FlowEntry);
}

void Scanner::scanBlockEntry() {
  if (inFlow() || !simple_key_allowed_) fail(mark(), "illegal block entry");
  pushIndentTo(column(), Indent::Seq);
  simple_key_allowed_ = true;
  can_be_json_flow_ = false;
  pushIndicator(TokenType::BlockEntry);
}

void Scanner::startExplicitEntry(const char* misplaced) {
  if (!inFlow()) {
    if (!simple_key_allowed_) fail(mark(), misplaced);
    pushIndentTo(column(), Indent::Map);
  }
  simple_key_allowed_ = !inFlow();
}

void Scanner::scanKey() {
  startExplicitEntry("illegal map key");
  pushIndicator(TokenType::Key);
}

void Scanner::scanValue() {
  bool simple_key = verifySimpleKey();
  can_be_json_flow_ = false;
  if (simple_key) simple_key_allowed_ = false;  // "a: b: c" is not a key within a value
  else startExplicitEntry("illegal map value");
  pushIndicator(TokenType::Value);
}

void Scanner::scanAnchorOrAlias() {
  insertPotentialSimpleKey();
  simple_key_allowed_ = false;
  can_be_json_flow_ = false;
  Mark m = mark();
  bool alias = at() == '*';
  ++pos_;
  size_t start = pos_;
  while (!atEnd() && !isOneOf(at(), "[]{},") && !blankOrBreakAt()) ++pos_;
  if (pos_ == start) fail(mark(), alias ? "alias not found after *" : "anchor not found after &");
  if (!atEnd() && (at() == '[' || at() == '{'))
    fail(mark(), alias ? "illegal character found while scanning alias" : "illegal character found while scanning anchor");
  Token& t = push(alias ? TokenType::Alias : TokenType::Anchor, m);
  pushText(t, text_.substr(start, pos_ - start));
}

void Scanner::scanTag() {
  insertPotentialSimpleKey();
  simple_key_allowed_ = false;
  can_be_json_flow_ = false;
  Mark m = mark();
  ++pos_;  // '!'
  // Length of one tag (or URI) character here: a word character, a listed one, or %XX.
  auto charLength = [&](const char* extra) -> size_t {
    if (atEnd()) return 0;
    if (isWordChar(at()) || isOneOf(at(), extra)) return 1;
    return at() == '%' && isHex(at(1)) && isHex(at(2)) ? 3 : 0;
  };
  const char* kTagChars = "#;/?:@&=+$_.~*'()";
  std::string tag;
  if (at() == '<' && !atEnd()) {  // verbatim: !<tag:example.com,2000:x>
    ++pos_;
    for (;;) {
      if (!atEnd() && at() == '>') {
        ++pos_;
        break;
      }
      size_t n = charLength("#;/?:@&=+$,_.!~*'()[]");
      if (n == 0) fail(mark(), "end of verbatim tag not found");
      tag.append(text_.substr(pos_, n));
      pos_ += n;
    }
  } else {
    // A handle ("!name!") is word characters; anything else makes it a primary-handle suffix.
    bool can_be_handle = true;
    Mark first_non_word;
    std::string value;
    while (!atEnd()) {
      if (at() == '!') {
        if (!can_be_handle) fail(first_non_word, "illegal character found while scanning tag handle");
        break;
      }
      size_t n = 0;
      if (can_be_handle) {
        n = isWordChar(at()) ? 1 : 0;
        if (n == 0) {
          can_be_handle = false;
          first_non_word = mark();
        }
      }
      if (!can_be_handle) n = charLength(kTagChars);
      if (n == 0) break;
      value.append(text_.substr(pos_, n));
      pos_ += n;
    }
    if (can_be_handle && !atEnd() && at() == '!') {
      ++pos_;
      std::string suffix;
      for (size_t n; (n = charLength(kTagChars)) > 0; pos_ += n) suffix.append(text_.substr(pos_, n));
      if (suffix.empty()) fail(mark(), "tag handle with no suffix");
      tag = (value.empty() ? std::string("tag:yaml.org,2002:") : "!" + value + "!") + suffix;
    } else if (!can_be_handle && value.empty()) {
      tag = "!";
    } else if (value.empty()) {
      tag = "tag:yaml.org,2002:";  // "!!" with nothing after it, at the end of the text
    } else {
      tag = "!" + value;
    }
  }
  Token& t = push(TokenType::Tag, m);
  pushText(t, tag);
}

void Scanner::scanPlainScalar() {
  ScalarParams p;
  p.end = inFlow() ? End::PlainFlow : End::PlainBlock;
  p.indent = inFlow() ? 0 : topIndent() + 1;
  p.fold = Fold::Flow;
  p.eat_leading_whitespace = true;
  p.trim_trailing_spaces = true;
  p.chomp = Chomp::Strip;
  p.break_on_document_marker = true;
  p.throw_on_tab_in_indentation = true;
  insertPotentialSimpleKey();
  Mark m = mark();
  size_t start = pos_;
  scanScalar(p);
  if (pos_ == start) fail(m, "unknown token");  // never loop on a scalar that reads nothing
  // A key may follow only when the scalar ended by starting a new, less indented line.
  simple_key_allowed_ = p.leading_spaces;
  can_be_json_flow_ = false;
  Token& t = push(TokenType::PlainScalar, m);
  pushText(t, scalarText());
}

void Scanner::scanQuotedScalar() {
  ScalarParams p;
  bool single = at() == '\'';
  p.end = single ? End::SingleQuote : End::DoubleQuote;
  p.eat_end = true;
  p.escape = single ? '\'' : '\\';
  p.fold = Fold::Flow;
  p.eat_leading_whitespace = true;
  p.chomp = Chomp::Clip;
  p.throw_on_document_marker = true;
  insertPotentialSimpleKey();
  Mark m = mark();
  ++pos_;
  scanScalar(p);
  simple_key_allowed_ = false;
  can_be_json_flow_ = true;
  Token& t = push(TokenType::NonPlainScalar, m);
  pushText(t, scalarText());
}

void Scanner::scanBlockScalar() {
  ScalarParams p;
  p.indent = 1;
  p.detect_indent = true;
  Mark m = mark();
  p.fold = at() == '>' ? Fold::Block : Fold::None;
  ++pos_;
  // Chomping and indentation indicators, in either order: "|-", "|2", ">+1", ">1-".
  auto chompIndicator = [](char c) { return c == '+' || c == '-'; };
  size_t n = 0;
  if ((chompIndicator(at()) && isDigit(at(1))) || (isDigit(at()) && chompIndicator(at(1)))) n = 2;
  else if (chompIndicator(at()) || isDigit(at())) n = 1;
  for (size_t i = 0; i < n; ++i) {
    char c = at();
    ++pos_;
    if (c == '+') {
      p.chomp = Chomp::Keep;
    } else if (c == '-') {
      p.chomp = Chomp::Strip;
    } else {
      if (c == '0') fail(mark(), "cannot set zero indentation for a block scalar");
      p.indent = c - '0';
      p.detect_indent = false;
    }
  }
  while (blankAt()) ++pos_;
  if (at() == '#')
    while (!atEnd() && breakAt() == 0) ++pos_;
  if (!atEnd() && breakAt() == 0) fail(mark(), "unexpected character in block scalar");
  if (topIndent() >= 0) p.indent += topIndent();
  p.throw_on_tab_in_indentation = true;
  scanScalar(p);
  simple_key_allowed_ = true;  // the next token starts a line
  can_be_json_flow_ = false;
  Token& t = push(TokenType::NonPlainScalar, m);
  pushText(t, scalarText());
}

// ---- scalars ----

int Scanner::endMatch(const ScalarParams& p) const {
  auto commentAfterSpace = [&]() -> int {
    int n = blankAt() ? 1 : breakAt();
    return n > 0 && at(size_t(n)) == '#' ? n + 1 : -1;
  };
  switch (p.end) {
    case End::None: return atEnd() ? 0 : -1;
    case End::PlainBlock:
      if (at() == ':' && !atEnd() && blankBreakOrEndAt(1)) return 1;
      return commentAfterSpace();
    case End::PlainFlow:
      if (atEnd()) return -1;
      if (at() == ':' && (blankBreakOrEndAt(1) || isOneOf(at(1), ",]}"))) return 1;
      if (isOneOf(at(), ",?[]{}")) return 1;
      return commentAfterSpace();
    case End::SingleQuote: return !atEnd() && at() == '\'' && at(1) != '\'' ? 1 : -1;
    case End::DoubleQuote: return !atEnd() && at() == '"' ? 1 : -1;
  }
  return -1;
}

void Scanner::appendCodePoint(int digits) {
  // Like yaml-cpp, take all the digits first (past the end of the text too, each counting one
  // column), then judge them, so errors point where yaml-cpp's do.
  uint32_t value = 0;
  bool hex = true;
  int past_end = 0;
  for (int i = 0; i < digits; ++i) {
    if (atEnd()) {
      ++past_end;
      hex = false;
      continue;
    }
    char c = at();
    if (breakAt() == 1) eatBreak();
    else ++pos_;
    hex = hex && isHex(c);
    if (hex) value = value * 16 + uint32_t(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  Mark m = mark();
  m.column += past_end;
  if (!hex) fail(m, "bad character found while scanning hex number");
  if ((value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF) fail(m, "invalid unicode: " + std::to_string(value));
  appendUtf8(scratch_, value);
}

void Scanner::appendEscape(char escape) {
  ++pos_;  // the escape character
  if (atEnd()) fail(Mark{line_, column() + 1}, "unknown escape character: (end of text)");
  char c = at();
  ++pos_;
  if (escape == '\'' && c == '\'') {
    scratch_ += '\'';
    return;
  }
  switch (c) {
    case '0': scratch_ += '\0'; return;
    case 'a': scratch_ += '\x07'; return;
    case 'b': scratch_ += '\x08'; return;
    case 't':
    case '\t': scratch_ += '\t'; return;
    case 'n': scratch_ += '\n'; return;
    case 'v': scratch_ += '\x0B'; return;
    case 'f': scratch_ += '\x0C'; return;
    case 'r': scratch_ += '\r'; return;
    case 'e': scratch_ += '\x1B'; return;
    case ' ': scratch_ += ' '; return;
    case '"': scratch_ += '"'; return;
    case '\'': scratch_ += '\''; return;
    case '\\': scratch_ += '\\'; return;
    case '/': scratch_ += '/'; return;
    // yaml-cpp 0.7 writes these two as single Latin-1 bytes, not UTF-8; kept for the same trees.
    case 'N': scratch_ += '\x85'; return;           // next line
    case '_': scratch_ += '\xA0'; return;           // no-break space
    case 'L': scratch_ += "\xE2\x80\xA8"; return;  // line separator
    case 'P': scratch_ += "\xE2\x80\xA9"; return;  // paragraph separator
    case 'x': return appendCodePoint(2);
    case 'u': return appendCodePoint(4);
    case 'U': return appendCodePoint(8);
  }
  fail(mark(), std::string("unknown escape character: ") + c);
}

// yaml-cpp's scalar scanning in three phases per line: content up to the line break, the
// break, then the next line's indentation — folding and chomping as it goes. The content is
// gathered in scratch_; scalarText() gives it back as a view into the source when it matches.
void Scanner::scanScalar(ScalarParams& p) {
  scratch_.clear();
  content_start_ = kNone;
  const StopTable& stops = stopsFor(int(p.end));
  bool found_non_empty_line = false;
  bool past_opening_break = p.fold == Fold::Flow;
  bool empty_line = false, more_indented = false;
  int folded_newlines = 0;
  bool folded_started_more_indented = false;
  size_t last_escaped = kNone;
  p.leading_spaces = false;

  while (!atEnd()) {
    // Phase 1: content up to the end of the line.
    size_t last_non_blank = scratch_.size();
    bool escaped_newline = false;
    for (;;) {
      if (endMatch(p) >= 0 || breakAt() > 0 || atEnd()) break;
      if (column() == 0 && documentMarkerAt()) {
        if (p.break_on_document_marker) break;
        if (p.throw_on_document_marker) fail(mark(), "illegal document indicator in scalar");
      }
      found_non_empty_line = past_opening_break = true;
      if (p.escape == '\\' && at() == '\\' && breakAt(1) > 0) {
        ++pos_;
        last_non_blank = last_escaped = scratch_.size();
        escaped_newline = true;
        break;
      }
      if (p.escape != 0 && at() == p.escape) {
        appendEscape(p.escape);
        last_non_blank = last_escaped = scratch_.size();
        continue;
      }
      // This byte is content, and so is every following one that cannot end the scalar,
      // break the line or start an escape.
      size_t start = pos_++;
      while (pos_ < text_.size() && !stops[uint8_t(text_[pos_])]) ++pos_;
      if (content_start_ == kNone) content_start_ = start;
      scratch_.append(text_.data() + start, pos_ - start);
      size_t k = pos_;
      while (k > start && (text_[k - 1] == ' ' || text_[k - 1] == '\t')) --k;
      if (k > start) last_non_blank = scratch_.size() - (pos_ - k);
    }
    if (atEnd()) {
      if (p.eat_end) fail(mark(), "illegal EOF in scalar");
      break;
    }
    if (p.break_on_document_marker && column() == 0 && documentMarkerAt()) break;
    if (int n = endMatch(p); n >= 0) {
      if (p.eat_end) pos_ += size_t(n);
      break;
    }
    if (p.fold == Fold::Flow) scratch_.resize(last_non_blank);

    // Phase 2: the line break.
    eatBreak();

    // Phase 3: the next line's indentation.
    while (at() == ' ' && (column() < p.indent || (p.detect_indent && !found_non_empty_line)) && endMatch(p) < 0) ++pos_;
    if (p.detect_indent && !found_non_empty_line) p.indent = std::max(p.indent, column());
    while (blankAt()) {
      if (at() == '\t' && column() < p.indent && p.throw_on_tab_in_indentation)
        fail(mark(), "illegal tab when looking for indentation");
      if (!p.eat_leading_whitespace || endMatch(p) >= 0) break;
      ++pos_;
    }
    bool next_empty = breakAt() > 0;
    bool next_more_indented = blankAt();
    if (p.fold == Fold::Block && folded_newlines == 0 && next_empty) folded_started_more_indented = more_indented;
    if (past_opening_break) {
      switch (p.fold) {
        case Fold::None: scratch_ += '\n'; break;
        case Fold::Block:
          if (!empty_line && !next_empty && !more_indented && !next_more_indented && column() >= p.indent) scratch_ += ' ';
          else if (next_empty) ++folded_newlines;
          else scratch_ += '\n';
          if (!next_empty && folded_newlines > 0) {
            scratch_.append(size_t(folded_newlines - 1), '\n');
            if (folded_started_more_indented || next_more_indented || !found_non_empty_line) scratch_ += '\n';
            folded_newlines = 0;
          }
          break;
        case Fold::Flow:
          if (next_empty) scratch_ += '\n';
          else if (!empty_line && !escaped_newline) scratch_ += ' ';
          break;
      }
    }
    empty_line = next_empty;
    more_indented = next_more_indented;
    past_opening_break = true;
    if (!empty_line && column() < p.indent) {
      p.leading_spaces = true;
      break;
    }
  }

  // What an escape produced is never trimmed or chomped away.
  auto keepEscaped = [&](size_t k) {
    return last_escaped != kNone && (k < last_escaped || k == kNone) ? last_escaped : k;
  };
  if (p.trim_trailing_spaces) {
    size_t k = keepEscaped(scratch_.find_last_not_of(" \t"));
    if (k < scratch_.size()) scratch_.erase(k + 1);
  }
  if (p.chomp != Chomp::Keep) {
    size_t k = keepEscaped(scratch_.find_last_not_of('\n'));
    if (k == kNone) scratch_.clear();
    else if (p.chomp == Chomp::Clip && k + 1 < scratch_.size()) scratch_.erase(k + 2);
    else if (p.chomp == Chomp::Strip && k < scratch_.size()) scratch_.erase(k + 1);
  }
}

std::string_view Scanner::scalarText() const {
  if (content_start_ != kNone && text_.compare(content_start_, scratch_.size(), scratch_) == 0)
    return text_.substr(content_start_, scratch_.size());
  return scratch_;
}

}  // namespace monomesh::config::yaml
