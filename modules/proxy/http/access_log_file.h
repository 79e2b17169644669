// Access-log files written as Envoy's AccessLogManager writes them: a worker appends whole lines
// to its own buffer for the file (no lock, no syscall per request); a buffer that reaches 64 KiB,
// the flush timer (--file-flush-interval-msec: the server runs flushThisThread on every runtime
// thread) or shutdown hands it to one flusher thread, the only thread that writes files. So lines
// of different workers never interleave, and a slow disk or pipe never stalls a worker: what is
// queued for a file is bounded, and lines beyond the bound are dropped and counted. Stats use
// Envoy's `filesystem.*` names.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "observe/stats_store.h"
#include "runtime/thread_slot.h"

namespace monomesh::proxy {

class AccessLogManager;
struct AccessLogSink;

// One path's buffers; shared by every logger writing that path.
class AccessLogFile {
 public:
  ~AccessLogFile();  // hands what is still buffered to the flusher
  AccessLogFile(const AccessLogFile&) = delete;
  AccessLogFile& operator=(const AccessLogFile&) = delete;

  // Appends one or more whole lines. Any thread; runtime threads take no lock.
  void write(std::string_view lines);
  const std::string& path() const noexcept { return path_; }

 private:
  friend class AccessLogManager;
  struct alignas(64) Buffer {
    std::string data;
    uint64_t lines = 0;
  };
  AccessLogFile(AccessLogManager& manager, std::shared_ptr<AccessLogSink> sink, std::string path);

  AccessLogManager& manager_;
  std::shared_ptr<AccessLogSink> sink_;
  std::string path_;
  std::array<Buffer, runtime::kMaxThreadSlots> slots_;  // each written only by its runtime thread
  std::mutex outside_mutex_;                            // threads outside the runtime share one
  Buffer outside_;
};

class AccessLogManager {
 public:
  struct Options {
    size_t flush_bytes = 64 * 1024;                   // a buffer this full goes to the flusher at once
    size_t max_queued_bytes = 4 * 1024 * 1024;        // per file; beyond it lines are dropped
    // At stop, a pipe nobody reads is given up after this long (its lines counted as dropped),
    // so a stalled log reader cannot keep the process from exiting.
    std::chrono::milliseconds stop_timeout{5000};
    // Tools and tests without a runtime: every line is written at once by the caller.
    bool synchronous = false;
  };
  AccessLogManager(observe::StatsStore& stats, Options options);
  ~AccessLogManager();  // stop()
  AccessLogManager(const AccessLogManager&) = delete;
  AccessLogManager& operator=(const AccessLogManager&) = delete;

  // The file for `path` ("/dev/stdout" and "/dev/stderr" are the process's streams), shared with
  // other loggers of the same path. Throws std::invalid_argument when it cannot be opened.
  std::shared_ptr<AccessLogFile> open(const std::string& path);

  // Starts the flusher thread (no-op when synchronous).
  void start();
  // Hands the calling thread's buffers (and those of threads outside the runtime) to the
  // flusher: the flush timer runs it on every runtime thread.
  void flushThisThread(bool by_timer);
  // Every file is opened again before its next write (log rotation, admin /reopen_logs).
  void reopen();
  // Flushes this thread's buffers and waits until the flusher has written everything queued.
  void flushAndWait();
  // Once no runtime thread runs any more: writes every buffer of every thread, ends the flusher.
  // Later writes are written at once. Idempotent.
  void stop();

  const Options& options() const noexcept { return options_; }

  // A manager that writes each line at once, for compiling configs outside a proxy server.
  static AccessLogManager& synchronousManager();

 private:
  friend class AccessLogFile;
  struct Queued {
    std::shared_ptr<AccessLogSink> sink;
    std::string data;
    uint64_t lines = 0;
    bool by_timer = false;
  };
  void handOff(const std::shared_ptr<AccessLogSink>& sink, AccessLogFile::Buffer& buffer, bool by_timer);
  void writeOut(AccessLogSink& sink, std::string_view data, uint64_t lines);
  void reopenSink(AccessLogSink& sink);
  std::vector<std::shared_ptr<AccessLogFile>> liveFiles();
  void flusherLoop();

  observe::StatsStore& stats_;
  Options options_;
  observe::Counter &write_buffered_, &write_completed_, &flushed_by_timer_, &write_failed_, &reopen_failed_, &lines_dropped_;
  observe::Gauge& write_total_buffered_;

  std::mutex mutex_;  // taken per hand-off (per 64 KiB or timer tick), never per line
  std::condition_variable wake_, idle_;
  std::deque<Queued> queue_;
  std::vector<std::weak_ptr<AccessLogFile>> files_;
  std::vector<std::weak_ptr<AccessLogSink>> sinks_;
  bool reopen_requested_ = false;
  bool writing_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  bool flusher_done_ = false;
  std::atomic<bool> give_up_{false};  // stop_timeout passed: the flusher stops waiting for pipes
  std::thread flusher_;
};

}  // namespace monomesh::proxy
