#include "runtime/drain.h"

#include <atomic>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace monomesh::runtime {

Drain::Drain(boost::asio::io_context& main, std::chrono::milliseconds duration,
             std::function<void()> hard_stop)
    : main_(main), duration_(duration), hard_stop_(std::move(hard_stop)), deadline_(main) {}

void Drain::add(std::string name, Participant participant) {
  participants_.emplace_back(std::move(name), std::move(participant));
}

void Drain::start(std::string reason) {
  if (finished_) return;
  if (started_) {
    spdlog::warn("{} during drain: stopping now", reason);
    finish("interrupted");
    return;
  }
  started_ = true;
  spdlog::info("{}: draining for up to {} ms ({} participants)", reason, duration_.count(),
               participants_.size());
  pending_ = participants_.size();
  if (pending_ == 0) {
    finish("complete");
    return;
  }
  deadline_.expires_after(duration_);
  deadline_.async_wait([this](boost::system::error_code ec) {
    if (!ec) finish("timed out");
  });
  for (auto& [name, participant] : participants_) {
    // Each participant counts once, however often it reports.
    auto reported = std::make_shared<std::atomic<bool>>(false);
    participant([this, reported] {
      if (!reported->exchange(true)) boost::asio::post(main_, [this] { participantDone(); });
    });
  }
}

void Drain::participantDone() {
  if (pending_ > 0 && --pending_ == 0) finish("complete");
}

void Drain::finish(const char* how) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  spdlog::info("drain {}; stopping", how);
  hard_stop_();
}

}  // namespace monomesh::runtime
