// Reading the JSON answers of bookinfo's services (protobuf's JSON parser into a Struct, so no
// extra dependency), with typed look-ups that tolerate missing or mistyped fields.
#pragma once
#include <google/protobuf/struct.pb.h>
#include <optional>
#include <string>
#include <string_view>

namespace monomesh::demo {

using JsonObject = google::protobuf::Struct;

// The object `text` holds; nothing when it is not a JSON object.
std::optional<JsonObject> parseJsonObject(std::string_view text);

std::optional<std::string> stringField(const JsonObject& object, const std::string& name);
std::optional<double> numberField(const JsonObject& object, const std::string& name);
const JsonObject* objectField(const JsonObject& object, const std::string& name);
// Text for a field that may be a string or a number (ids, years, page counts).
std::string fieldText(const JsonObject& object, const std::string& name);

}  // namespace monomesh::demo
