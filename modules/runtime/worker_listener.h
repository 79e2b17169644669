// A listening socket per worker, all bound to one address with SO_REUSEPORT, so the kernel
// spreads new connections across workers and each connection stays on the worker that accepted
// it. With port 0 the first bind picks the port and the others join it.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace monomesh::runtime {

// Opens a listening acceptor with SO_REUSEADDR and SO_REUSEPORT. Errors come back in `ec`.
boost::asio::ip::tcp::acceptor openReusePortAcceptor(boost::asio::io_context& context,
                                                     const boost::asio::ip::tcp::endpoint& endpoint,
                                                     boost::system::error_code& ec,
                                                     int backlog = 1024);

class WorkerListener {
 public:
  // Called on the accepting worker's thread with that worker's index.
  using OnAccept = std::function<void(size_t worker, boost::asio::ip::tcp::socket socket)>;

  WorkerListener(Runtime& runtime, std::string name, OnAccept on_accept);
  ~WorkerListener();

  // Binds one acceptor per worker (main context, before or while running). On error nothing
  // stays bound and the error names the address.
  boost::system::error_code listen(const boost::asio::ip::tcp::endpoint& endpoint);

  // The bound address (meaningful after listen succeeded).
  boost::asio::ip::tcp::endpoint localEndpoint() const { return local_; }

  // Stops accepting on every worker; established connections are not touched.
  void close();

  const std::string& name() const { return *name_; }

 private:
  struct State;
  Runtime& runtime_;
  std::shared_ptr<const std::string> name_;
  std::shared_ptr<const OnAccept> on_accept_;
  boost::asio::ip::tcp::endpoint local_;
  std::vector<std::shared_ptr<State>> states_;
};

}  // namespace monomesh::runtime
