// A fixed-rate HTTP/1.1 load generator that times every request with its own clock reads, for
// latencies well under a millisecond (h2load stamps requests with its event loop's cached clock,
// which quantises them). Open loop: request i is due at start + i / rate; it goes out on the next
// idle keep-alive connection, and its latency runs from when it was due, so a slow proxy is not
// excused by sending less (no coordinated omission).
//   fixed_rate PORT RATE SECONDS [CONNECTIONS] [PATH]
// Prints: requests, errors, and p50/p90/p99/p99.9 in milliseconds.
#include "loopback.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::int64_t nowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return std::int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

struct Connection {
  int fd = -1;
  bool busy = false;
  std::int64_t due = 0;  // of the request in flight
  std::string in;
};

int connectTo(int port) {
  int fd = monomesh::bench::connectLoopback(port);
  if (fd < 0) {
    perror("fixed_rate: connect");
    std::exit(1);
  }
  return fd;
}

// Bytes of a complete Content-Length response at the front of `in`, or 0.
std::size_t responseLength(std::string_view in) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  std::string_view head = in.substr(0, end);
  std::size_t length = 0;
  for (std::string_view name : {"Content-Length:", "content-length:"}) {
    auto at = head.find(name);
    if (at != std::string_view::npos) length = std::strtoul(head.data() + at + name.size(), nullptr, 10);
  }
  return in.size() >= end + 4 + length ? end + 4 + length : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: fixed_rate PORT RATE SECONDS [CONNECTIONS] [PATH]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  double rate = std::atof(argv[2]);
  double seconds = std::atof(argv[3]);
  int connections = argc > 4 ? std::atoi(argv[4]) : 10;
  std::string path = argc > 5 ? argv[5] : "/";
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nUser-Agent: fixed_rate\r\nAccept: */*\r\n\r\n";

  int ep = epoll_create1(0);
  std::vector<Connection> conns(connections);
  for (auto& c : conns) {
    c.fd = connectTo(port);
    epoll_event ev{EPOLLIN, {.ptr = &c}};
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  const std::int64_t interval = std::int64_t(1e9 / rate);
  const std::int64_t total = std::int64_t(rate * seconds);
  std::vector<std::int64_t> latencies;
  latencies.reserve(std::size_t(total));
  std::deque<std::int64_t> waiting;  // due times of requests no connection was free for
  std::int64_t start = nowNs() + 1000000, issued = 0, errors = 0;
  char buffer[65536];
  epoll_event events[64];

  auto send = [&](Connection& c, std::int64_t due) {
    c.busy = true;
    c.due = due;
    if (::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
      std::fprintf(stderr, "fixed_rate: send failed\n");
      std::exit(1);
    }
  };
  while (std::int64_t(latencies.size()) + errors < total) {
    std::int64_t now = nowNs();
    while (issued < total && start + issued * interval <= now) waiting.push_back(start + issued++ * interval);
    for (auto& c : conns) {
      if (waiting.empty()) break;
      if (!c.busy) {
        send(c, waiting.front());
        waiting.pop_front();
      }
    }
    std::int64_t next = issued < total ? start + issued * interval : now + 100000000;
    std::int64_t wait = std::max<std::int64_t>(0, next - nowNs());
    timespec timeout{time_t(wait / 1000000000), long(wait % 1000000000)};
    int n = epoll_pwait2(ep, events, 64, &timeout, nullptr);
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<Connection*>(events[i].data.ptr);
      ssize_t got = recv(c.fd, buffer, sizeof buffer, 0);
      if (got <= 0) {
        std::fprintf(stderr, "fixed_rate: connection closed by the server\n");
        return 1;
      }
      c.in.append(buffer, std::size_t(got));
      if (std::size_t used = responseLength(c.in)) {
        std::int64_t done = nowNs();
        if (c.in.compare(0, 12, "HTTP/1.1 200") == 0) {
          latencies.push_back(done - c.due);
        } else {
          ++errors;
        }
        c.in.erase(0, used);
        c.busy = false;
      }
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, std::size_t(p * latencies.size()))] / 1e6;
  };
  std::printf("requests %zu errors %lld p50 %.4f p90 %.4f p99 %.4f p99.9 %.4f\n", latencies.size(),
              static_cast<long long>(errors), pct(0.5), pct(0.9), pct(0.99), pct(0.999));
  return errors == 0 ? 0 : 1;
}
