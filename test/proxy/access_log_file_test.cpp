// AccessLogManager / AccessLogFile: per-thread buffers, hand-off at 64 KiB, the flush timer's
// hand-off, whole lines across threads, the bound on what is queued, write failures, reopen.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "proxy/http/access_log_file.h"
#include "proxy_test_util.h"
#include "runtime/thread_slot.h"
#include "temp_dir.h"

using namespace monomesh::proxy;
using monomesh::observe::StatsStore;
using monomesh::proxy::testing::contains;
using monomesh::testing::readAll;
using monomesh::testing::TempDir;

namespace {

// A temporary folder, stats, and a manager made with a test's options.
struct Files {
  TempDir dir;
  StatsStore stats;
  std::unique_ptr<AccessLogManager> manager;

  AccessLogManager& make(AccessLogManager::Options options = {}, bool started = true) {
    manager = std::make_unique<AccessLogManager>(stats, options);
    if (started) manager->start();
    return *manager;
  }
  int64_t stat(const std::string& name) const {
    auto values = stats.values();
    auto it = values.find(name);
    return it == values.end() ? -1 : it->second;
  }
};

// Runs `fn` on a thread that poses as runtime thread `slot` (a worker, for slots >= 1).
template <class F>
void onSlot(int slot, F fn) {
  std::thread t([&] {
    monomesh::runtime::assignThreadSlot(slot);
    fn();
  });
  t.join();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(text.substr(start) + "<no newline>");
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(access_log_file, Files)

BOOST_AUTO_TEST_CASE(worker_lines_wait_in_the_buffer_until_a_flush) {
  auto& files = make();
  auto f = files.open(dir.file("a.log"));
  onSlot(1, [&] {
    for (int i = 0; i < 10; ++i) f->write("line " + std::to_string(i) + "\n");
  });
  files.flushAndWait();  // this thread's buffers only: the worker's stay
  BOOST_TEST(readAll(dir.file("a.log")).empty());
  BOOST_TEST(stat("filesystem.write_buffered") == 10);
  BOOST_TEST(stat("filesystem.write_completed") == 0);
  onSlot(1, [&] { files.flushThisThread(true); });  // the flush timer's turn on that worker
  files.flushAndWait();
  BOOST_TEST(lines(readAll(dir.file("a.log"))).size() == 10u);
  BOOST_TEST(stat("filesystem.write_completed") == 1);  // ten lines, one write
  BOOST_TEST(stat("filesystem.flushed_by_timer") == 1);
  BOOST_TEST(stat("filesystem.write_total_buffered") == 0);
}

BOOST_AUTO_TEST_CASE(a_full_buffer_goes_to_the_flusher_at_once) {
  auto& files = make({.flush_bytes = 1024});
  auto f = files.open(dir.file("a.log"));
  std::string line(99, 'x');
  line += '\n';
  onSlot(2, [&] {
    for (int i = 0; i < 25; ++i) f->write(line);  // 2500 bytes: two hand-offs of >= 1024
  });
  files.flushAndWait();
  BOOST_TEST(readAll(dir.file("a.log")).size() == 1100u * 2);
  BOOST_TEST(stat("filesystem.write_completed") == 2);
  BOOST_TEST(stat("filesystem.flushed_by_timer") == 0);
  files.stop();  // the rest (300 bytes) is written at stop
  BOOST_TEST(readAll(dir.file("a.log")).size() == 2500u);
}

BOOST_AUTO_TEST_CASE(lines_of_many_workers_never_interleave_and_none_is_lost) {
  constexpr int kWorkers = 6, kLines = 5000;
  {
    auto& files = make({.flush_bytes = 4096});
    auto f = files.open(dir.file("a.log"));
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w)
      workers.emplace_back([&, w] {
        monomesh::runtime::assignThreadSlot(w + 1);
        for (int i = 0; i < kLines; ++i) {
          // Lines of varying length, so buffers end mid-way through nobody's line.
          f->write("w" + std::to_string(w) + " " + std::to_string(i) + " " + std::string(size_t(i % 97), 'a' + char(w)) + "\n");
          if (i % 1000 == 999) files.flushThisThread(true);
        }
      });
    for (auto& t : workers) t.join();
    files.stop();
  }
  auto all = lines(readAll(dir.file("a.log")));
  BOOST_TEST(all.size() == size_t(kWorkers * kLines));
  std::vector<int> next(kWorkers, 0);
  for (const auto& l : all) {
    int w = -1, i = -1;
    BOOST_REQUIRE_MESSAGE(std::sscanf(l.c_str(), "w%d %d", &w, &i) == 2 && w >= 0 && w < kWorkers, "bad line: " << l);
    std::string expected = "w" + std::to_string(w) + " " + std::to_string(i) + " " + std::string(size_t(i % 97), 'a' + char(w));
    BOOST_REQUIRE_MESSAGE(l == expected, "mixed line: " << l);
    BOOST_REQUIRE_MESSAGE(i == next[size_t(w)], "worker " << w << ": line " << i << " after " << next[size_t(w)] - 1);
    ++next[size_t(w)];
  }
  BOOST_TEST(stat("filesystem.lines_dropped") == 0);
}

BOOST_AUTO_TEST_CASE(loggers_of_one_path_share_its_file) {
  auto& files = make({}, false);
  auto a = files.open(dir.file("a.log"));
  auto b = files.open(dir.file("a.log"));
  auto c = files.open(dir.file("c.log"));
  BOOST_TEST(a.get() == b.get());
  BOOST_TEST(a.get() != c.get());
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_opened_is_an_error) {
  auto& files = make({}, false);
  std::string error = monomesh::proxy::testing::errorOf([&] { files.open(dir.file("missing/dir/a.log")); });
  BOOST_TEST(contains(error, "cannot open access log"), error);
  BOOST_TEST(contains(error, "missing/dir/a.log"), error);
}

BOOST_AUTO_TEST_CASE(a_released_file_hands_over_its_last_lines) {
  auto& files = make();
  auto f = files.open(dir.file("a.log"));
  onSlot(3, [&] { f->write("last words\n"); });
  f.reset();  // the config that held it is gone
  files.flushAndWait();
  BOOST_TEST(readAll(dir.file("a.log")) == "last words\n");
}

// A reader that does not keep up (a full pipe): the flusher waits in write(2), workers do not;
// what exceeds the bound is dropped and counted, and nothing hangs.
BOOST_AUTO_TEST_CASE(a_stalled_file_drops_lines_beyond_the_bound) {
  std::string fifo = dir.file("fifo");
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  BOOST_REQUIRE(reader >= 0);
  // The pipe starts full, so the flusher's first write(2) waits.
  int filler = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  BOOST_REQUIRE(filler >= 0);
  size_t prefilled = 0;
  std::string block(4096, '.');
  for (ssize_t n; (n = ::write(filler, block.data(), block.size())) > 0;) prefilled += size_t(n);
  ::close(filler);
  {
    auto& files = make({.flush_bytes = 4096, .max_queued_bytes = 16 * 1024});
    auto f = files.open(fifo);
    std::string line(127, 'z');
    line += '\n';
    onSlot(1, [&] {
      for (int i = 0; i < 8000; ++i) f->write(line);  // 1 MB into a 64 KiB pipe nobody reads
    });
    BOOST_TEST(stat("filesystem.lines_dropped") > 0);
    BOOST_TEST(stat("filesystem.write_total_buffered") <= 16 * 1024);
    // Now the reader drains the pipe; stop() writes what was kept and returns.
    std::atomic<bool> done{false};
    size_t received = 0;
    std::thread drain([&] {
      char buf[65536];
      while (!done) {
        ssize_t n = ::read(reader, buf, sizeof(buf));
        if (n > 0) received += size_t(n);
        else ::usleep(1000);
      }
      for (ssize_t n; (n = ::read(reader, buf, sizeof(buf))) > 0;) received += size_t(n);
    });
    files.stop();
    done = true;
    drain.join();
    BOOST_REQUIRE(received >= prefilled);
    received -= prefilled;
    BOOST_TEST(received % 128 == 0u, "only whole lines went out: " << received);
    BOOST_TEST(received > 0u);
    int64_t dropped = stat("filesystem.lines_dropped");
    BOOST_TEST(int64_t(received / 128) + dropped == 8000);  // every line written or counted
  }
  ::close(reader);
}

// A reader that never reads again must not keep the process from exiting: stop() gives up on
// the pipe after stop_timeout and counts what it could not write.
BOOST_AUTO_TEST_CASE(stop_gives_up_on_a_pipe_nobody_reads) {
  std::string fifo = dir.file("fifo");
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  BOOST_REQUIRE(reader >= 0);
  auto& files = make({.flush_bytes = 4096, .stop_timeout = std::chrono::milliseconds(200)});
  auto f = files.open(fifo);
  std::string line(127, 'q');
  line += '\n';
  onSlot(1, [&] {
    for (int i = 0; i < 2000; ++i) f->write(line);  // 256 KB: four times what the pipe holds
  });
  files.stop();  // returns: nobody reads
  size_t in_pipe = 0;
  char buf[65536];
  for (ssize_t n; (n = ::read(reader, buf, sizeof(buf))) > 0;) in_pipe += size_t(n);
  ::close(reader);
  BOOST_TEST(in_pipe % 128 == 0u);
  BOOST_TEST(int64_t(in_pipe / 128) + stat("filesystem.lines_dropped") == 2000);
  BOOST_TEST(stat("filesystem.write_failed") >= 1);
}

BOOST_AUTO_TEST_CASE(a_fifo_without_a_reader_is_refused_not_waited_for) {
  std::string fifo = dir.file("fifo");
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto& files = make();
  std::string error = monomesh::proxy::testing::errorOf([&] { files.open(fifo); });
  BOOST_TEST(contains(error, "cannot open access log"), error);
}

BOOST_AUTO_TEST_CASE(write_failures_are_counted_not_fatal) {
  auto& files = make();
  auto f = files.open("/dev/full");  // every write fails with ENOSPC
  f->write("one\n");
  f->write("two\n");
  files.flushAndWait();
  BOOST_TEST(stat("filesystem.write_failed") == 1);
  BOOST_TEST(stat("filesystem.lines_dropped") == 2);
  BOOST_TEST(stat("filesystem.write_completed") == 0);
}

BOOST_AUTO_TEST_CASE(reopen_follows_a_rotated_file) {
  auto& files = make();
  auto f = files.open(dir.file("a.log"));
  f->write("before\n");
  files.flushAndWait();
  std::filesystem::rename(dir.file("a.log"), dir.file("a.log.1"));  // logrotate's move
  f->write("still old\n");
  files.flushAndWait();
  files.reopen();
  f->write("after\n");
  files.flushAndWait();
  BOOST_TEST(readAll(dir.file("a.log.1")) == "before\nstill old\n");
  BOOST_TEST(readAll(dir.file("a.log")) == "after\n");
  BOOST_TEST(stat("filesystem.reopen_failed") == 0);
}

BOOST_AUTO_TEST_CASE(a_failed_reopen_keeps_the_old_file) {
  std::filesystem::create_directories(dir.file("logs"));
  auto& files = make();
  auto f = files.open(dir.file("logs/a.log"));
  std::filesystem::rename(dir.file("logs"), dir.file("moved"));  // the path cannot be created now
  files.reopen();
  f->write("kept\n");
  files.flushAndWait();
  BOOST_TEST(stat("filesystem.reopen_failed") == 1);
  BOOST_TEST(readAll(dir.file("moved/a.log")) == "kept\n");
}

BOOST_AUTO_TEST_CASE(without_a_flusher_lines_are_written_at_once) {
  auto& files = make({.synchronous = true});
  auto f = files.open(dir.file("a.log"));
  onSlot(1, [&] { f->write("now\n"); });
  BOOST_TEST(readAll(dir.file("a.log")) == "now\n");
}

BOOST_AUTO_TEST_CASE(lines_after_stop_are_written_at_once) {
  auto& files = make();
  auto f = files.open(dir.file("a.log"));
  f->write("first\n");
  files.stop();
  BOOST_TEST(readAll(dir.file("a.log")) == "first\n");
  f->write("late\n");
  f.reset();
  BOOST_TEST(readAll(dir.file("a.log")) == "first\nlate\n");
}

BOOST_AUTO_TEST_SUITE_END()
