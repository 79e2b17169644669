// Addresses and ports as Istio 1.1 checks them: IPv4 addresses and subnets (IPv6 is rejected
// where 1.1 rejected it), `unix://` socket paths, port numbers and names, and protocol names.
// Checks return "" when the input is valid, else what is wrong with it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace monomesh::config::validation {

bool isIP(std::string_view s);  // IPv4 or IPv6
bool isIPv4(std::string_view s);

// "a.b.c.d" (IPv6 is not supported in 1.1).
std::string ipv4AddressError(std::string_view s);
// "a.b.c.d" or "a.b.c.d/nn".
std::string ipv4SubnetError(std::string_view s);
// The path after "unix://": absolute, naming a file (not ending in '/').
std::string unixPathError(std::string_view path);

// 1..65535.
std::string portError(int64_t port);
// A DNS-1123 label.
std::string portNameError(std::string_view name);

// Istio's ParseProtocol (case-insensitive).
enum class Protocol { Unsupported, TCP, UDP, GRPC, GRPCWeb, HTTP, HTTP2, HTTPS, TLS, Mongo, Redis, MySQL };
Protocol parseProtocol(std::string_view name);
bool isHttpProtocol(Protocol p);  // HTTP, HTTP2, GRPC, GRPC-Web
bool isTlsProtocol(Protocol p);   // HTTPS, TLS
std::string protocolError(std::string_view name);

}  // namespace monomesh::config::validation
