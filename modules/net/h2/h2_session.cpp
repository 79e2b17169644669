#include "net/h2/h2_session.h"

#include "net/h2/h2_callbacks.h"
#include "observe/log.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <limits>

namespace monomesh::net::h2 {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kWriteBatch = 64 * 1024;  // frames gathered into one write

nghttp2_option* makeOptions(const H2Options& o) {
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);  // windows reopen only as handlers read
  nghttp2_option_set_max_outbound_ack(opt, o.max_outbound_control_frames);
  nghttp2_option_set_max_settings(opt, o.max_settings_entries);
  nghttp2_option_set_max_continuations(opt, o.max_continuations);
  // Our own RST_STREAM bucket decides (and counts); nghttp2's is set out of the way.
  nghttp2_option_set_stream_reset_rate_limit(opt, uint64_t{1} << 40, uint64_t{1} << 40);
  return opt;
}

}  // namespace

std::shared_ptr<Session> Session::create(Role role, std::unique_ptr<Transport> transport, H2Options options,
                                         Callbacks callbacks, H2Counters* counters) {
  return std::shared_ptr<Session>(
      new Session(role, std::move(transport), std::move(options), std::move(callbacks), counters));
}

Session::Session(Role role, std::unique_ptr<Transport> transport, H2Options options, Callbacks callbacks,
                 H2Counters* counters)
    : role_(role),
      transport_(std::move(transport)),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      counters_(counters ? counters : &own_counters_),
      timer_(transport_->executor()) {
  nghttp2_option* opt = makeOptions(options_);
  if (role_ == Role::server) {
    nghttp2_session_server_new2(&session_, SessionCallbacks::table(), this, opt);
  } else {
    nghttp2_session_client_new2(&session_, SessionCallbacks::table(), this, opt);
  }
  nghttp2_option_del(opt);
  reset_tokens_ = options_.reset_burst;
  reset_refill_ = last_rx_ = idle_since_ = std::chrono::steady_clock::now();
}

Session::~Session() { nghttp2_session_del(session_); }

void Session::start(std::string_view preread) {
  self_ = shared_from_this();
  counters_->connections++;
  std::vector<nghttp2_settings_entry> settings = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.initial_stream_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_size},
  };
  if (role_ == Role::server) {
    settings.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams});
    if (options_.enable_connect_protocol) settings.push_back({NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1});
  } else {
    settings.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options_.initial_connection_window_size));
  armTimer();
  if (!preread.empty()) {
    auto rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(preread.data()), preread.size());
    if (rv < 0) {
      failConnection(NGHTTP2_PROTOCOL_ERROR, &H2Counters::protocol_error, nghttp2_strerror(static_cast<int>(rv)));
      return;
    }
  }
  flush();
  readLoop();
}

void Session::readLoop() {
  if (reading_ || closed_) return;
  reading_ = true;
  if (in_buf_.size() != kReadChunk) in_buf_.resize(kReadChunk);
  transport_->readSome(boost::asio::buffer(in_buf_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                                 std::size_t n) {
    self->reading_ = false;
    if (self->closed_) return;
    if (ec) {
      self->close();
      return;
    }
    self->last_rx_ = std::chrono::steady_clock::now();
    auto rv = nghttp2_session_mem_recv(self->session_, reinterpret_cast<const uint8_t*>(self->in_buf_.data()), n);
    if (rv < 0) {
      if (rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_SETTINGS) {
        self->failConnection(NGHTTP2_ENHANCE_YOUR_CALM, &H2Counters::control_flood, "SETTINGS/PING flood");
      } else if (rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
        self->failConnection(NGHTTP2_ENHANCE_YOUR_CALM, &H2Counters::header_bomb, "CONTINUATION flood");
      } else {
        self->failConnection(NGHTTP2_PROTOCOL_ERROR, &H2Counters::protocol_error, nghttp2_strerror(static_cast<int>(rv)));
      }
      return;
    }
    self->flush();
    if (!self->closed_ && !self->draining_failed_ && nghttp2_session_want_read(self->session_)) self->readLoop();
  });
}

void Session::flush() {
  if (writing_ || closed_ || flushing_) return;
  flushing_ = true;
  {
    // Stream destructors hand unread bytes back (nghttp2_session_consume); flushing_ keeps them
    // from starting a nested flush.
    burying_.swap(graveyard_);
    burying_.clear();
  }
  out_buf_.clear();
  while (out_buf_.size() < kWriteBatch) {
    const uint8_t* data = nullptr;
    auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      flushing_ = false;
      close();
      return;
    }
    if (n == 0) break;
    out_buf_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  flushing_ = false;
  if (out_buf_.empty()) {
    // Both sides are done (GOAWAY exchanged and no streams left, or a fatal error was sent).
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) close();
    return;
  }
  writing_ = true;
  transport_->write(boost::asio::buffer(out_buf_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                              std::size_t) {
    self->writing_ = false;
    if (ec) {
      self->close();
      return;
    }
    self->flush();
  });
}

void Session::failConnection(uint32_t goaway_code, uint64_t H2Counters::*counter, const char* why) {
  if (closed_ || draining_failed_) return;
  ++(counters_->*counter);
  observe::logScope("h2").debug("closing HTTP/2 connection from {}: {}", transport_->peerAddress(), why);
  draining_ = true;  // so the GOAWAY we send is not counted again as a protocol error
  draining_failed_ = true;
  nghttp2_session_terminate_session(session_, goaway_code);
  // The peer gets a moment to read our GOAWAY; a peer that does not read is closed anyway.
  drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  armTimer();
  flush();
}

std::shared_ptr<Stream> Session::openStream(const Headers& headers, bool end_stream) {
  return openStreamWith(headers, end_stream);
}

std::shared_ptr<Stream> Session::openStream(std::span<const HeaderRef> headers, bool end_stream) {
  return openStreamWith(headers, end_stream);
}

template <class List>
std::shared_ptr<Stream> Session::openStreamWith(const List& headers, bool end_stream) {
  if (!acceptsStreams()) {
    if (!closed_ && nghttp2_session_get_next_stream_id(session_) > (uint32_t{1} << 31) - 2) {
      counters_->stream_id_exhausted++;
      shutdown();
    }
    return nullptr;
  }
  auto stream = std::make_shared<Stream>(weak_from_this(), true);
  stream->executor_ = transport_->executor();
  stream->out_limit_ = options_.max_outbound_buffer;
  auto& nva = toNv(headers, nv_);
  nghttp2_data_provider provider{};
  provider.source.ptr = stream.get();
  provider.read_callback = SessionCallbacks::readBody;
  int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), end_stream ? nullptr : &provider,
                                      stream.get());
  if (id < 0) return nullptr;
  stream->id_ = id;
  stream->out_has_body_ = !end_stream;
  addStream(stream);
  counters_->streams++;
  flush();
  return stream;
}

bool Session::acceptsStreams() const {
  if (closed_ || draining_ || peer_goaway_) return false;
  if (nghttp2_session_get_next_stream_id(session_) > (uint32_t{1} << 31) - 2) return false;
  return streams_.size() < nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

template <class List>
bool Session::submitHeaders(Stream& stream, const List& headers, bool end_stream) {
  if (closed_ || stream.closed_) return false;
  auto& nva = toNv(headers, nv_);
  nghttp2_data_provider provider{};
  provider.source.ptr = &stream;
  provider.read_callback = SessionCallbacks::readBody;
  if (nghttp2_submit_response(session_, stream.id_, nva.data(), nva.size(), end_stream ? nullptr : &provider) != 0) {
    return false;
  }
  stream.out_has_body_ = !end_stream;
  flush();
  return true;
}

template bool Session::submitHeaders(Stream&, const Headers&, bool);
template bool Session::submitHeaders(Stream&, const std::span<const HeaderRef>&, bool);

bool Session::resumeData(Stream& stream) {
  if (closed_ || stream.closed_) return false;
  if (stream.out_deferred_) {
    stream.out_deferred_ = false;
    nghttp2_session_resume_data(session_, stream.id_);
  }
  flush();
  return true;
}

void Session::resetStream(Stream& stream, uint32_t error_code) {
  if (closed_) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id_, error_code);
  flush();
}

void Session::consumed(Stream& stream, size_t bytes) {
  if (closed_) return;
  nghttp2_session_consume(session_, stream.id_, bytes);  // closed streams: connection window only
  flush();
}

void Session::finishStream(Stream& stream, uint32_t error_code) {
  stream.closed_ = true;
  stream.close_error_ = error_code;
  if (error_code != NGHTTP2_NO_ERROR && stream.in_buffered_ > 0) {
    // A reset body is never read: return its bytes to the connection window now.
    if (!closed_) nghttp2_session_consume_connection(session_, stream.in_buffered_);
    stream.in_chunks_.clear();
    stream.in_next_ = 0;
    stream.in_buffered_ = 0;
  }
  stream.in_event_.notify();
  stream.out_event_.notify();
  // Freed after nghttp2 is done with the stream.
  if (auto removed = removeStream(stream)) graveyard_.push_back(std::move(removed));
  if (streams_.empty()) idle_since_ = std::chrono::steady_clock::now();
}

void Session::addStream(std::shared_ptr<Stream> stream) {
  stream->slot_ = streams_.size();
  streams_.push_back(std::move(stream));
}

std::shared_ptr<Stream> Session::removeStream(Stream& stream) {
  size_t slot = stream.slot_;
  if (slot >= streams_.size() || streams_[slot].get() != &stream) return nullptr;
  std::shared_ptr<Stream> removed = std::move(streams_[slot]);
  if (slot + 1 != streams_.size()) {
    streams_[slot] = std::move(streams_.back());
    streams_[slot]->slot_ = slot;
  }
  streams_.pop_back();
  stream.slot_ = std::numeric_limits<size_t>::max();
  return removed;
}

void Session::shutdown() {
  if (closed_ || draining_) return;
  draining_ = true;
  if (role_ == Role::server) {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                          NGHTTP2_NO_ERROR, nullptr, 0);
  } else {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
  }
  drain_deadline_ = std::chrono::steady_clock::now() + options_.drain_timeout;
  armTimer();
  flush();
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  transport_->close();
  // Every stream still open ends here; their handlers wake and see the reset.
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& stream : streams) {
    stream->closed_ = true;
    stream->connection_lost_ = true;
    if (!stream->in_ended_ || !stream->out_end_) stream->close_error_ = NGHTTP2_INTERNAL_ERROR;
    stream->in_event_.notify();
    stream->out_event_.notify();
  }
  if (callbacks_.on_closed) callbacks_.on_closed();
  // Drop the self-reference after the current handler returns.
  boost::asio::post(transport_->executor(), [self = std::move(self_)] {});
}

void Session::armTimer() {
  if (closed_) return;
  std::chrono::milliseconds tick{1000};
  for (auto t : {options_.idle_timeout, options_.keepalive_interval, options_.keepalive_timeout}) {
    if (t.count() > 0) tick = std::min(tick, std::max(std::chrono::milliseconds(5), t / 4));
  }
  bool needed = options_.idle_timeout.count() > 0 || options_.keepalive_interval.count() > 0 || draining_;
  if (!needed) return;
  if (draining_) tick = std::min(tick, std::chrono::milliseconds(50));
  timer_.expires_after(tick);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->onTick();
  });
}

void Session::onTick() {
  if (closed_) return;
  auto now = std::chrono::steady_clock::now();
  if (draining_ && now >= drain_deadline_) {
    close();
    return;
  }
  if (options_.keepalive_interval.count() > 0) {
    if (ping_outstanding_ && now - ping_sent_ > options_.keepalive_timeout) {
      counters_->keepalive_timeout++;
      close();
      return;
    }
    if (!ping_outstanding_ && now - last_rx_ >= options_.keepalive_interval) {
      nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
      ping_outstanding_ = true;
      ping_sent_ = now;
      flush();
    }
  }
  if (options_.idle_timeout.count() > 0 && !draining_ && streams_.empty() && now - idle_since_ >= options_.idle_timeout) {
    counters_->idle_timeout++;
    shutdown();
  }
  armTimer();
}

}  // namespace monomesh::net::h2
