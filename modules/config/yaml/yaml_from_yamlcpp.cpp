#include "config/yaml/yaml_from_yamlcpp.h"

#include <sstream>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include "config/yaml/document_builder.h"
#include "config/yaml/yaml_scanner.h"

namespace monomesh::config::yaml {

namespace {

Mark markOf(const YAML::Mark& m) { return Mark{m.line, m.column}; }

// yaml-cpp's events into documents of `out`, one DocumentBuilder reused for all of them.
class BuildingEvents : public YAML::EventHandler {
 public:
  explicit BuildingEvents(DocumentList& out) : out_(out) {}

  void OnDocumentStart(const YAML::Mark&) override {
    builder_.start(out_.append(), {});
    anchors_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { remember(anchor, builder_.addNull(markOf(mark))); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= anchors_.size() || !builder_.addAlias(anchors_[anchor]))
      throw SyntaxError(markOf(mark), kAliasCycle);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, const std::string& value) override {
    remember(anchor, builder_.addScalar(markOf(mark), tag, value));
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    remember(anchor, builder_.beginSequence(markOf(mark), tag));
  }
  void OnSequenceEnd() override { builder_.end(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    remember(anchor, builder_.beginMapping(markOf(mark), tag));
  }
  void OnMapEnd() override { builder_.end(); }

 private:
  // yaml-cpp numbers a document's anchors 1, 2, ... in order (0 is "none").
  void remember(YAML::anchor_t anchor, uint32_t node) {
    if (anchor == YAML::NullAnchor) return;
    if (anchors_.size() <= anchor) anchors_.resize(anchor + 1, 0);
    anchors_[anchor] = node;
  }

  DocumentList& out_;
  DocumentBuilder builder_;
  std::vector<uint32_t> anchors_;
};

struct TreeCopy {
  DocumentBuilder builder;
  size_t budget;

  bool copy(const YAML::Node& node, int depth) {
    if (budget == 0 || depth > 2 * kMaxNestingDepth) return false;
    --budget;
    Mark mark = markOf(node.Mark());
    switch (node.Type()) {
      case YAML::NodeType::Scalar: builder.addScalar(mark, node.Tag(), node.Scalar()); return true;
      case YAML::NodeType::Sequence:
        builder.beginSequence(mark, node.Tag());
        for (const auto& item : node)
          if (!copy(item, depth + 1)) return false;
        builder.end();
        return true;
      case YAML::NodeType::Map:
        builder.beginMapping(mark, node.Tag());
        for (const auto& entry : node)
          if (!copy(entry.first, depth + 1) || !copy(entry.second, depth + 1)) return false;
        builder.end();
        return true;
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined: builder.addNull(mark); return true;
    }
    return true;
  }
};

}  // namespace

std::optional<ParseError> parseWithYamlCpp(std::string_view text, DocumentList& out) {
  out.clear();
  try {
    std::stringstream in{std::string(text)};
    YAML::Parser parser(in);
    BuildingEvents events(out);
    while (parser.HandleNextDocument(events)) {
    }
  } catch (const YAML::DeepRecursion& e) {
    out.clear();
    return ParseError{markOf(e.mark), "nested too deeply (more than " + std::to_string(e.depth()) + " levels)"};
  } catch (const YAML::Exception& e) {
    out.clear();
    return ParseError{markOf(e.mark), e.msg};
  } catch (const SyntaxError& e) {
    out.clear();
    return ParseError{e.mark, e.what()};
  }
  return std::nullopt;
}

bool documentFromYamlCpp(const YAML::Node& root, Document& out, size_t max_nodes) {
  TreeCopy copy{{}, max_nodes};
  copy.builder.start(out, {});
  if (!root.IsDefined()) return true;
  return copy.copy(root, 0);
}

}  // namespace monomesh::config::yaml
