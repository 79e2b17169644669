// A stand-in for one bookinfo dependency in the demo tests: it records every request it gets
// (target and headers) and answers as told: a fixed status and body, after a delay, never
// (to trip timeouts), or closing the connection after each answer without saying so (as a peer
// that drops idle keep-alive connections does). It runs on the tests' server io_context.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace monomesh::demo::test {

struct FakeBehaviour {
  unsigned status = 200;
  std::string body = "{}";
  std::chrono::milliseconds delay{0};
  bool silent = false;           // read requests, never answer
  bool drop_after_answer = false;  // close after each answer although keep-alive was offered
};

struct RecordedRequest {
  std::string target;
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string header(const std::string& name) const;
};

class FakeUpstream {
 public:
  // Call on the context's thread (or before it runs).
  FakeUpstream(boost::asio::io_context& context, FakeBehaviour behaviour);
  ~FakeUpstream();
  void close();

  boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
  // Thread-safe snapshots.
  std::vector<RecordedRequest> requests() const;
  size_t connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  boost::asio::ip::tcp::endpoint endpoint_;
};

// A loopback port nothing listens on (bound, then released).
boost::asio::ip::tcp::endpoint deadEndpoint();

}  // namespace monomesh::demo::test
