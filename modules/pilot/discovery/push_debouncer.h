// Coalesces config and registry changes into pushes as Istio's Pilot does: a push starts after
// `quiet` without new changes, or at most `cap` after the first change of a burst. Remembers
// whether any change in the burst needs a full push or only endpoints changed. Endpoint-only
// changes may skip the wait (DebounceOptions::endpoints).
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace monomesh::pilot {

struct DebounceOptions {
  std::chrono::milliseconds quiet{100};
  std::chrono::milliseconds cap{10000};
  // False: an endpoint-only change is pushed at once instead of waiting for quiet (later Istio's
  // PILOT_ENABLE_EDS_DEBOUNCE=false), unless a burst with a full push is already waiting; that
  // push then carries it.
  bool endpoints = true;
};

class PushDebouncer {
 public:
  // `push(full, first_change)` runs on `context` once per burst.
  using PushFn = std::function<void(bool full, std::chrono::steady_clock::time_point first_change)>;
  PushDebouncer(boost::asio::io_context& context, DebounceOptions options, PushFn push);

  // Records a change (from the context's thread).
  void change(bool full);
  void cancel() { timer_.cancel(); }
  uint64_t pushes() const { return pushes_; }

 private:
  void arm();
  void fire();
  boost::asio::steady_timer timer_;
  DebounceOptions options_;
  PushFn push_;
  bool pending_ = false;
  bool full_ = false;
  std::chrono::steady_clock::time_point first_, last_;
  uint64_t pushes_ = 0;
};

}  // namespace monomesh::pilot
