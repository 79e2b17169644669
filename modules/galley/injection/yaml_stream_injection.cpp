#include "galley/injection/yaml_stream_injection.h"

#include "galley/injection/yaml_writer.h"

namespace monomesh::galley::injection {

namespace {

struct Piece {
  std::string text;       // the document's lines
  int first_line = 0;     // 0-based line of its first line in the file
  std::string separator;  // the `---` line after it, if any (with its newline)
};

bool isSeparator(const std::string& line) {
  size_t end = line.find_last_not_of(" \t\r\n");
  return end != std::string::npos && line.compare(0, end + 1, "---") == 0;
}

std::vector<Piece> split(const std::string& text) {
  std::vector<Piece> pieces(1);
  int line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
    if (isSeparator(line)) {
      pieces.back().separator = line;
      pieces.push_back(Piece{"", line_no + 1, ""});
    } else {
      pieces.back().text += line;
    }
    ++line_no;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return pieces;
}

}  // namespace

StreamInjection injectYamlStream(const std::string& text, const std::string& file, const Injector& injector) {
  StreamInjection result;
  std::string output;
  for (const Piece& piece : split(text)) {
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(piece.text);
    } catch (const YAML::Exception& e) {
      result.errors.push_back(config::ConfigError{
          config::SourcePosition{file, piece.first_line + e.mark.line + 1, e.mark.column + 1}, "", "", "invalid YAML: " + e.msg});
      continue;
    }
    std::string written;
    bool changed = false;
    for (size_t i = 0; i < documents.size(); ++i) {
      InjectResult r = injector.injectObject(documents[i]);
      for (auto e : r.errors) {
        e.position.file = file;
        if (e.position.line > 0) e.position.line += piece.first_line;
        result.errors.push_back(e);
      }
      result.skipped.insert(result.skipped.end(), r.skipped.begin(), r.skipped.end());
      if (r.action == InjectAction::Injected) {
        changed = true;
        ++result.injected;
      }
      written += (i ? "---\n" : "") + toYaml(r.object);
    }
    output += (changed ? written : piece.text) + piece.separator;
  }
  if (result.errors.empty()) result.output = std::move(output);
  return result;
}

}  // namespace monomesh::galley::injection
