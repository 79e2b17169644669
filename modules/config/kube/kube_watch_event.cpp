#include "config/kube/kube_watch_event.h"

#include <charconv>

#include "config/yaml/yaml_parser.h"

namespace monomesh::config::kube {

bool WatchLineBuffer::append(std::string_view bytes) {
  if (start_ > 0 && start_ * 2 >= buffer_.size()) {  // drop consumed lines before growing
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
  size_t last_newline = buffer_.rfind('\n');
  size_t unfinished_from = last_newline == std::string::npos || last_newline < start_ ? start_ : last_newline + 1;
  if (buffer_.size() - unfinished_from > max_line_) return false;
  // A complete line can be over the limit too when it arrived in one piece.
  for (size_t from = start_; from < unfinished_from;) {
    size_t end = buffer_.find('\n', from);
    if (end - from > max_line_) return false;
    from = end + 1;
  }
  return true;
}

std::optional<std::string> WatchLineBuffer::next() {
  for (;;) {
    size_t end = buffer_.find('\n', start_);
    if (end == std::string::npos) return std::nullopt;
    std::string line = buffer_.substr(start_, end - start_);
    start_ = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) return line;
  }
}

std::string_view watchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::Added: return "ADDED";
    case WatchEventType::Modified: return "MODIFIED";
    case WatchEventType::Deleted: return "DELETED";
    case WatchEventType::Bookmark: return "BOOKMARK";
    case WatchEventType::Error: return "ERROR";
  }
  return "?";
}

WatchEventParse parseWatchEvent(std::string_view line, const Schema& schema, const LoadOptions& options,
                                const std::string& origin) {
  WatchEventParse out;
  yaml::DocumentList docs;
  if (auto e = yaml::parseYaml(line, docs)) {
    out.error = "malformed event (column " + std::to_string(e->mark.column + 1) + "): " + e->message;
    return out;
  }
  yaml::Node root = docs.empty() ? yaml::Node() : docs[0].root();
  if (!root.isMapping() || line.front() != '{') {
    out.error = "malformed event: expected a JSON object";
    return out;
  }
  yaml::Node type = root.find("type"), object = root.find("object");
  if (!type.isScalar()) {
    out.error = "malformed event: no \"type\"";
    return out;
  }
  WatchEvent event;
  const std::string name(type.scalar());
  if (name == "ADDED") event.type = WatchEventType::Added;
  else if (name == "MODIFIED") event.type = WatchEventType::Modified;
  else if (name == "DELETED") event.type = WatchEventType::Deleted;
  else if (name == "BOOKMARK") event.type = WatchEventType::Bookmark;
  else if (name == "ERROR") event.type = WatchEventType::Error;
  else {
    out.error = "unknown event type \"" + name.substr(0, 64) + "\"";
    return out;
  }
  if (!object.isMapping()) {
    out.error = std::string(watchEventTypeName(event.type)) + " event without an \"object\"";
    return out;
  }
  if (event.type == WatchEventType::Error) {
    // A metav1.Status: {"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}.
    std::string_view code = object.find("code").scalar();
    std::from_chars(code.data(), code.data() + code.size(), event.code);
    event.message = object.find("message").scalar();
  } else if (event.type == WatchEventType::Bookmark) {
    std::string_view rv = object.find("metadata").find("resourceVersion").scalar();
    if (rv.empty()) {
      out.error = "BOOKMARK event without metadata.resourceVersion";
      return out;
    }
    event.object.resource_version = rv;
  } else {
    event.object = convertObject(object, schema, options, origin);
  }
  out.event = std::move(event);
  return out;
}

}  // namespace monomesh::config::kube
