// An HTTP/2 connection, server or client, on nghttp2's session API driven by Asio: one read loop,
// one writer that batches every pending frame into a single write, streams handed to coroutines.
// Flow control is real (windows are returned only as handlers read), and every defence in
// H2Options closes the connection with GOAWAY and a counter. Single-threaded: all calls on the
// transport's executor.
#pragma once

#include "net/h2/h2_options.h"
#include "net/h2/h2_stream.h"
#include "net/transport.h"

#include <boost/asio/steady_timer.hpp>
#include <nghttp2/nghttp2.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

struct nghttp2_session;

namespace monomesh::net::h2 {

class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class Role { server, client };
  struct Callbacks {
    // Server: a request's headers are complete; the handler owns the stream from here.
    std::function<void(std::shared_ptr<Stream>)> on_stream;
    // The connection is gone (after GOAWAY, an error, or the peer's close).
    std::function<void()> on_closed;
  };

  static std::shared_ptr<Session> create(Role role, std::unique_ptr<Transport> transport, H2Options options,
                                         Callbacks callbacks, H2Counters* counters);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Sends our SETTINGS and starts reading; `preread`: bytes already read from the connection
  // (e.g. an HTTP/1 codec that met the HTTP/2 preface). Keeps itself alive until closed.
  void start(std::string_view preread = {});
  // Client: opens a request stream; nullptr when the connection takes no new streams.
  std::shared_ptr<Stream> openStream(const Headers& headers, bool end_stream);
  std::shared_ptr<Stream> openStream(std::span<const HeaderRef> headers, bool end_stream);
  // Whether openStream can succeed (not draining, ids left, under the peer's stream limit).
  bool acceptsStreams() const;
  // Graceful: GOAWAY, let open streams finish within drain_timeout, then close.
  void shutdown();
  // Hard close now.
  void close();

  bool closed() const noexcept { return closed_; }
  size_t activeStreams() const noexcept { return streams_.size(); }
  // When the last stream ended (or the connection started); meaningful while activeStreams() is 0.
  std::chrono::steady_clock::time_point idleSince() const noexcept { return idle_since_; }
  Transport& transport() noexcept { return *transport_; }
  const H2Options& options() const noexcept { return options_; }

 private:
  friend class Stream;
  friend struct SessionCallbacks;
  Session(Role role, std::unique_ptr<Transport> transport, H2Options options, Callbacks callbacks, H2Counters* counters);

  void readLoop();
  void flush();
  void failConnection(uint32_t goaway_code, uint64_t H2Counters::*counter, const char* why);
  void armTimer();
  void onTick();
  void finishStream(Stream& stream, uint32_t error_code);
  void consumed(Stream& stream, size_t bytes);
  bool resumeData(Stream& stream);
  template <class List>
  bool submitHeaders(Stream& stream, const List& headers, bool end_stream);
  template <class List>
  std::shared_ptr<Stream> openStreamWith(const List& headers, bool end_stream);
  void resetStream(Stream& stream, uint32_t error_code);
  // Open streams: a vector with each stream's slot in it (a hash map cost a node per stream;
  // nghttp2 already maps ids to streams).
  void addStream(std::shared_ptr<Stream> stream);
  std::shared_ptr<Stream> removeStream(Stream& stream);

  Role role_;
  std::unique_ptr<Transport> transport_;
  H2Options options_;
  Callbacks callbacks_;
  H2Counters* counters_;
  H2Counters own_counters_;
  nghttp2_session* session_ = nullptr;
  std::vector<std::shared_ptr<Stream>> streams_;
  std::shared_ptr<Session> self_;  // alive while the connection is open
  std::vector<nghttp2_nv> nv_;  // headers being submitted (kept for the next submit)
  std::string in_buf_;
  std::string out_buf_;
  bool reading_ = false;
  bool writing_ = false;
  bool flushing_ = false;
  bool closed_ = false;
  bool draining_ = false;
  bool peer_goaway_ = false;
  bool draining_failed_ = false;  // a defence or framing error sent GOAWAY: read no more
  std::vector<std::shared_ptr<Stream>> graveyard_;  // closed streams, freed outside nghttp2 calls
  std::vector<std::shared_ptr<Stream>> burying_;    // graveyard_'s spare (both keep their capacity)
  // Defence state.
  double reset_tokens_ = 0;
  std::chrono::steady_clock::time_point reset_refill_;
  uint32_t empty_frames_ = 0;
  uint32_t header_overflows_ = 0;
  // Timers: one per session for keepalive, idle and drain deadlines.
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point last_rx_;
  std::chrono::steady_clock::time_point idle_since_;
  std::chrono::steady_clock::time_point drain_deadline_;
  bool ping_outstanding_ = false;
  std::chrono::steady_clock::time_point ping_sent_;
};

}  // namespace monomesh::net::h2
