// What the mesh tools read from running processes: one HTTP GET to a debug or admin endpoint
// (Pilot's /debug/syncz, a proxy's /config_dump), bounded in time and size, its JSON parsed.
#pragma once
#include <google/protobuf/struct.pb.h>

#include <optional>
#include <string>

namespace monomesh::tools {

// GET http://<address><path>; nullopt with `error` set ("cannot connect to ...", "HTTP 404: ...").
std::optional<std::string> httpGet(const std::string& address, const std::string& path, std::string& error);
// The body parsed as JSON (objects and arrays as protobuf Struct values).
std::optional<google::protobuf::Value> fetchJson(const std::string& address, const std::string& path, std::string& error);

// Member access that tolerates absence: the field's value, or an empty Value.
const google::protobuf::Value& member(const google::protobuf::Value& object, const std::string& name);
std::string text(const google::protobuf::Value& v);

}  // namespace monomesh::tools
