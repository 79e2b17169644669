// parseDuration / formatDuration: Go's duration syntax plus protobuf JSON's fractional seconds.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "runtime/duration.h"

namespace rt = monomesh::runtime;
using std::chrono::nanoseconds;

namespace {

constexpr int64_t kSecond = 1000000000LL;

struct Valid {
  const char* text;
  int64_t nanos;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(parses_go_syntax) {
  const Valid cases[] = {
      {"1h2m3.5s", 3723 * kSecond + kSecond / 2},
      {"100ms", 100000000},
      {"1.5s", 1500000000},
      {"-1s", -kSecond},
      {"+5s", 5 * kSecond},
      {"0", 0},
      {"-0", 0},
      {"0s", 0},
      {"45s", 45 * kSecond},
      {"1m30s", 90 * kSecond},
      {"1.5h", 5400 * kSecond},
      {"0.250s", 250000000},
      {"1ns", 1},
      {"1us", 1000},
      {"1\xC2\xB5s", 1000},  // U+00B5 MICRO SIGN, as Go accepts
      {"2ms500us", 2500000},
      {"1.s", kSecond},       // Go accepts a trailing dot
      {".5s", kSecond / 2},   // and a leading one
      {"1h1h", 7200 * kSecond},
      {"-1m30s", -90 * kSecond},
      {"1.000000001s", kSecond + 1},
      {"9223372036854775807ns", std::numeric_limits<int64_t>::max()},
      {"2562047h", 2562047LL * 3600 * kSecond},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text \"" << c.text << "\"") {
      auto d = rt::parseDuration(c.text);
      BOOST_TEST(d.has_value());
      if (d) BOOST_TEST(d->count() == c.nanos);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_non_durations) {
  const char* bad[] = {"",     "5",      "s",     "1x",    "-",     "+",   "--1s", ".s",
                       "1.5",  "1s5",    " 1s",   "1s ",   "1S",    "1e3s", "1 s",  "ms",
                       "h1",   "1h-1m",  "0x10s", "1sec",
                       "9223372036854775808ns",  // one past the largest duration
                       "2562048h", "99999999999999999999s"};
  for (const char* text : bad) {
    BOOST_TEST_CONTEXT("text \"" << text << "\"") {
      auto d = rt::parseDuration(text);
      BOOST_TEST(!d.has_value(), "parsed as " << (d ? d->count() : 0) << "ns");
    }
  }
}

BOOST_AUTO_TEST_CASE(formats_shortest_exact_spelling) {
  struct Case {
    int64_t nanos;
    const char* text;
  };
  const Case cases[] = {
      {0, "0s"},
      {45 * kSecond, "45s"},
      {1500000000, "1.5s"},
      {100000000, "100ms"},
      {999000000, "999ms"},
      {250000000, "250ms"},
      {1500000, "1.5ms"},
      {1001, "1.001us"},
      {1000, "1us"},
      {1, "1ns"},
      {999, "999ns"},
      {-kSecond, "-1s"},
      {-250000000, "-250ms"},
      {-1, "-1ns"},
      {kSecond + 1, "1.000000001s"},
      {3723 * kSecond + kSecond / 2, "3723.5s"},
      {3600 * kSecond, "3600s"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("nanos " << c.nanos) {
      BOOST_TEST(rt::formatDuration(nanoseconds(c.nanos)) == c.text);
    }
  }
}

BOOST_AUTO_TEST_CASE(format_then_parse_round_trips) {
  std::vector<int64_t> values = {0, 1, -1, 999, 1000, 1001, 999999, 1000000, 1000001, kSecond - 1,
                                 kSecond, kSecond + 1, 60 * kSecond, 3600 * kSecond + 1,
                                 86400 * kSecond + 123456789, -86400 * kSecond - 1};
  std::mt19937_64 random(20240601);
  // Every magnitude up to 2^62 ns (about 146 years): far beyond any real configuration.
  for (int bits = 1; bits <= 62; ++bits) {
    for (int i = 0; i < 200; ++i) {
      auto v = int64_t(random() % (uint64_t(1) << bits));
      values.push_back(i % 2 ? -v : v);
    }
  }
  int failures = 0;
  for (int64_t v : values) {
    std::string text = rt::formatDuration(nanoseconds(v));
    auto back = rt::parseDuration(text);
    if (!back || back->count() != v) {
      if (++failures <= 5)
        BOOST_ERROR(v << "ns formats as \"" << text << "\" which parses as "
                      << (back ? std::to_string(back->count()) + "ns" : std::string("nothing")));
    }
  }
  BOOST_TEST(failures == 0);
}

// formatDuration claims an exact spelling for every value and parseDuration accepts negative
// values, so the extremes of the range must survive a round trip (Go's own ParseDuration parses
// both with integer arithmetic).
BOOST_AUTO_TEST_CASE(round_trip_extreme_values) {
  const int64_t values[] = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                            8740675804441496180LL, -8966777641469270257LL};
  for (int64_t v : values) {
    std::string text = rt::formatDuration(nanoseconds(v));
    BOOST_TEST_CONTEXT(v << "ns formatted as \"" << text << "\"") {
      auto back = rt::parseDuration(text);
      BOOST_TEST(back.has_value());
      if (back) BOOST_TEST(back->count() == v);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
