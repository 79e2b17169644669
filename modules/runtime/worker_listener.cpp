#include "runtime/worker_listener.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

namespace monomesh::runtime {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

tcp::acceptor openReusePortAcceptor(asio::io_context& context, const tcp::endpoint& endpoint,
                                    boost::system::error_code& ec, int backlog) {
  tcp::acceptor acceptor(context);
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return acceptor;
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) {
    int one = 1;
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
      ec.assign(errno, boost::system::system_category());
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
  return acceptor;
}

struct WorkerListener::State : std::enable_shared_from_this<WorkerListener::State> {
  State(asio::io_context& ctx, size_t index, std::shared_ptr<const OnAccept> on_accept,
        std::shared_ptr<const std::string> name)
      : acceptor(ctx), worker(index), on_accept(std::move(on_accept)), name(std::move(name)) {}
  tcp::acceptor acceptor;
  size_t worker;
  // Shared, so a connection accepted just before close() never calls into a destroyed listener.
  std::shared_ptr<const OnAccept> on_accept;
  std::shared_ptr<const std::string> name;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec,
                                                      tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        (*self->on_accept)(self->worker, std::move(socket));
      } else if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        // Out of file descriptors: back off briefly instead of spinning on the error.
        spdlog::warn("listener {}: accept failed: {}", *self->name, ec.message());
        auto timer = std::make_shared<asio::steady_timer>(self->acceptor.get_executor(),
                                                          std::chrono::milliseconds(50));
        timer->async_wait([self, timer](boost::system::error_code) { self->accept(); });
        return;
      }
      self->accept();
    });
  }
};

WorkerListener::WorkerListener(Runtime& runtime, std::string name, OnAccept on_accept)
    : runtime_(runtime),
      name_(std::make_shared<const std::string>(std::move(name))),
      on_accept_(std::make_shared<const OnAccept>(std::move(on_accept))) {}

WorkerListener::~WorkerListener() { close(); }

boost::system::error_code WorkerListener::listen(const tcp::endpoint& requested) {
  close();  // listening again replaces the previous acceptors
  boost::system::error_code ec;
  tcp::endpoint endpoint = requested;
  std::vector<std::shared_ptr<State>> states;
  for (size_t i = 0; i < runtime_.workerCount(); ++i) {
    auto state = std::make_shared<State>(runtime_.worker(i), i, on_accept_, name_);
    state->acceptor = openReusePortAcceptor(runtime_.worker(i), endpoint, ec);
    if (ec) {
      boost::system::error_code ignored;  // keep `ec`: it is what the caller needs to see
      for (auto& s : states) s->acceptor.close(ignored);
      return ec;
    }
    if (i == 0) endpoint = state->acceptor.local_endpoint();  // port 0: later binds join it
    states.push_back(std::move(state));
  }
  local_ = endpoint;
  for (auto& state : states) {
    asio::post(state->acceptor.get_executor(), [state] { state->accept(); });
  }
  states_ = std::move(states);
  return {};
}

void WorkerListener::close() {
  for (auto& state : states_) {
    // The acceptor belongs to its worker: close it there.
    asio::post(state->acceptor.get_executor(), [state] {
      boost::system::error_code ignored;
      state->acceptor.close(ignored);
    });
  }
  states_.clear();
}

}  // namespace monomesh::runtime
