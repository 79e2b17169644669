// Request mirroring (RouteAction.request_mirror_policies): a copy of a buffered request goes to the
// shadow cluster with "-shadow" appended to its authority, fire and forget: the answer is read and
// dropped, and nothing about it reaches the client. Shared by the HTTP/1.1 and HTTP/2 managers.
#pragma once
#include <boost/asio/any_io_executor.hpp>

#include <string>

#include "proxy/http/http1_message.h"
#include "proxy/http/route_table.h"
#include "proxy/worker.h"

namespace monomesh::proxy {

// Shadow requests go over HTTP/1.1 (the proxy's pool for the shadow cluster). `head` is the
// request as it goes upstream, framing headers included; `body` its whole body.
void mirrorRequest(const MirrorPolicy& policy, const RequestHead& head, const std::string& body, ProxyWorker& worker,
                   boost::asio::any_io_executor executor);

}  // namespace monomesh::proxy
