#include "net/h2/h2_callbacks.h"

#include "net/h2/h2_session.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace monomesh::net::h2 {

namespace {
constexpr size_t kKeptOutboundBuffer = 64 * 1024;
// Room for a request's header fields at once (growing the list field by field cost an allocation
// at 1, 2, 4 and 8 fields); 12 x 64 bytes stays within glibc's per-thread cache sizes.
constexpr size_t kExpectedHeaders = 12;
}  // namespace

namespace {

Session& sessionOf(void* user_data) { return *static_cast<Session*>(user_data); }

Stream* streamOf(nghttp2_session* s, int32_t id) {
  return static_cast<Stream*>(nghttp2_session_get_stream_user_data(s, id));
}

}  // namespace

// A header block is complete: the first final one is the message's headers, a later one trailers.
void SessionCallbacks::headersComplete(Session& session, Stream& stream, const nghttp2_frame* frame) {
  if (!stream.headers_done_) {
    const std::string* status = findHeader(stream.in_headers_, ":status");
    if (stream.is_client_ && status && status->size() == 3 && (*status)[0] == '1') {
      stream.in_headers_.clear();  // 1xx: informational, wait for the final response
      stream.in_header_bytes_ = 0;
      return;
    }
    stream.headers_done_ = true;
    if (!stream.is_client_ && session.callbacks_.on_stream) {
      if (stream.slot_ < session.streams_.size()) {
        // Posted: the handler must not run inside nghttp2's callback (it would re-enter the
        // session), and it should see the whole frame (END_STREAM) first.
        boost::asio::post(stream.executor_, [weak = session.weak_from_this(), s = session.streams_[stream.slot_]] {
          if (auto self = weak.lock(); self && !self->closed()) self->callbacks_.on_stream(s);
        });
      }
    }
  }
  if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) stream.in_ended_ = true;
  stream.in_event_.notify();
}

int SessionCallbacks::onBeginHeaders(nghttp2_session* s, const nghttp2_frame* frame, void* user_data) {
  Session& session = sessionOf(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto stream = std::make_shared<Stream>(session.weak_from_this(), false);
  stream->id_ = frame->hd.stream_id;
  stream->executor_ = session.transport_->executor();
  stream->out_limit_ = session.options_.max_outbound_buffer;
  stream->in_headers_.reserve(kExpectedHeaders);
  nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, stream.get());
  session.addStream(std::move(stream));
  session.counters_->streams++;
  return 0;
}

int SessionCallbacks::onHeader(nghttp2_session* s, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t, void* user_data) {
  Session& session = sessionOf(user_data);
  Stream* stream = streamOf(s, frame->hd.stream_id);
  if (!stream) return 0;
  // RFC 7541's accounting (32 bytes per field) on decoded sizes: this is what bounds HPACK bombs.
  stream->in_header_bytes_ += namelen + valuelen + 32;
  if (stream->in_header_bytes_ > session.options_.max_header_list_size) {
    session.counters_->header_overflow++;
    if (++session.header_overflows_ > session.options_.max_header_overflows) {
      session.failConnection(NGHTTP2_ENHANCE_YOUR_CALM, &H2Counters::header_bomb, "repeated oversized header lists");
    }
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream
  }
  Headers& into = stream->headers_done_ ? stream->in_trailers_ : stream->in_headers_;
  into.push_back({std::string(reinterpret_cast<const char*>(name), namelen),
                  std::string(reinterpret_cast<const char*>(value), valuelen)});
  return 0;
}

void SessionCallbacks::refillResetTokens(Session& session) {
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - session.reset_refill_).count();
  session.reset_refill_ = now;
  session.reset_tokens_ = std::min<double>(session.options_.reset_burst,
                                           session.reset_tokens_ + elapsed * session.options_.resets_per_second);
}

int SessionCallbacks::onFrameRecv(nghttp2_session* s, const nghttp2_frame* frame, void* user_data) {
  Session& session = sessionOf(user_data);
  switch (frame->hd.type) {
    case NGHTTP2_DATA: {
      bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      if (frame->hd.length == 0 && !end) {
        if (++session.empty_frames_ > session.options_.max_consecutive_empty_frames) {
          session.failConnection(NGHTTP2_ENHANCE_YOUR_CALM, &H2Counters::empty_frame_flood, "empty DATA frames");
          return 0;
        }
      } else {
        session.empty_frames_ = 0;
      }
      if (Stream* stream = streamOf(s, frame->hd.stream_id); stream && end) {
        stream->in_ended_ = true;
        stream->in_event_.notify();
      }
      break;
    }
    case NGHTTP2_HEADERS:
      if (Stream* stream = streamOf(s, frame->hd.stream_id)) headersComplete(session, *stream, frame);
      break;
    case NGHTTP2_RST_STREAM:
      session.counters_->rx_reset++;
      refillResetTokens(session);
      if (session.reset_tokens_ < 1) {
        session.failConnection(NGHTTP2_ENHANCE_YOUR_CALM, &H2Counters::rapid_reset, "RST_STREAM flood");
        return 0;
      }
      session.reset_tokens_ -= 1;
      break;
    case NGHTTP2_GOAWAY:
      session.peer_goaway_ = true;
      session.counters_->goaway_received++;
      break;
    case NGHTTP2_PING:
      if (frame->hd.flags & NGHTTP2_FLAG_ACK) session.ping_outstanding_ = false;
      break;
    default:
      break;
  }
  return 0;
}

int SessionCallbacks::onDataChunk(nghttp2_session* s, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* user_data) {
  Stream* stream = streamOf(s, stream_id);
  if (!stream || stream->closed_) {
    nghttp2_session_consume_connection(s, len);  // nobody will read it: give the window back
    return 0;
  }
  (void)user_data;
  stream->in_chunks_.emplace_back(reinterpret_cast<const char*>(data), len);
  stream->in_buffered_ += len;
  stream->in_event_.notify();
  return 0;
}

int SessionCallbacks::onStreamClose(nghttp2_session* s, int32_t stream_id, uint32_t error_code, void* user_data) {
  if (Stream* stream = streamOf(s, stream_id)) sessionOf(user_data).finishStream(*stream, error_code);
  return 0;
}

int SessionCallbacks::onFrameSend(nghttp2_session* s, const nghttp2_frame* frame, void* user_data) {
  Session& session = sessionOf(user_data);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    session.counters_->goaway_sent++;
    // nghttp2 answers framing errors itself; count those that were not one of our defences.
    if (frame->goaway.error_code != NGHTTP2_NO_ERROR && !session.draining_) session.counters_->protocol_error++;
    session.draining_ = true;
  } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
    session.counters_->tx_reset++;
  }
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    // A server that answered before the request ended tells the client to stop sending
    // (RFC 9113 §8.1): RST_STREAM(NO_ERROR). The handler's pending read then ends too.
    Stream* stream = streamOf(s, frame->hd.stream_id);
    if (stream && !stream->is_client_ && !stream->in_ended_) {
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    }
  }
  return 0;
}


nghttp2_session_callbacks* SessionCallbacks::table() {
  static nghttp2_session_callbacks* callbacks = [] {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(cb, onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, onDataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, onStreamClose);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, onFrameSend);
    return cb;
  }();
  return callbacks;
}

ssize_t SessionCallbacks::readBody(nghttp2_session* s, int32_t stream_id, uint8_t* buf, size_t length,
                                   uint32_t* data_flags, nghttp2_data_source* source, void* user_data) {
  Stream& stream = *static_cast<Stream*>(source->ptr);
  size_t available = stream.out_.size() - stream.out_offset_;
  size_t n = std::min(available, length);
  if (n > 0) std::memcpy(buf, stream.out_.data() + stream.out_offset_, n);
  stream.out_offset_ += n;
  if (stream.out_offset_ == stream.out_.size()) {
    // Small buffers are kept for the next message; a large one (a full CDS for a big mesh) is
    // released, or every long-lived stream would hold its biggest message forever.
    if (stream.out_.capacity() > kKeptOutboundBuffer) std::string().swap(stream.out_);
    else stream.out_.clear();
    stream.out_offset_ = 0;
  }
  if (stream.out_.empty() && stream.out_end_) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (stream.out_trailers_) {
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      auto& nva = toNv(*stream.out_trailers_, sessionOf(user_data).nv_);
      nghttp2_submit_trailer(s, stream_id, nva.data(), nva.size());
    }
  } else if (n == 0) {
    stream.out_deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  if (stream.out_.size() - stream.out_offset_ <= sessionOf(user_data).options_.max_outbound_buffer) {
    stream.out_event_.notify();
  }
  return static_cast<ssize_t>(n);
}

}  // namespace monomesh::net::h2
