// Istio 1.1's service port protocols: parsed from ServiceEntry/Gateway port protocols and from a
// Kubernetes port's name prefix ("http-foo" is HTTP; unnamed or unknown prefixes are TCP).
#pragma once
#include <string_view>

namespace monomesh::pilot {

enum class Protocol { TCP, UDP, GRPC, GRPCWeb, HTTP, HTTP2, HTTPS, TLS, Mongo, Redis, MySQL, Unsupported };

// Case-insensitive, as Istio's ParseProtocol: anything unknown is Unsupported.
Protocol parseProtocol(std::string_view name);
// The Kubernetes port-name convention: the prefix before the first '-'; unknown means TCP.
Protocol protocolFromPortName(std::string_view port_name);
std::string_view protocolName(Protocol p);

// Served by an HTTP connection manager (http, http2, grpc, grpc-web).
bool isHttp(Protocol p);
// Speaks HTTP/2 to the upstream (http2, grpc).
bool isHttp2(Protocol p);
// Routed by SNI without terminating TLS (https, tls).
bool isTlsPassthrough(Protocol p);

}  // namespace monomesh::pilot
