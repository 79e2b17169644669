#include "runtime/duration.h"

#include <cstdint>
#include <limits>

namespace monomesh::runtime {
namespace {

struct Unit {
  std::string_view name;
  int64_t nanos;
};
// Longest names first so "ms" is not read as "m".
constexpr Unit kUnits[] = {{"ns", 1},        {"us", 1000},           {"\xC2\xB5s", 1000},
                           {"ms", 1000000},  {"s", 1000000000},      {"m", 60LL * 1000000000},
                           {"h", 3600LL * 1000000000}};

}  // namespace

std::optional<std::chrono::nanoseconds> parseDuration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s.front() == '-' || s.front() == '+') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return std::nullopt;
  // Exact integer arithmetic, as Go's time.ParseDuration: fractions are truncated to nanoseconds.
  using u128 = unsigned __int128;
  const u128 limit = u128(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  u128 total = 0;
  while (!s.empty()) {
    size_t i = 0;
    u128 whole = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      whole = whole * 10 + unsigned(s[i] - '0');
      if (whole > limit) return std::nullopt;
      ++i;
      digits = true;
    }
    u128 fraction = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (scale < u128(1000000000000000000ULL)) {  // digits past 18 cannot change nanoseconds
          fraction = fraction * 10 + unsigned(s[i] - '0');
          scale *= 10;
        }
        ++i;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    s.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (s.substr(0, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    s.remove_prefix(unit->name.size());
    total += whole * u128(unit->nanos) + fraction * u128(unit->nanos) / scale;
    if (total > limit) return std::nullopt;
  }
  if (negative) return std::chrono::nanoseconds(total == limit ? std::numeric_limits<int64_t>::min() : -int64_t(total));
  return std::chrono::nanoseconds(int64_t(total));
}

std::string formatDuration(std::chrono::nanoseconds d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  uint64_t v = n < 0 ? uint64_t(-(n + 1)) + 1 : uint64_t(n);
  auto exact = [&](uint64_t per, const char* unit) -> std::string {
    uint64_t whole = v / per, rest = v % per;
    std::string out = sign + std::to_string(whole);
    if (rest != 0) {
      std::string frac = std::to_string(per + rest).substr(1);  // zero-padded
      while (!frac.empty() && frac.back() == '0') frac.pop_back();
      out += "." + frac;
    }
    return out + unit;
  };
  if (v % 1000000000ULL == 0 || v >= 1000000000ULL) return exact(1000000000ULL, "s");
  if (v >= 1000000ULL) return exact(1000000ULL, "ms");
  if (v >= 1000ULL) return exact(1000ULL, "us");
  return sign + std::to_string(v) + "ns";
}

}  // namespace monomesh::runtime
