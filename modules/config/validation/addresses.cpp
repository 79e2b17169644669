#include "config/validation/addresses.h"

#include <arpa/inet.h>
#include <charconv>

#include "config/validation/findings.h"
#include "config/validation/hosts.h"

namespace monomesh::config::validation {

namespace {

bool parses(int family, std::string_view s) {
  char text[64];
  if (s.empty() || s.size() >= sizeof(text)) return false;
  s.copy(text, s.size());
  text[s.size()] = '\0';
  unsigned char out[16];
  return inet_pton(family, text, out) == 1;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

bool isIPv4(std::string_view s) { return parses(AF_INET, s); }
bool isIP(std::string_view s) { return parses(AF_INET, s) || parses(AF_INET6, s); }

std::string ipv4AddressError(std::string_view s) {
  if (isIPv4(s)) return "";
  if (parses(AF_INET6, s)) return quoted(s) + " is an IPv6 address; Istio 1.1 supports IPv4 only here";
  return quoted(s) + " is not a valid IPv4 address";
}

std::string ipv4SubnetError(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return ipv4AddressError(s);
  std::string_view ip = s.substr(0, slash), bits = s.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  bool prefix_ok = ec == std::errc() && end == bits.data() + bits.size() && !bits.empty();
  if (parses(AF_INET6, ip)) return quoted(s) + " is an IPv6 block; Istio 1.1 supports IPv4 only here";
  if (!isIPv4(ip) || !prefix_ok || prefix < 0 || prefix > 32) return quoted(s) + " is not a valid CIDR block (a.b.c.d/nn)";
  return "";
}

std::string unixPathError(std::string_view path) {
  if (path.empty()) return "the unix socket path after unix:// cannot be empty";
  if (path[0] != '/' || path.back() == '/') return quoted(path) + " is not an absolute path to a socket file";
  return "";
}

std::string portError(int64_t port) {
  if (port >= 1 && port <= 65535) return "";
  return "port number " + std::to_string(port) + " is not in 1..65535";
}

std::string portNameError(std::string_view name) {
  if (name.empty()) return "port name cannot be empty";
  if (isDns1123Label(name)) return "";
  return "port name " + quoted(name) + " is not a DNS-1123 label";
}

Protocol parseProtocol(std::string_view name) {
  static const std::pair<const char*, Protocol> kNames[] = {
      {"TCP", Protocol::TCP},     {"UDP", Protocol::UDP},     {"GRPC", Protocol::GRPC},
      {"GRPC-Web", Protocol::GRPCWeb}, {"HTTP", Protocol::HTTP}, {"HTTP2", Protocol::HTTP2},
      {"HTTPS", Protocol::HTTPS}, {"TLS", Protocol::TLS},     {"Mongo", Protocol::Mongo},
      {"Redis", Protocol::Redis}, {"MySQL", Protocol::MySQL}};
  for (const auto& [text, protocol] : kNames)
    if (equalsIgnoreCase(name, text)) return protocol;
  return Protocol::Unsupported;
}

bool isHttpProtocol(Protocol p) {
  return p == Protocol::HTTP || p == Protocol::HTTP2 || p == Protocol::GRPC || p == Protocol::GRPCWeb;
}

bool isTlsProtocol(Protocol p) { return p == Protocol::HTTPS || p == Protocol::TLS; }

std::string protocolError(std::string_view name) {
  if (parseProtocol(name) != Protocol::Unsupported) return "";
  return "unsupported protocol " + quoted(name) +
         " (expected HTTP, HTTPS, HTTP2, GRPC, GRPC-Web, TCP, TLS, UDP, Mongo, Redis or MySQL)";
}

}  // namespace monomesh::config::validation
