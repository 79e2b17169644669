#include "net/activity_deadline.h"

#include "net/maybe_tls_stream.h"

namespace monomesh::net {

ActivityDeadline::ActivityDeadline(const boost::asio::any_io_executor& executor, MaybeTlsStream& stream)
    : timer_(executor), stream_(stream) {}

ActivityDeadline::~ActivityDeadline() {
  *alive_ = false;
  timer_.cancel();
}

void ActivityDeadline::stop() {
  deadline_ = Clock::time_point::max();
  armed_ = Clock::time_point::max();
  ++sequence_;  // a completion already queued is stale
  timer_.cancel();
}

void ActivityDeadline::arm(Clock::time_point when) {
  armed_ = when;
  uint64_t sequence = ++sequence_;
  timer_.expires_at(when);  // cancels the previous wait, whose completion is then stale
  timer_.async_wait([this, sequence, alive = alive_](const boost::system::error_code&) {
    if (*alive) fired(sequence);
  });
}

void ActivityDeadline::fired(uint64_t sequence) {
  if (sequence != sequence_) return;
  armed_ = Clock::time_point::max();
  if (deadline_ == Clock::time_point::max()) return;
  if (Clock::now() < deadline_) {
    arm(deadline_);  // the connection was active meanwhile
    return;
  }
  expired_ = true;
  boost::system::error_code ignored;
  stream_.socket().close(ignored);  // pending operations complete with operation_aborted
}

}  // namespace monomesh::net
