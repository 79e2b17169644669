// The floor of an HTTP/1.1 reverse proxy on this kernel: what proxying a keep-alive request costs
// when user space does nothing but move bytes. One thread, epoll edge-triggered, one upstream
// connection per client connection; per request exactly one recv and one send on each side (4
// system calls), no parsing beyond finding where a message ends (bodyless requests, responses
// with Content-Length). Not a proxy anyone should run: bench/proxy_bench.py measures it beside
// monomesh, nginx and HAProxy to show how much of a request's CPU is the kernel's TCP path that
// no user-space proxy can avoid.
//   floor_proxy LISTEN_PORT UPSTREAM_PORT   (both on 127.0.0.1)
#include "loopback.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

struct Side {
  int fd = -1;
  Side* peer = nullptr;
  bool upstream = false;
  bool closed = false;
  std::vector<char> pending;  // a message not complete yet
};

int listenOn(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = monomesh::bench::loopback(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 1024) != 0) {
    perror("floor_proxy: listen");
    std::exit(1);
  }
  return fd;
}

int connectTo(int port) {
  int fd = monomesh::bench::connectLoopback(port);
  if (fd >= 0) fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

// Whether `m` holds a whole message: a head, and for responses Content-Length bytes after it.
bool complete(std::string_view m, bool response) {
  auto end = m.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  if (!response) return true;
  auto cl = m.substr(0, end).find("Content-Length: ");
  std::size_t length = cl == std::string_view::npos ? 0 : std::strtoul(m.data() + cl + 16, nullptr, 10);
  return m.size() >= end + 4 + length;
}

// Both sides close; they are freed after the batch of events, which may still name them.
void closePair(Side* s, std::vector<Side*>& graveyard) {
  for (Side* x : {s, s->peer}) {
    close(x->fd);
    x->closed = true;
    graveyard.push_back(x);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: floor_proxy LISTEN_PORT UPSTREAM_PORT\n");
    return 2;
  }
  int upstreamPort = std::atoi(argv[2]);
  int listener = listenOn(std::atoi(argv[1]));
  int ep = epoll_create1(0);
  epoll_event ev{EPOLLIN, {.ptr = nullptr}};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  static char buffer[65536];
  epoll_event events[128];
  std::vector<Side*> graveyard;
  for (;;) {
    for (Side* s : graveyard) delete s;
    graveyard.clear();
    int n = epoll_wait(ep, events, 128, -1);
    for (int i = 0; i < n; ++i) {
      auto* side = static_cast<Side*>(events[i].data.ptr);
      if (side == nullptr) {
        while (int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) {
          if (fd < 0) break;
          int up = connectTo(upstreamPort);
          if (up < 0) {
            close(fd);
            continue;
          }
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          auto* down = new Side{fd};
          auto* upSide = new Side{up, down, true};
          down->peer = upSide;
          for (Side* s : {down, upSide}) {
            epoll_event e{EPOLLIN | EPOLLRDHUP | EPOLLET, {.ptr = s}};
            epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e);
          }
        }
        continue;
      }
      if (side->closed) continue;
      ssize_t got = recv(side->fd, buffer, sizeof buffer, 0);
      if (got <= 0) {
        closePair(side, graveyard);
        continue;
      }
      // One recv per readiness edge: less than a full buffer means the socket is drained, and the
      // next bytes to arrive raise a new edge.
      std::string_view data(buffer, std::size_t(got));
      if (!side->pending.empty() || !complete(data, side->upstream)) {
        side->pending.insert(side->pending.end(), data.begin(), data.end());
        data = std::string_view(side->pending.data(), side->pending.size());
        if (!complete(data, side->upstream)) continue;
      }
      // Small messages: the socket buffer takes them whole (a short write ends the pair).
      if (send(side->peer->fd, data.data(), data.size(), MSG_NOSIGNAL) != ssize_t(data.size())) {
        closePair(side, graveyard);
        continue;
      }
      side->pending.clear();
    }
  }
}
