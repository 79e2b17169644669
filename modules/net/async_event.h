// A one-waiter wake-up for coroutines on a single executor: a stream's reader or writer waits,
// the connection's I/O callbacks notify. A notify with nobody waiting is remembered once. The
// waiter is resumed through post, never from inside the notifier (nghttp2 callbacks must not
// re-enter the session).
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

namespace monomesh::net {

class AsyncEvent {
 public:
  boost::asio::awaitable<void> wait() {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void()>(
        [this](auto handler) {
          auto ex = boost::asio::get_associated_executor(handler);
          if (pending_) {
            pending_ = false;
            boost::asio::post(ex, [h = std::move(handler)]() mutable { std::move(h)(); });
            return;
          }
          executor_ = ex;
          waiter_.emplace(std::move(handler));
        },
        boost::asio::use_awaitable);
  }

  void notify() {
    if (!waiter_) {
      pending_ = true;
      return;
    }
    auto handler = std::move(*waiter_);
    waiter_.reset();
    boost::asio::post(executor_, [h = std::move(handler)]() mutable { std::move(h)(); });
  }

  bool hasWaiter() const noexcept { return waiter_.has_value(); }

 private:
  std::optional<boost::asio::any_completion_handler<void()>> waiter_;
  boost::asio::any_io_executor executor_;
  bool pending_ = false;
};

}  // namespace monomesh::net
