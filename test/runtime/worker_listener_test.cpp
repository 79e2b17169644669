// WorkerListener / openReusePortAcceptor: SO_REUSEPORT acceptors, one per worker.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <mutex>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "runtime/thread_slot.h"
#include "runtime/worker_listener.h"
#include "runtime_helpers.h"

namespace asio = boost::asio;
namespace rt = monomesh::runtime;
using tcp = asio::ip::tcp;
using namespace monomesh::test;

namespace {

rt::RuntimeOptions twoWorkers() {
  rt::RuntimeOptions o;
  o.concurrency = 2;
  o.handle_signals = false;
  return o;
}

const tcp::endpoint kLoopbackAnyPort(asio::ip::make_address("127.0.0.1"), 0);

// Records accepted connections; tests wait on the count with a deadline.
struct Accepted {
  struct Entry {
    size_t worker;
    int slot;
  };
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<Entry> entries;
  std::vector<tcp::socket> sockets;

  rt::WorkerListener::OnAccept callback() {
    return [this](size_t worker, tcp::socket socket) {
      std::lock_guard lock(mutex);
      entries.push_back({worker, rt::threadSlot()});
      sockets.push_back(std::move(socket));
      cv.notify_all();
    };
  }
  bool waitFor(size_t n, std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, limit, [&] { return entries.size() >= n; });
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return entries.size();
  }
};

// A listening socket bound WITHOUT SO_REUSEADDR/SO_REUSEPORT.
tcp::acceptor exclusiveListener(asio::io_context& io) {
  tcp::acceptor acceptor(io);
  acceptor.open(tcp::v4());
  acceptor.bind(kLoopbackAnyPort);
  acceptor.listen();
  return acceptor;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_listener)

BOOST_AUTO_TEST_CASE(accepts_connections_on_worker_threads) {
  rt::Runtime runtime(twoWorkers());
  Accepted accepted;
  rt::WorkerListener listener(runtime, "test", accepted.callback());
  BOOST_TEST(listener.name() == "test");
  auto ec = listener.listen(kLoopbackAnyPort);
  BOOST_TEST_REQUIRE(!ec, ec.message());
  tcp::endpoint endpoint = listener.localEndpoint();
  BOOST_TEST(endpoint.port() != 0);
  BOOST_TEST(endpoint.address().to_string() == "127.0.0.1");

  BackgroundRuntime background(runtime);
  asio::io_context client_io;
  std::vector<tcp::socket> clients;
  constexpr size_t kClients = 8;
  for (size_t i = 0; i < kClients; ++i) {
    tcp::socket client(client_io);
    boost::system::error_code cec;
    client.connect(endpoint, cec);
    BOOST_TEST(!cec, "connect " << i << ": " << cec.message());
    clients.push_back(std::move(client));
  }
  BOOST_TEST(accepted.waitFor(kClients), "only " << accepted.count() << " of " << kClients << " accepted");
  BOOST_TEST(background.stop());

  std::lock_guard lock(accepted.mutex);
  BOOST_TEST(accepted.entries.size() == kClients);
  for (const auto& e : accepted.entries) {
    BOOST_TEST(e.worker < 2u);
    BOOST_TEST(e.slot == int(e.worker) + 1, "accept for worker " << e.worker << " ran on slot " << e.slot);
  }
  // The accepted sockets are live connections to our clients.
  for (auto& s : accepted.sockets) BOOST_TEST(s.is_open());
}

BOOST_AUTO_TEST_CASE(close_stops_accepting) {
  rt::Runtime runtime(twoWorkers());
  Accepted accepted;
  rt::WorkerListener listener(runtime, "closing", accepted.callback());
  BOOST_TEST_REQUIRE(!listener.listen(kLoopbackAnyPort));
  tcp::endpoint endpoint = listener.localEndpoint();
  BackgroundRuntime background(runtime);

  asio::io_context client_io;
  tcp::socket first(client_io);
  first.connect(endpoint);
  BOOST_TEST_REQUIRE(accepted.waitFor(1));

  // close() on main, then a round trip through every worker so the posted closes have run.
  Latch closed;
  asio::post(runtime.main(), [&] {
    listener.close();
    runtime.postToAllWorkers([](size_t) {}, [&] { closed.set(); });
  });
  BOOST_TEST_REQUIRE(closed.wait());

  tcp::socket second(client_io);
  boost::system::error_code ec;
  second.connect(endpoint, ec);
  if (!ec) {
    // Connected after all: it must at least never be accepted.
    BOOST_TEST(!accepted.waitFor(2, 1000ms), "a connection was accepted after close()");
  } else {
    BOOST_TEST((ec == asio::error::connection_refused), ec.message());
  }
  BOOST_TEST(accepted.count() == 1u);
  // The established connection is untouched by close().
  BOOST_TEST(first.is_open());
  BOOST_TEST(background.stop());
}

BOOST_AUTO_TEST_CASE(listen_while_running_from_main_context) {
  rt::Runtime runtime(twoWorkers());
  Accepted accepted;
  rt::WorkerListener listener(runtime, "late", accepted.callback());
  BackgroundRuntime background(runtime);
  std::promise<boost::system::error_code> listened;
  auto future = listened.get_future();
  asio::post(runtime.main(), [&] { listened.set_value(listener.listen(kLoopbackAnyPort)); });
  BOOST_TEST_REQUIRE((future.wait_for(5s) == std::future_status::ready));
  auto ec = future.get();
  BOOST_TEST_REQUIRE(!ec, ec.message());
  asio::io_context client_io;
  tcp::socket client(client_io);
  boost::system::error_code cec;
  client.connect(listener.localEndpoint(), cec);
  BOOST_TEST_REQUIRE(!cec, cec.message());
  BOOST_TEST(accepted.waitFor(1));
  BOOST_TEST(background.stop());
  std::lock_guard lock(accepted.mutex);
  for (const auto& e : accepted.entries) BOOST_TEST(e.slot == int(e.worker) + 1);
}

BOOST_AUTO_TEST_CASE(listen_on_busy_port_fails) {
  asio::io_context io;
  tcp::acceptor holder = exclusiveListener(io);
  rt::Runtime runtime(twoWorkers());
  Accepted accepted;
  rt::WorkerListener listener(runtime, "busy", accepted.callback());
  auto ec = listener.listen(holder.local_endpoint());
  BOOST_TEST(bool(ec), "listen on a port another socket holds succeeded");
  BOOST_TEST((ec == asio::error::address_in_use), ec.message());
}

BOOST_AUTO_TEST_CASE(reuse_port_acceptors_share_a_port) {
  asio::io_context io;
  boost::system::error_code ec1, ec2;
  tcp::acceptor a = rt::openReusePortAcceptor(io, kLoopbackAnyPort, ec1);
  BOOST_TEST_REQUIRE(!ec1, ec1.message());
  BOOST_TEST(a.is_open());
  auto port = a.local_endpoint().port();
  BOOST_TEST(port != 0);
  tcp::acceptor b = rt::openReusePortAcceptor(io, tcp::endpoint(kLoopbackAnyPort.address(), port), ec2);
  BOOST_TEST(!ec2, ec2.message());
  BOOST_TEST(b.is_open());
  if (!ec2) BOOST_TEST(b.local_endpoint().port() == port);
}

BOOST_AUTO_TEST_CASE(reuse_port_acceptor_on_exclusively_held_port_fails_closed) {
  asio::io_context io;
  tcp::acceptor holder = exclusiveListener(io);
  boost::system::error_code ec;
  tcp::acceptor a = rt::openReusePortAcceptor(io, holder.local_endpoint(), ec);
  BOOST_TEST((ec == asio::error::address_in_use), ec.message());
  BOOST_TEST(!a.is_open(), "a failed acceptor must come back closed");
}

// listen() must report a failure that happens on a worker after the first: here the second
// worker's socket() fails with EMFILE. The header promises "On error nothing stays bound and the
// error names the address".
BOOST_AUTO_TEST_CASE(listen_reports_failure_on_a_later_worker) {
  rt::Runtime runtime(twoWorkers());
  Accepted accepted;
  rt::WorkerListener listener(runtime, "fd-limit", accepted.callback());
  // Create each worker's reactor now so that only the acceptor sockets need new descriptors.
  { tcp::acceptor warm0(runtime.worker(0)), warm1(runtime.worker(1)); }

  // Allow exactly one more descriptor: the lowest free one is below the limit, the next is not.
  int lowest = ::dup(2), next = ::dup(2);
  BOOST_TEST_REQUIRE(lowest >= 0);
  BOOST_TEST_REQUIRE(next > lowest);
  ::close(lowest);
  ::close(next);
  rlimit saved{};
  BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  rlimit tight = saved;
  tight.rlim_cur = rlim_t(next);
  BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  auto ec = listener.listen(kLoopbackAnyPort);
  ::setrlimit(RLIMIT_NOFILE, &saved);

  BOOST_TEST(bool(ec), "listen() returned success although worker 1 could not open its socket");
  BOOST_TEST((ec == boost::system::errc::too_many_files_open), "error: " << ec.message());
  // The failure path did run: nothing is bound and no address was recorded.
  BOOST_TEST(listener.localEndpoint().port() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
