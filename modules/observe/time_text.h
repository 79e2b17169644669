// UTC timestamps as logs write them: RFC 3339 with a chosen number of fractional digits
// ("2026-11-26T04:44:35.692642Z"), or a strftime format.
#pragma once
#include <chrono>
#include <string>

namespace monomesh::observe {

// fraction_digits: 3 (milliseconds) or 6 (microseconds).
std::string formatUtcTime(std::chrono::system_clock::time_point time, int fraction_digits);
std::string formatUtcTime(std::chrono::system_clock::time_point time, const std::string& strftime_format);

}  // namespace monomesh::observe
