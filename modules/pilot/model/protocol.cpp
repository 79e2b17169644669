#include "pilot/model/protocol.h"

#include <array>
#include <cctype>
#include <utility>

namespace monomesh::pilot {

namespace {

constexpr std::array<std::pair<std::string_view, Protocol>, 11> kNames = {{
    {"TCP", Protocol::TCP},
    {"UDP", Protocol::UDP},
    {"GRPC", Protocol::GRPC},
    {"GRPC-Web", Protocol::GRPCWeb},
    {"HTTP", Protocol::HTTP},
    {"HTTP2", Protocol::HTTP2},
    {"HTTPS", Protocol::HTTPS},
    {"TLS", Protocol::TLS},
    {"Mongo", Protocol::Mongo},
    {"Redis", Protocol::Redis},
    {"MySQL", Protocol::MySQL},
}};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

Protocol parseProtocol(std::string_view name) {
  for (const auto& [text, p] : kNames)
    if (equalsIgnoreCase(text, name)) return p;
  return Protocol::Unsupported;
}

Protocol protocolFromPortName(std::string_view port_name) {
  auto prefix = port_name.substr(0, port_name.find('-'));
  // "grpc-web" has a '-' of its own: a name like "grpc-web-foo" is GRPC-Web, not GRPC.
  if (port_name.size() >= 8 && equalsIgnoreCase(port_name.substr(0, 8), "grpc-web") &&
      (port_name.size() == 8 || port_name[8] == '-'))
    return Protocol::GRPCWeb;
  Protocol p = parseProtocol(prefix);
  return p == Protocol::Unsupported ? Protocol::TCP : p;
}

std::string_view protocolName(Protocol p) {
  for (const auto& [text, value] : kNames)
    if (value == p) return text;
  return "UNSUPPORTED";
}

bool isHttp(Protocol p) {
  return p == Protocol::HTTP || p == Protocol::HTTP2 || p == Protocol::GRPC || p == Protocol::GRPCWeb;
}

bool isHttp2(Protocol p) { return p == Protocol::HTTP2 || p == Protocol::GRPC; }

bool isTlsPassthrough(Protocol p) { return p == Protocol::HTTPS || p == Protocol::TLS; }

}  // namespace monomesh::pilot
