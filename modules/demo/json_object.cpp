#include "demo/json_object.h"

#include <cmath>
#include <google/protobuf/util/json_util.h>

namespace monomesh::demo {

std::optional<JsonObject> parseJsonObject(std::string_view text) {
  google::protobuf::Value value;
  if (!google::protobuf::util::JsonStringToMessage(std::string(text), &value).ok()) return std::nullopt;
  if (value.kind_case() != google::protobuf::Value::kStructValue) return std::nullopt;
  return value.struct_value();
}

namespace {
const google::protobuf::Value* field(const JsonObject& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}
}  // namespace

std::optional<std::string> stringField(const JsonObject& object, const std::string& name) {
  auto* value = field(object, name);
  if (!value || value->kind_case() != google::protobuf::Value::kStringValue) return std::nullopt;
  return value->string_value();
}

std::optional<double> numberField(const JsonObject& object, const std::string& name) {
  auto* value = field(object, name);
  if (!value || value->kind_case() != google::protobuf::Value::kNumberValue) return std::nullopt;
  return value->number_value();
}

const JsonObject* objectField(const JsonObject& object, const std::string& name) {
  auto* value = field(object, name);
  if (!value || value->kind_case() != google::protobuf::Value::kStructValue) return nullptr;
  return &value->struct_value();
}

std::string fieldText(const JsonObject& object, const std::string& name) {
  if (auto text = stringField(object, name)) return *text;
  if (auto number = numberField(object, name)) {
    if (std::isfinite(*number) && std::fabs(*number) < 1e15 && *number == std::floor(*number))
      return std::to_string(static_cast<long long>(*number));
    return std::to_string(*number);
  }
  return {};
}

}  // namespace monomesh::demo
