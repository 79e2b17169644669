// The HTTP filters of the connection manager: fault (delay/abort), CORS and the router marker.
// Two-level factories as Envoy: each filter's config is parsed and checked once per config load
// into an immutable object; per request a filter is a plain function over that config and the
// request context, returning Continue, a local reply or a delay. Register built-ins in one place
// (httpFilterRegistry()); static self-registration would be dropped by the linker.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/any.pb.h"
#include "proxy/config/runtime_values.h"
#include "proxy/http/route_table.h"

namespace monomesh::proxy {

// What the connection manager knows about a request while filters run.
struct RequestContext {
  Fields& headers;
  std::string_view method;
  std::string_view target;
  const VirtualHost* vhost = nullptr;
  const Route* route = nullptr;
  uint64_t random = 0;  // one draw per request
  const RuntimeValues* runtime = nullptr;  // layered runtime overrides (may be null)
  // Added to the response by filters (CORS).
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::string response_flags;  // Envoy's %RESPONSE_FLAGS% ("FI", "DI", ...)
};

struct FilterResult {
  enum class Kind { Continue, LocalReply, Delay } kind = Kind::Continue;
  unsigned status = 0;
  std::string body;
  std::chrono::milliseconds delay{0};
  static FilterResult proceed() { return {}; }
};

using FilterFunction = FilterResult (*)(const void* config, RequestContext& request);

struct HttpFilterSlot {
  std::string name;                    // canonical name ("envoy.filters.http.fault")
  std::shared_ptr<const void> config;  // the listener-level config, may be null
  FilterFunction on_request = nullptr; // null for the router (it ends the chain)
};

struct HttpFilterFactory {
  std::string name;                   // canonical name
  std::vector<std::string> aliases;   // 1.1-era names ("envoy.fault")
  std::string type_url;               // of its listener-level config
  std::string per_route_type_url;     // of typed_per_filter_config entries ("" if none)
  std::function<std::shared_ptr<const void>(const google::protobuf::Any*)> parse;            // listener level
  std::function<std::shared_ptr<const void>(const google::protobuf::Any&)> parse_per_route;  // route level
  FilterFunction on_request = nullptr;
};

const std::vector<HttpFilterFactory>& httpFilterRegistry();
// By canonical name, alias, or the type URL of its config; nullptr when unknown.
const HttpFilterFactory* findHttpFilter(const std::string& name, const std::string& type_url = {});

// For RouteTable::compile: typed_per_filter_config entries of known filters.
std::shared_ptr<const void> parsePerFilterConfig(const std::string& filter_name, const google::protobuf::Any& config);

}  // namespace monomesh::proxy
