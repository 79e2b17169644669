// nghttp2's callbacks for Session: frames and header fields coming in are turned into stream
// state and wake-ups; frames going out are counted; body bytes are pulled from stream queues.
#pragma once

#include "net/h2/h2_options.h"

#include <nghttp2/nghttp2.h>

#include <vector>

namespace monomesh::net::h2 {

class Session;
class Stream;

// Name/value views for nghttp2's submit calls, in `nva` (a session's, reused); valid while
// `headers` lives. `List`: Headers or a span of HeaderRef.
template <class List>
std::vector<nghttp2_nv>& toNv(const List& headers, std::vector<nghttp2_nv>& nva) {
  nva.clear();
  for (const auto& h : headers) {
    // nghttp2 copies names and values (no NO_COPY flags), so the casts never lead to writes.
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(h.name.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(h.value.data())), h.name.size(), h.value.size(),
                   NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

struct SessionCallbacks {
  // The callback table, built once.
  static nghttp2_session_callbacks* table();
  // The data provider for a stream's queued body (source.ptr is the Stream).
  static ssize_t readBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void* user_data);

 private:
  static void headersComplete(Session& session, Stream& stream, const nghttp2_frame* frame);
  static void refillResetTokens(Session& session);
  static int onBeginHeaders(nghttp2_session* s, const nghttp2_frame* frame, void* user_data);
  static int onHeader(nghttp2_session* s, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t flags, void* user_data);
  static int onFrameRecv(nghttp2_session* s, const nghttp2_frame* frame, void* user_data);
  static int onDataChunk(nghttp2_session* s, uint8_t flags, int32_t stream_id, const uint8_t* data, size_t len,
                         void* user_data);
  static int onStreamClose(nghttp2_session* s, int32_t stream_id, uint32_t error_code, void* user_data);
  static int onFrameSend(nghttp2_session* s, const nghttp2_frame* frame, void* user_data);
};

}  // namespace monomesh::net::h2
