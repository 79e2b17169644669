#include "pilot/discovery/push_debouncer.h"

namespace monomesh::pilot {

using Clock = std::chrono::steady_clock;

PushDebouncer::PushDebouncer(boost::asio::io_context& context, DebounceOptions options, PushFn push)
    : timer_(context), options_(options), push_(std::move(push)) {}

void PushDebouncer::change(bool full) {
  auto now = Clock::now();
  if (!full && !options_.endpoints && !pending_) {
    ++pushes_;
    push_(false, now);
    return;
  }
  last_ = now;
  full_ = full_ || full;
  if (!pending_) {
    pending_ = true;
    first_ = now;
    arm();
  }
}

void PushDebouncer::arm() {
  auto deadline = std::min(last_ + options_.quiet, first_ + options_.cap);
  timer_.expires_at(deadline);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) fire();
  });
}

void PushDebouncer::fire() {
  auto now = Clock::now();
  // More changes arrived during the quiet period: wait again, unless the cap is reached.
  if (now < last_ + options_.quiet && now < first_ + options_.cap) {
    arm();
    return;
  }
  bool full = full_;
  auto first = first_;
  pending_ = false;
  full_ = false;
  ++pushes_;
  push_(full, first);
}

}  // namespace monomesh::pilot
