#include "proxy/http/access_log_file.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "observe/log.h"

namespace monomesh::proxy {

// An open file descriptor and what is queued for it. The descriptor is used by the flusher thread
// alone (or, without one, under the manager's mutex).
struct AccessLogSink {
  std::string path;
  int fd = -1;
  bool owns_fd = false;
  bool reopenable = false;    // opened from its path (not stdout or stderr)
  bool pipe = false;          // a write of up to PIPE_BUF bytes is atomic there
  size_t queued_bytes = 0;    // under the manager's mutex
  bool failing = false;       // the last write failed (logged once until one succeeds)

  ~AccessLogSink() {
    if (owns_fd) ::close(fd);
  }
};

namespace {

// Non-blocking: a FIFO without a reader is an error at once (ENXIO) rather than a start-up that
// waits for one, and a full pipe is waited for with poll(), which stop() can cut short. Regular
// files ignore the flag.
int openForAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
}

bool isPipe(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

// stdout or stderr. A pipe (a container runtime's) gets a description of its own, non-blocking
// like the files above, opened through /proc; the process's logger keeps the shared one as it is.
void openStream(AccessLogSink& sink, int fd) {
  sink.fd = fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  int own = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  if (own < 0) return;
  sink.fd = own;
  sink.owns_fd = true;
}

}  // namespace

AccessLogFile::AccessLogFile(AccessLogManager& manager, std::shared_ptr<AccessLogSink> sink, std::string path)
    : manager_(manager), sink_(std::move(sink)), path_(std::move(path)) {}

AccessLogFile::~AccessLogFile() {
  // No logger refers to this file any more, so no thread appends to its buffers: all of them can
  // be handed over from here.
  for (auto& slot : slots_)
    if (!slot.data.empty()) manager_.handOff(sink_, slot, false);
  if (!outside_.data.empty()) manager_.handOff(sink_, outside_, false);
}

void AccessLogFile::write(std::string_view lines) {
  manager_.write_buffered_.inc();
  if (manager_.options_.synchronous) {
    std::lock_guard lock(manager_.mutex_);
    manager_.writeOut(*sink_, lines, 1);
    return;
  }
  int slot = runtime::threadSlot();
  if (slot < 0) {
    std::lock_guard lock(outside_mutex_);
    outside_.data.append(lines);
    ++outside_.lines;
    if (outside_.data.size() >= manager_.options_.flush_bytes) manager_.handOff(sink_, outside_, false);
    return;
  }
  Buffer& b = slots_[size_t(slot)];
  if (b.data.capacity() == 0) b.data.reserve(manager_.options_.flush_bytes + lines.size());
  b.data.append(lines);
  ++b.lines;
  if (b.data.size() >= manager_.options_.flush_bytes) manager_.handOff(sink_, b, false);
}

AccessLogManager::AccessLogManager(observe::StatsStore& stats, Options options)
    : stats_(stats),
      options_(options),
      write_buffered_(stats.counter("filesystem.write_buffered")),
      write_completed_(stats.counter("filesystem.write_completed")),
      flushed_by_timer_(stats.counter("filesystem.flushed_by_timer")),
      write_failed_(stats.counter("filesystem.write_failed")),
      reopen_failed_(stats.counter("filesystem.reopen_failed")),
      lines_dropped_(stats.counter("filesystem.lines_dropped")),
      write_total_buffered_(stats.gauge("filesystem.write_total_buffered")) {}

AccessLogManager::~AccessLogManager() { stop(); }

AccessLogManager& AccessLogManager::synchronousManager() {
  static observe::StatsStore stats;
  static AccessLogManager manager(stats, Options{.synchronous = true});
  return manager;
}

std::shared_ptr<AccessLogFile> AccessLogManager::open(const std::string& path) {
  // Released after the lock: the last reference to a file hands its buffers over, which locks.
  std::vector<std::shared_ptr<AccessLogFile>> others;
  std::lock_guard lock(mutex_);
  std::erase_if(files_, [](const auto& w) { return w.expired(); });
  std::erase_if(sinks_, [](const auto& w) { return w.expired(); });
  for (const auto& w : files_) {
    auto f = w.lock();
    if (f && f->path() == path) return f;
    if (f) others.push_back(std::move(f));
  }
  auto sink = std::make_shared<AccessLogSink>();
  sink->path = path;
  if (path == "/dev/stdout") {
    openStream(*sink, STDOUT_FILENO);
  } else if (path == "/dev/stderr") {
    openStream(*sink, STDERR_FILENO);
  } else {
    sink->fd = openForAppend(path);
    if (sink->fd < 0) throw std::invalid_argument("cannot open access log " + path + ": " + std::strerror(errno));
    sink->owns_fd = true;
    sink->reopenable = true;
  }
  sink->pipe = isPipe(sink->fd);
  std::shared_ptr<AccessLogFile> file(new AccessLogFile(*this, sink, path));
  files_.push_back(file);
  sinks_.push_back(sink);
  return file;
}

void AccessLogManager::start() {
  std::lock_guard lock(mutex_);
  if (options_.synchronous || flusher_.joinable() || stopped_) return;
  flusher_ = std::thread([this] { flusherLoop(); });
}

void AccessLogManager::handOff(const std::shared_ptr<AccessLogSink>& sink, AccessLogFile::Buffer& buffer, bool by_timer) {
  std::string data = std::move(buffer.data);
  uint64_t lines = buffer.lines;
  buffer.data.clear();
  buffer.lines = 0;
  std::lock_guard lock(mutex_);
  if (stopped_ || !flusher_.joinable()) {
    // No flusher (stopped, or never started): the caller writes. Only at shutdown or in tools.
    writeOut(*sink, data, lines);
    return;
  }
  if (sink->queued_bytes + data.size() > options_.max_queued_bytes) {
    lines_dropped_.inc(lines);
    return;
  }
  sink->queued_bytes += data.size();
  write_total_buffered_.inc(int64_t(data.size()));
  queue_.push_back(Queued{sink, std::move(data), lines, by_timer});
  wake_.notify_one();
}

std::vector<std::shared_ptr<AccessLogFile>> AccessLogManager::liveFiles() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<AccessLogFile>> out;
  for (const auto& w : files_)
    if (auto f = w.lock()) out.push_back(std::move(f));
  return out;
}

void AccessLogManager::flushThisThread(bool by_timer) {
  if (options_.synchronous) return;
  int slot = runtime::threadSlot();
  // Released after the loop: the last reference may destroy a file, which takes the mutex.
  auto files = liveFiles();
  for (const auto& f : files) {
    if (slot >= 0 && !f->slots_[size_t(slot)].data.empty()) handOff(f->sink_, f->slots_[size_t(slot)], by_timer);
    std::lock_guard lock(f->outside_mutex_);
    if (!f->outside_.data.empty()) handOff(f->sink_, f->outside_, by_timer);
  }
}

void AccessLogManager::reopen() {
  std::lock_guard lock(mutex_);
  if (stopped_ || !flusher_.joinable()) {
    for (const auto& w : sinks_)
      if (auto s = w.lock()) reopenSink(*s);
    return;
  }
  reopen_requested_ = true;
  wake_.notify_one();
}

void AccessLogManager::flushAndWait() {
  flushThisThread(false);
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return (queue_.empty() && !writing_ && !reopen_requested_) || !flusher_.joinable(); });
}

void AccessLogManager::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
  }
  // The runtime's threads have ended: every thread's buffers can be read from here.
  for (const auto& f : liveFiles()) {
    for (auto& slot : f->slots_)
      if (!slot.data.empty()) handOff(f->sink_, slot, false);
    std::lock_guard lock(f->outside_mutex_);
    if (!f->outside_.data.empty()) handOff(f->sink_, f->outside_, false);
  }
  {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
    if (flusher_.joinable() && !idle_.wait_for(lock, options_.stop_timeout, [this] { return flusher_done_; })) {
      give_up_ = true;  // a pipe nobody reads: what it still waits for is dropped
      observe::logScope("proxy").error("access logs: a reader stopped reading; dropping what is left after {} ms",
                                       options_.stop_timeout.count());
    }
  }
  if (flusher_.joinable()) flusher_.join();
  std::lock_guard lock(mutex_);
  stopped_ = true;
}

void AccessLogManager::reopenSink(AccessLogSink& sink) {
  if (!sink.reopenable) return;  // stdout and stderr stay
  int fd = openForAppend(sink.path);
  if (fd < 0) {
    int error = errno;
    // The old file stays in use: lines still land somewhere an operator can find them.
    reopen_failed_.inc();
    observe::logScope("proxy").error("cannot reopen access log {}: {}", sink.path, std::strerror(error));
    return;
  }
  ::close(sink.fd);
  sink.fd = fd;
  sink.pipe = isPipe(fd);
}

void AccessLogManager::writeOut(AccessLogSink& sink, std::string_view data, uint64_t lines) {
  // On a pipe (a container runtime's stdout) other writers share, writes of up to PIPE_BUF bytes
  // are atomic: cut there at line ends, so our lines and theirs never interleave.
  while (!data.empty()) {
    size_t n = data.size();
    if (sink.pipe && n > PIPE_BUF) {
      size_t cut = data.rfind('\n', PIPE_BUF - 1);
      n = cut == std::string_view::npos ? data.find('\n') : cut + 1;  // a longer line goes whole
      if (n == std::string_view::npos) n = data.size();
    }
    std::string_view chunk = data.substr(0, n);
    while (!chunk.empty()) {
      ssize_t w = ::write(sink.fd, chunk.data(), chunk.size());
      if (w >= 0) {
        chunk.remove_prefix(size_t(w));
        continue;
      }
      int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN && !give_up_.load(std::memory_order_relaxed)) {  // a full pipe: wait until it drains
        pollfd p{sink.fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      write_failed_.inc();
      lines_dropped_.inc(lines);
      if (!sink.failing)
        observe::logScope("proxy").error("cannot write access log {}: {}", sink.path, std::strerror(error));
      sink.failing = true;
      return;
    }
    data.remove_prefix(n);
  }
  sink.failing = false;
  write_completed_.inc();
}

void AccessLogManager::flusherLoop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return !queue_.empty() || reopen_requested_ || stopping_; });
    std::vector<std::shared_ptr<AccessLogSink>> to_reopen;
    if (reopen_requested_) {
      for (const auto& w : sinks_)
        if (auto s = w.lock()) to_reopen.push_back(std::move(s));
      reopen_requested_ = false;
    }
    std::deque<Queued> batch;
    batch.swap(queue_);
    if (batch.empty() && to_reopen.empty() && stopping_) break;
    writing_ = true;
    lock.unlock();
    for (const auto& s : to_reopen) reopenSink(*s);
    size_t written = 0;
    for (auto& q : batch) {
      writeOut(*q.sink, q.data, q.lines);
      if (q.by_timer) flushed_by_timer_.inc();
      written += q.data.size();
    }
    lock.lock();
    for (auto& q : batch) q.sink->queued_bytes -= q.data.size();
    write_total_buffered_.dec(int64_t(written));
    lock.unlock();
    batch.clear();  // sinks released outside the lock
    to_reopen.clear();
    lock.lock();
    writing_ = false;
    idle_.notify_all();
  }
  writing_ = false;
  flusher_done_ = true;
  idle_.notify_all();
}

}  // namespace monomesh::proxy
