#include "net/h2/h2_stream.h"

#include "net/h2/h2_session.h"

namespace monomesh::net::h2 {

const std::string* findHeader(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

boost::asio::awaitable<bool> Stream::waitHeaders() {
  while (!headers_done_ && !closed_) co_await in_event_.wait();
  co_return headers_done_;
}

boost::asio::awaitable<Stream::ReadResult> Stream::read() {
  for (;;) {
    if (in_next_ < in_chunks_.size()) {
      ReadResult result{ReadStatus::data, std::move(in_chunks_[in_next_++])};
      if (in_next_ == in_chunks_.size()) {
        in_chunks_.clear();
        in_next_ = 0;
      }
      in_buffered_ -= result.data.size();
      if (auto session = session_.lock()) session->consumed(*this, result.data.size());
      co_return result;
    }
    if (in_ended_) co_return ReadResult{ReadStatus::end, {}};
    if (closed_) co_return ReadResult{ReadStatus::reset, {}};
    co_await in_event_.wait();
  }
}

template <class List>
bool Stream::respondWith(const List& headers, bool end_stream) {
  auto session = session_.lock();
  if (!session || is_client_) return false;
  if (end_stream) out_end_ = true;
  return session->submitHeaders(*this, headers, end_stream);
}

bool Stream::respond(const Headers& headers, bool end_stream) { return respondWith(headers, end_stream); }

bool Stream::respond(std::span<const HeaderRef> headers, bool end_stream) { return respondWith(headers, end_stream); }

bool Stream::send(std::string data, bool end_stream) {
  auto session = session_.lock();
  if (!session || closed_ || !out_has_body_ || out_end_) return false;
  if (out_.empty()) {
    out_ = std::move(data);
    out_offset_ = 0;
  } else {
    out_.append(data);
  }
  out_end_ = end_stream;
  if (!session->resumeData(*this)) return false;
  // Closed by now only when nghttp2 sent it all (END_STREAM) or the peer reset the stream.
  return !closed_ || (close_error_ == 0 && out_.size() == out_offset_);
}

boost::asio::awaitable<bool> Stream::drained() {
  // (No session reference is held while waiting: the connection may go meanwhile.)
  while (congested()) co_await out_event_.wait();
  co_return !closed_ || (close_error_ == 0 && out_.size() == out_offset_);
}

boost::asio::awaitable<bool> Stream::write(std::string data, bool end_stream) {
  if (!send(std::move(data), end_stream)) co_return false;
  while (congested()) co_await out_event_.wait();  // (inline: a nested drained() is a frame more)
  co_return !closed_ || (close_error_ == 0 && out_.size() == out_offset_);
}

bool Stream::finishWithTrailers(Headers trailers) {
  auto session = session_.lock();
  if (!session || closed_ || !out_has_body_ || out_end_) return false;
  out_trailers_ = std::move(trailers);
  out_end_ = true;
  return session->resumeData(*this);
}

void Stream::reset(uint32_t error_code) {
  auto session = session_.lock();
  if (!session || closed_ || id_ < 0) return;
  session->resetStream(*this, error_code);
}

Stream::~Stream() {
  // Unread body bytes still count against the connection window: hand them back.
  if (in_buffered_ > 0) {
    if (auto session = session_.lock()) session->consumed(*this, in_buffered_);
  }
}

}  // namespace monomesh::net::h2
