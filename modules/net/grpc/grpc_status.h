// gRPC status codes and the status an RPC ends with (the grpc-status / grpc-message trailers).
#pragma once

#include <string>
#include <string_view>

namespace monomesh::net::grpc {

enum class StatusCode : int {
  ok = 0, cancelled = 1, unknown = 2, invalid_argument = 3, deadline_exceeded = 4, not_found = 5,
  already_exists = 6, permission_denied = 7, resource_exhausted = 8, failed_precondition = 9, aborted = 10,
  out_of_range = 11, unimplemented = 12, internal = 13, unavailable = 14, data_loss = 15, unauthenticated = 16,
};

struct Status {
  StatusCode code = StatusCode::ok;
  std::string message;
  bool ok() const noexcept { return code == StatusCode::ok; }
};

// "DEADLINE_EXCEEDED" etc., as gRPC and Envoy's retry_on names print them.
std::string_view statusName(StatusCode code);
// The gRPC status for an HTTP status from a non-gRPC answer (gRPC's http-grpc-status-mapping).
StatusCode statusFromHttp(int http_status);
// grpc-message is percent-encoded (gRPC's PROTOCOL-HTTP2 spec).
std::string encodeGrpcMessage(std::string_view message);
std::string decodeGrpcMessage(std::string_view encoded);

}  // namespace monomesh::net::grpc
