// What a bookinfo service passes on to the services it calls: Istio's tracing headers, copied
// from the inbound request so the sidecars can join the spans of one request into one trace, and
// the signed-in user (the `end-user` header and the `user` cookie), which Istio's routing and
// fault-injection rules match on.
#pragma once
#include <array>
#include <string>
#include <string_view>

#include "demo/http_server.h"
#include "demo/upstream_client.h"

namespace monomesh::demo {

inline constexpr std::array<std::string_view, 7> kTracingHeaders = {
    "x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
    "x-b3-sampled", "x-b3-flags",   "x-ot-span-context"};

// The tracing headers present on `request`, in kTracingHeaders order.
HeaderList tracingHeaders(const Request& request);

// 1 to 64 letters, digits, '.', '_', '-' or '@': safe in a cookie, a header and HTML.
bool validUserName(std::string_view name);

// The `user` cookie's value when it is a valid user name; empty otherwise.
std::string userFromCookie(const Request& request);

// The user a request speaks for: its `end-user` header, else its `user` cookie; empty if none
// (or not a valid user name).
std::string endUser(const Request& request);

// Adds `end-user: <user>` and `cookie: user=<user>` (nothing for an empty user).
void addEndUser(HeaderList& headers, const std::string& user);

}  // namespace monomesh::demo
