#include "observe/time_text.h"

#include <cstdio>
#include <ctime>

namespace monomesh::observe {
namespace {

std::tm utc(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(time));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string formatUtcTime(std::chrono::system_clock::time_point time, int fraction_digits) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(time);
  long micros = long(std::chrono::duration_cast<std::chrono::microseconds>(time - secs).count() % 1000000);
  std::tm tm = utc(time);
  char buf[64];
  if (fraction_digits == 3) {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, micros / 1000);
  } else {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  }
  return buf;
}

std::string formatUtcTime(std::chrono::system_clock::time_point time, const std::string& strftime_format) {
  std::tm tm = utc(time);
  char buf[256];
  size_t n = std::strftime(buf, sizeof(buf), strftime_format.c_str(), &tm);
  return std::string(buf, n);
}

}  // namespace monomesh::observe
