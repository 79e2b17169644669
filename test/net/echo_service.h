// The test echo service (/test.Echo/*): one method per RPC shape plus ones that fail, hang or use
// protobuf messages. Shared by the unit tests and the interop peer that python3-grpcio talks to.
#pragma once

#include "net/grpc/grpc_server.h"

namespace monomesh::net::grpc::testing {

void addEchoMethods(GrpcServer& server);

}  // namespace monomesh::net::grpc::testing
