// The WATCH protocol's pieces: a chunked response body cut into newline-separated JSON lines
// (bounded, so a server cannot make us buffer without limit), and each line parsed into one
// event (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR). A line that is not a well-formed event is a
// stream error (the watch is restarted); an event whose object is invalid is reported, not applied.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "config/kube/kube_object.h"

namespace monomesh::config::kube {

class WatchLineBuffer {
 public:
  explicit WatchLineBuffer(size_t max_line) : max_line_(max_line) {}

  // Adds body bytes; false once an unfinished line is longer than the limit.
  bool append(std::string_view bytes);
  // The next complete line without its newline (empty lines are skipped).
  std::optional<std::string> next();
  size_t pending() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  size_t start_ = 0;  // where the unread part begins
  size_t max_line_;
};

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };
std::string_view watchEventTypeName(WatchEventType type);  // "ADDED"...

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  KubeObject object;    // Added/Modified/Deleted; for Bookmark only resource_version is set
  int code = 0;         // Error: the Status code (410 when the version is gone)
  std::string message;  // Error: the Status message
};

struct WatchEventParse {
  std::optional<WatchEvent> event;
  std::string error;  // set when the line is not a well-formed event
};

WatchEventParse parseWatchEvent(std::string_view line, const Schema& schema, const LoadOptions& options,
                                const std::string& origin);

}  // namespace monomesh::config::kube
