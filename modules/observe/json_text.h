// JSON string escaping shared by every JSON writer (log lines, validate -o json, admin pages).
// Input that is not valid UTF-8 is written with U+FFFD in place of each bad byte, so the output
// is always valid JSON.
#pragma once
#include <string>
#include <string_view>

namespace monomesh::observe {

void appendJsonEscaped(std::string& out, std::string_view text);
std::string jsonEscape(std::string_view text);

}  // namespace monomesh::observe
