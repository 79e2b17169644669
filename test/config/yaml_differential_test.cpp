// Our YAML parser against yaml-cpp (what Monomesh read before it): every YAML and JSON file of
// the shared Istio samples, the Envoy examples, the repository's samples and test data must give
// the same trees (kinds, scalars, tags, lines, columns), and random truncations and mutations of
// them must give the same trees or the same errors at the same place — never a crash or a hang.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/yaml/yaml_from_yamlcpp.h"
#include "config/yaml/yaml_parser.h"
#include "yaml_test_util.h"

namespace fs = std::filesystem;
using namespace monomesh::config::yaml;
using monomesh::config::yaml::testing::firstDifference;

namespace {

const fs::path kSource = MONOMESH_SOURCE_DIR;

std::vector<fs::path> yamlFilesUnder(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) {
    BOOST_TEST_MESSAGE("skipping " << dir.string() << ": not found");
    return out;
  }
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().string().find("node_modules") != std::string::npos) continue;
    auto ext = e.path().extension().string();
    if (ext == ".yaml" || ext == ".yml" || ext == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> corpus() {
  std::vector<fs::path> all;
  for (const fs::path& dir : {kSource / ".." / "shared" / "istio-samples", kSource / ".." / "shared" / "envoy-examples",
                              kSource / "samples", kSource / "test"}) {
    auto files = yamlFilesUnder(dir);
    all.insert(all.end(), files.begin(), files.end());
  }
  return all;
}

std::string readFile(const fs::path& p) {
  std::string error;
  return monomesh::config::readConfigFile(p.string(), size_t(1) << 26, error).value_or("");
}

// Where the two parsers disagree on `text`, or "" when they agree.
std::string disagreement(const std::string& text) {
  DocumentList ours, theirs;
  auto e1 = parseFast(text, ours);
  if (e1 && e1->unsupported) return "";  // yaml-cpp's to read
  // yaml-cpp 0.7 would loop forever here; our parser stops with its own error.
  if (e1 && e1->message == "unexpected token where a document should start") return "";
  auto e2 = parseWithYamlCpp(text, theirs);
  auto where = [](const std::optional<ParseError>& e) {
    return e ? std::to_string(e->mark.line + 1) + ":" + std::to_string(e->mark.column + 1) + " " + e->message : "ok";
  };
  if (e1 || e2) {
    if (!e1 || !e2) return "ours: " + where(e1) + ", yaml-cpp: " + where(e2);
    // An escape cut off by the end of the text: yaml-cpp quotes its end-of-stream byte 0x04,
    // we say "(end of text)".
    std::string theirs = e2->message;
    if (!theirs.empty() && theirs.back() == '\x04') theirs.pop_back();
    bool same_message = e1->message == theirs || e1->message.starts_with(theirs + "(end of text)");
    if (!same_message || e1->mark.line != e2->mark.line || e1->mark.column != e2->mark.column)
      return "ours: " + where(e1) + ", yaml-cpp: " + where(e2);
    return "";
  }
  return firstDifference(ours, theirs);
}

// A few bytes changed: cut, dropped, or replaced or joined by a YAML indicator; a line indented
// or outdented by one.
std::string mutate(const std::string& text, std::mt19937& rng) {
  static const std::string kBytes = " \n\t:-?,[]{}#&*!|>'\"%@`\\~.0";
  std::string t = text;
  size_t p = rng() % t.size();
  char c = kBytes[rng() % kBytes.size()];
  switch (rng() % 6) {
    case 0: t.resize(p); break;
    case 1: t.erase(p, 1); break;
    case 2: t.insert(p, 1, c); break;
    case 3: t[p] = c; break;
    case 4: {
      size_t line = t.rfind('\n', p);
      t.insert(line == std::string::npos ? 0 : line + 1, " ");
      break;
    }
    default: {
      size_t line = t.rfind('\n', p);
      if (line != std::string::npos && line + 1 < t.size()) t.erase(line + 1, 1);
      break;
    }
  }
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(yaml_differential)

BOOST_AUTO_TEST_CASE(every_sample_file_gives_yaml_cpps_tree) {
  auto files = corpus();
  BOOST_TEST_MESSAGE(files.size() << " YAML/JSON files");
  BOOST_TEST(files.size() > 20u);
  size_t fallbacks = 0;
  for (const auto& f : files) {
    BOOST_TEST_CONTEXT(f.string()) {
      std::string text = readFile(f);
      BOOST_TEST(disagreement(text) == "");
      DocumentList docs;
      auto e = parseFast(text, docs);
      if (e && e->unsupported) ++fallbacks;
    }
  }
  BOOST_TEST(fallbacks == 0u, "files left to yaml-cpp: " << fallbacks);
}

BOOST_AUTO_TEST_CASE(mutated_files_give_the_same_trees_or_errors) {
  std::mt19937 rng(20191101);
  size_t cases = 0;
  for (const auto& f : corpus()) {
    std::string text = readFile(f);
    if (text.empty()) continue;
    for (int i = 0; i < 100; ++i) {
      std::string t = mutate(text, rng);
      if (rng() % 3 == 0 && !t.empty()) t = mutate(t, rng);
      std::string d = disagreement(t);
      ++cases;
      BOOST_TEST(d == "", f.string() << " mutation " << i << ": " << d << "\n" << t);
    }
  }
  BOOST_TEST_MESSAGE(cases << " mutated texts");
}

BOOST_AUTO_TEST_CASE(tricky_constructs_and_their_mutations) {
  const char* texts[] = {
      "a: |\n  line1\n   more\n\n  line3\nb: >\n  folded\n  text\n\n   indented\n  back\nc: |-\n  s\n\n\nd: |+\n  k\n\n\ne: >2\n   two\n",
      "a: \"esc \\t \\n \\\\ \\\" \\x41 \\u00e9 \\U0001F600 \\/ \\N \\_ \\L \\P \\0 \\a \\b \\e \\f \\r \\v \\ \"\nb: 'it''s'\n"
      "c: \"multi\n  line\n\n  para\"\nd: 'single\n  multi\n\n  x'\ne: \"trail \\\n  cont\"\n",
      "{a: [1, 2, {b: c}], 'd': \"e\", f: [], g: {}, h: [x: y, z], i: [? k : v], j: [a, , b], k: {l}, m: [:n]}\n",
      "base: &b {x: 1, y: [a, b]}\nuse: *b\nlist:\n- &s scalar\n- *s\n- !!str 80\n- !foo bar\n- !<tag:x> y\n- ! z\n- &e\n- !!null\n",
      "- a: 1\n  b: 2\n- - x\n  - y\n- ? complex\n  : value\n- key:\n  - same indent\n  - seq\n-\n- \"q\": v\n",
      "# c\n---\na: 1\n...\n--- b\n---\n- x\n--- |\n  lit\n--- >-\n  fold\n...\n",
      "a: this is\n  a multi line\n\n  plain scalar\n  # comment\nb: x # c\nc: x#y\nd: 'a' # c\ne: http://x:80/y\nh: ~\nl:\n",
      "a: 1\r\nb:\r\n  - x\r\n  - \"y\r\n  z\"\r\nc: |\r\n  l1\r\n  l2\r\n",
      "? [a, b]\n: c\n? {d: e}\n: f\n&a g: h\n*a : i\n",
  };
  std::mt19937 rng(7);
  for (const char* text : texts) {
    BOOST_TEST(disagreement(text) == "", text);
    for (int i = 0; i < 400; ++i) {
      std::string t = mutate(text, rng);
      std::string d = disagreement(t);
      BOOST_TEST(d == "", d << "\nmutation of:\n" << text << "\ngives:\n" << t);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
