// The YAML parser: each construct Kubernetes and Istio YAML (and JSON) uses, each syntax error
// with its line and column, and hostile input (truncation, nesting, alias cycles) that must end
// in an error rather than a crash or a hang.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "config/yaml/yaml_parser.h"
#include "yaml_test_util.h"

using namespace monomesh::config::yaml;
using monomesh::config::yaml::testing::render;

namespace {

struct Parsed {
  DocumentList docs;
  std::optional<ParseError> error;
};

// Scalars may point into `text`: it must outlive the result (literals do).
Parsed fast(std::string_view text) {
  Parsed p;
  p.error = parseFast(text, p.docs);
  return p;
}

std::string renderAll(const DocumentList& docs) {
  std::string out;
  for (size_t i = 0; i < docs.size(); ++i) out += (i ? " --- " : "") + render(docs[i].root());
  return out;
}

struct Construct {
  const char* name;
  const char* yaml;
  const char* tree;  // render() of every document, joined by " --- "
};

const Construct kConstructs[] = {
    {"block mapping", "a: 1\nb: two\n", "{a: 1, b: two}"},
    {"nested block mapping", "a:\n  b:\n    c: d\n  e: f\ng: h\n", "{a: {b: {c: d}, e: f}, g: h}"},
    {"block sequence", "- a\n- b\n", "[a, b]"},
    {"compact nesting", "- key: v\n  k2: v2\n- - x\n  - y\n", "[{key: v, k2: v2}, [x, y]]"},
    {"sequence at its key's indent", "a:\n- 1\n- 2\nb: 3\n", "{a: [1, 2], b: 3}"},
    {"empty values", "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: ''\n", "{a: ~, b: ~, c: ~, d: ~, e: ~, f: \"\"}"},
    {"plain multi-line", "a: one\n  two\n\n  three\nb: x\n", "{a: one two\nthree, b: x}"},
    {"plain scalars with indicators inside", "a: http://x:80/y#z\nb: -1\nc: x-y\nd: a:b\n", "{a: http://x:80/y#z, b: -1, c: x-y, d: a:b}"},
    {"comments", "# head\na: 1 # tail\n  # indented\nb: x#y\n", "{a: 1, b: x#y}"},
    {"single quotes", "a: 'it''s'\nb: 'one\n  two\n\n  three'\n", "{a: \"it's\", b: \"one two\nthree\"}"},
    {"double quotes with escapes", "a: \"\\t\\n\\\\\\\"\\/\\x41\\u00e9\\U0001F600\\e\\ \"\n",
     "{a: \"\t\n\\\"/A\xC3\xA9\xF0\x9F\x98\x80\x1B \"}"},
    {"double quotes folded and escaped break", "a: \"one\n  two \\\n  three\"\n", "{a: \"one two three\"}"},
    {"literal block", "a: |\n  l1\n   l2\n\n  l3\nb: x\n", "{a: \"l1\n l2\n\nl3\n\", b: x}"},
    {"literal block strip", "a: |-\n  l1\n\n\nb: x\n", "{a: \"l1\", b: x}"},
    {"literal block keep", "a: |+\n  l1\n\nb: x\n", "{a: \"l1\n\n\", b: x}"},
    {"literal block indentation indicator", "a: |2\n   l1\n  l2\n", "{a: \" l1\nl2\n\"}"},
    {"folded block", "a: >\n  one\n  two\n\n  three\n   more\n  end\n", "{a: \"one two\nthree\n more\nend\n\"}"},
    {"folded block strip", "a: >-\n  one\n  two\n", "{a: \"one two\"}"},
    {"flow collections", "{a: [1, {b: c}], 'd': \"e\", f: [], g: {}}", "{a: [1, {b: c}], \"d\": \"e\", f: [], g: {}}"},
    {"flow pairs and lone keys", "[a: b, c]\n--- {k}\n", "[{a: b}, c] --- {k: ~}"},
    {"json", "{\"kind\":\"List\",\"items\":[{\"a\":1,\"b\":[true,false,null]}],\"n\":-1.5e3}",
     "{\"kind\": \"List\", \"items\": [{\"a\": 1, \"b\": [true, false, ~]}], \"n\": -1.5e3}"},
    {"document markers", "---\na: 1\n...\n---\nb: 2\n", "{a: 1} --- {b: 2}"},
    {"document on the marker line", "--- text\n--- |\n  lit\n", "text --- \"lit\n\""},
    {"empty documents", "---\n---\n", "~ --- ~"},
    {"comments only", "# nothing\n\n", ""},
    {"anchors and aliases", "a: &x {b: 1}\nc: *x\nd: &s str\ne: *s\n", "{a: {b: 1}, c: {b: 1}, d: str, e: str}"},
    {"tags", "a: !!str 80\nb: !foo bar\nc: !<tag:x> y\nd: ! z\ne: !!str\n",
     "{a: <tag:yaml.org,2002:str>\"80\", b: <!foo>\"bar\", c: <tag:x>\"y\", d: \"z\", e: <tag:yaml.org,2002:str>\"\"}"},
    {"explicit keys", "? a\n: b\n? [c]\n: d\n", "{a: b, [c]: d}"},
    {"crlf line ends", "a: 1\r\nb:\r\n  - x\r\n", "{a: 1, b: [x]}"},
    {"tabs between tokens", "a:\tb\nc: [\t1,\t2 ]\n", "{a: b, c: [1, 2]}"},
    {"duplicate keys are kept", "a: 1\na: 2\n", "{a: 1, a: 2}"},
    {"utf-8", "name: caf\xC3\xA9\n", "{name: caf\xC3\xA9}"},
};

struct SyntaxErrorCase {
  const char* name;
  const char* yaml;
  const char* message;  // as yaml-cpp words it
  int line, column;     // 1-based
};

// Positions and messages are yaml-cpp's for the same text (the differential test checks more).
const SyntaxErrorCase kErrors[] = {
    {"unclosed flow sequence", "a: [1, 2\n", "end of sequence flow not found", 2, 1},
    {"unclosed flow mapping", "a: {b: 1\n", "end of map flow not found", 2, 1},
    {"bad indentation", "a: 1\nb:\n  c: 2\n d: 3\n", "end of map not found", 4, 2},
    {"tab as indentation", "a:\n\tb: 1\n", "illegal map value", 2, 3},
    {"two values on a line", "a: b: c\n", "illegal map value", 1, 5},
    {"text after a quoted value", "a: \"x\" y\n", "end of map not found", 1, 8},
    {"key after a list", "a:\n  - b\n  c: d\n", "end of map not found", 3, 3},
    {"flow end without start", "]\n", "illegal flow end", 1, 1},
    {"unknown escape", "a: \"\\q\"\n", "unknown escape character: q", 1, 7},
    {"bad hex escape", "a: \"\\xZZ\"\n", "bad character found while scanning hex number", 1, 9},
    {"surrogate escape", "a: \"\\uD800\"\n", "invalid unicode: 55296", 1, 11},
    {"unterminated quote", "a: \"abc", "illegal EOF in scalar", 1, 8},
    {"document marker in a quote", "a: \"x\n---\ny\"\n", "illegal document indicator in scalar", 2, 1},
    {"undefined alias", "a: *x\n", "the referenced anchor is not defined", 1, 4},
    {"two anchors", "a: &x &y b\n", "cannot assign multiple anchors to the same node", 1, 7},
    {"two tags", "a: !t !u b\n", "cannot assign multiple tags to the same node", 1, 7},
    {"empty anchor", "a: & x\n", "anchor not found after &", 1, 5},
    {"zero block indentation", "a: |0\n  x\n", "cannot set zero indentation for a block scalar", 1, 6},
    {"text after a block indicator", "a: |x\n", "unexpected character in block scalar", 1, 5},
    {"tag without suffix", "a: !!\n", "tag handle with no suffix", 1, 6},
    {"unclosed verbatim tag", "a: !<abc\n", "end of verbatim tag not found", 1, 9},
    {"bad tag handle", "a: !a/b!c x\n", "illegal character found while scanning tag handle", 1, 6},
    {"reserved indicator", "a: @x\n", "unknown token", 1, 4},
    // Ours alone: yaml-cpp 0.7 loops forever on it, and builds an endless tree from the cycle.
    {"token no document takes", ", a\n", "unexpected token where a document should start", 1, 1},
    {"alias inside its own node", "a: &x [*x]\n", kAliasCycle, 1, 8},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(yaml_parser)

BOOST_AUTO_TEST_CASE(constructs) {
  for (const auto& c : kConstructs) {
    BOOST_TEST_CONTEXT(c.name) {
      Parsed p = fast(c.yaml);
      BOOST_TEST_REQUIRE(!p.error, (p.error ? p.error->message : ""));
      BOOST_TEST(renderAll(p.docs) == c.tree);
    }
  }
}

BOOST_AUTO_TEST_CASE(positions_are_yaml_cpps) {
  Parsed p = fast("a:\n  b: [x, {y: z}]\n  c: |\n    t\n");
  BOOST_TEST_REQUIRE(!p.error);
  Node b = p.docs[0].root().find("a").find("b");
  BOOST_TEST(b.line() == 2);
  BOOST_TEST(b.column() == 6);
  BOOST_TEST(b[1].find("y").column() == 14);  // the value z
  BOOST_TEST(p.docs[0].root().find("a").find("c").line() == 3);  // a block scalar: its indicator
  BOOST_TEST(p.docs[0].root().find("a").entry(1).key.column() == 3);
  BOOST_TEST(p.docs[0].root().find("a").find("missing").defined() == false);
}

BOOST_AUTO_TEST_CASE(quoted_and_plain_are_told_apart) {
  Parsed p = fast("a: 80\nb: \"80\"\nc: '80'\nd: |\n  80\ne: !!str 80\n");
  BOOST_TEST_REQUIRE(!p.error);
  Node root = p.docs[0].root();
  BOOST_TEST(root.find("a").isPlainScalar());
  for (const char* k : {"b", "c", "d", "e"}) BOOST_TEST(!root.find(k).isPlainScalar(), k);
  BOOST_TEST(root.find("b").tag() == "!");
  BOOST_TEST(fast("a: \"null\"\n").docs[0].root().find("a").isScalar());
  BOOST_TEST(fast("a: null\n").docs[0].root().find("a").isNull());
}

BOOST_AUTO_TEST_CASE(unchanged_scalars_point_into_the_text) {
  std::string text = "a: plain\nb: \"quoted\"\nc: \"esc\\n\"\nd: two\n  lines\n";
  DocumentList docs;
  BOOST_TEST_REQUIRE(!parseFast(text, docs));
  Node root = docs[0].root();
  auto inText = [&](Node n) {
    const char* p = n.scalar().data();
    return p >= text.data() && p < text.data() + text.size();
  };
  BOOST_TEST(inText(root.find("a")));
  BOOST_TEST(inText(root.find("b")));
  BOOST_TEST(!inText(root.find("c")));  // unescaped into the document
  BOOST_TEST(!inText(root.find("d")));  // folded
  BOOST_TEST(root.find("d").scalar() == "two lines");
}

BOOST_AUTO_TEST_CASE(aliases_share_the_node_they_name) {
  Parsed p = fast("a: &x {b: 1}\nc: *x\n");
  BOOST_TEST_REQUIRE(!p.error);
  BOOST_TEST((p.docs[0].root().find("a") == p.docs[0].root().find("c")));
  // Nine levels of nine aliases: 9^9 values if copied, a handful of nodes when shared.
  std::string bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  const char* names = "abcdefghi";
  for (int i = 1; i < 9; ++i) {
    bomb += std::string(1, names[i]) + ": &" + names[i] + " [";
    for (int j = 0; j < 9; ++j) bomb += std::string(j ? ", *" : "*") + names[i - 1];
    bomb += "]\n";
  }
  Parsed b = fast(bomb);
  BOOST_TEST_REQUIRE(!b.error);
  BOOST_TEST(b.docs[0].nodeCount() < 50u);
}

BOOST_AUTO_TEST_CASE(syntax_errors_name_line_and_column) {
  for (const auto& c : kErrors) {
    BOOST_TEST_CONTEXT(c.name) {
      Parsed p = fast(c.yaml);
      BOOST_TEST_REQUIRE(p.error.has_value());
      BOOST_TEST(p.error->message == c.message);
      BOOST_TEST(p.error->mark.line + 1 == c.line);
      BOOST_TEST(p.error->mark.column + 1 == c.column);
      BOOST_TEST(p.docs.empty());
      // The config model's entry point reports the same.
      DocumentList docs;
      auto e = parseYaml(c.yaml, docs);
      BOOST_TEST_REQUIRE(e.has_value());
      BOOST_TEST(e->message == c.message);
      BOOST_TEST(e->mark.line + 1 == c.line);
    }
  }
}

BOOST_AUTO_TEST_CASE(nesting_is_bounded) {
  DocumentList docs;
  std::string ok = std::string(kMaxNestingDepth - 1, '[') + std::string(kMaxNestingDepth - 1, ']');
  BOOST_TEST(!parseFast(ok, docs));
  std::string maps = "x: ";
  for (int i = 0; i < 20000; ++i) maps += "{a: ";
  maps += "1" + std::string(20000, '}');
  for (const std::string& deep : {std::string(100000, '[') + std::string(100000, ']'), std::string(10000, '['), maps}) {
    auto e = parseFast(deep, docs);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->message == "nested too deeply (more than 500 levels)");
  }
  std::string block;
  for (int i = 0; i < 3000; ++i) block += std::string(size_t(i), ' ') + "a:\n";
  BOOST_TEST(parseFast(block, docs).has_value());
  std::string dashes;
  for (int i = 0; i < 3000; ++i) dashes += "- ";
  BOOST_TEST(parseFast(dashes + "x\n", docs).has_value());
}

BOOST_AUTO_TEST_CASE(truncated_text_ends_in_a_result_never_a_hang) {
  const std::string text =
      "apiVersion: v1\nkind: \"List\"\nitems:\n- a: &x {b: [1, 'two', \"th\\u0072ee\"]}\n  c: *x\n"
      "  d: |-\n    lit\n  e: >\n    fold\n  f: !!str 9\n? k\n: v\n---\n{\"json\": [true, null]}\n";
  auto start = std::chrono::steady_clock::now();
  DocumentList docs;
  for (size_t n = 0; n <= text.size(); ++n) {
    auto e = parseYaml(std::string_view(text).substr(0, n), docs);
    if (e) BOOST_TEST(e->mark.line >= 0);
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  BOOST_TEST(took.count() < 10000);
}

BOOST_AUTO_TEST_CASE(left_to_yaml_cpp) {
  // Directives, byte-order marks and UTF-16 are read by yaml-cpp into the same tree.
  for (std::string text : {std::string("%YAML 1.2\n---\na: 1\n"), std::string("\xEF\xBB\xBF" "a: 1\n"),
                           std::string("a\0:\0 \0" "1\0\n\0", 10)}) {
    DocumentList docs;
    auto e = parseFast(text, docs);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->unsupported);
    size_t before = yamlCppFallbacks();
    BOOST_TEST_REQUIRE(!parseYaml(text, docs));
    BOOST_TEST(yamlCppFallbacks() == before + 1);
    BOOST_TEST(render(docs[0].root()) == "{a: 1}");
  }
}

BOOST_AUTO_TEST_CASE(repeated_keys) {
  Parsed p = fast("a: 1\nb: 2\na: 3\n");
  BOOST_TEST_REQUIRE(!p.error);
  RepeatedKeys small(p.docs[0].root());
  BOOST_TEST(small.firstLine(0) == 0);
  BOOST_TEST(small.firstLine(1) == 0);
  BOOST_TEST(small.firstLine(2) == 1);
  std::string many;
  for (int i = 0; i < 40; ++i) many += "k" + std::to_string(i) + ": v\n";
  many += "k7: again\n";
  Parsed m = fast(many);
  RepeatedKeys large(m.docs[0].root());
  for (size_t i = 0; i < 40; ++i) BOOST_TEST(large.firstLine(i) == 0);
  BOOST_TEST(large.firstLine(40) == 8);
}

BOOST_AUTO_TEST_CASE(document_lists_are_reused) {
  DocumentList docs;
  BOOST_TEST_REQUIRE(!parseFast("a: 1\n---\nb: 2\n", docs));
  BOOST_TEST(docs.size() == 2u);
  const Document* first = &docs[0];
  BOOST_TEST_REQUIRE(!parseFast("c: 3\n", docs));
  BOOST_TEST(docs.size() == 1u);
  BOOST_TEST(&docs[0] == first);
  BOOST_TEST(render(docs[0].root()) == "{c: 3}");
  BOOST_TEST(!parseFast("", docs));
  BOOST_TEST(docs.empty());
}

BOOST_AUTO_TEST_SUITE_END()
