// Runs bookinfo instances (and fake dependencies) on loopback with real sockets, on one
// io_context driven by a background thread, as `monomesh demo` drives them on the runtime's.
// Upstreams point straight at each other (no sidecars).
#pragma once
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "demo/bookinfo_app.h"
#include "demo/fake_upstream.h"

namespace monomesh::demo::test {

// An io_context on its own thread; call() runs a function there and waits for its result.
class Loop {
 public:
  Loop();
  ~Loop();
  boost::asio::io_context& context() { return context_; }

  template <class F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(context_, [&task] { task(); });
    return result.get();
  }

 private:
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Upstream upstreamAt(const boost::asio::ip::tcp::endpoint& address, std::chrono::milliseconds timeout = {});
AppInstance loopbackInstance(const std::string& service, const std::string& version);
AppInstance productpageInstance(const boost::asio::ip::tcp::endpoint& details,
                                const boost::asio::ip::tcp::endpoint& reviews);

class Bookinfo {
 public:
  Bookinfo() = default;
  ~Bookinfo();

  // Starts the instance on the loop (the test fails when it does not start).
  BookinfoApp& start(AppInstance instance);
  // Starts it and returns start()'s error (empty on success).
  std::string tryStart(AppInstance instance);
  FakeUpstream& fake(FakeBehaviour behaviour);

  // details-v1, reviews-<version> (calling ratings at `ratings` unless v1) and productpage-v1
  // wired to each other; returns productpage's address.
  boost::asio::ip::tcp::endpoint startFront(const std::string& reviews_version,
                                            const boost::asio::ip::tcp::endpoint& ratings,
                                            std::chrono::milliseconds ratings_timeout = {});
  // The same with a real ratings-v1.
  boost::asio::ip::tcp::endpoint startAll(const std::string& reviews_version);

  // Stops every app and fake on the loop.
  void stopAll();

  Loop loop;

 private:
  std::vector<std::unique_ptr<BookinfoApp>> apps_;
  std::vector<std::unique_ptr<FakeUpstream>> fakes_;
};

}  // namespace monomesh::demo::test
