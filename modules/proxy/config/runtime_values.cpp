#include "proxy/config/runtime_values.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace monomesh::proxy {

namespace fs = std::filesystem;

std::optional<uint64_t> RuntimeValues::integer(std::string_view key) const {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  uint64_t v = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

namespace {

// Nested Struct fields become dotted keys: {fault: {http: {abort: {abort_percent: 100}}}}.
void flatten(const google::protobuf::Struct& s, const std::string& prefix, std::map<std::string, std::string, std::less<>>& out) {
  for (const auto& [name, value] : s.fields()) {
    std::string key = prefix.empty() ? name : prefix + "." + name;
    switch (value.kind_case()) {
      case google::protobuf::Value::kStructValue: flatten(value.struct_value(), key, out); break;
      case google::protobuf::Value::kNumberValue: {
        double d = value.number_value();
        out[key] = d == double(int64_t(d)) ? std::to_string(int64_t(d)) : std::to_string(d);
        break;
      }
      case google::protobuf::Value::kBoolValue: out[key] = value.bool_value() ? "true" : "false"; break;
      case google::protobuf::Value::kStringValue: out[key] = value.string_value(); break;
      default: break;
    }
  }
}

void readDisk(const fs::path& root, std::map<std::string, std::string, std::less<>>& out) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto rel = fs::relative(it->path(), root, ec).generic_string();
    if (ec || rel.empty() || rel[0] == '.') continue;
    std::string key = rel;
    for (auto& c : key)
      if (c == '/') c = '.';
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string value = text.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ' || value.back() == '\r')) value.pop_back();
    out[key] = value;
  }
}

}  // namespace

std::shared_ptr<const RuntimeValues> loadRuntime(const envoy::config::bootstrap::v3::LayeredRuntime& layers,
                                                 const std::map<std::string, std::string>& admin) {
  auto values = std::make_shared<RuntimeValues>();
  for (const auto& layer : layers.layers()) {
    if (layer.has_static_layer()) flatten(layer.static_layer(), "", values->values);
    if (layer.has_disk_layer()) {
      fs::path root = layer.disk_layer().symlink_root();
      if (!layer.disk_layer().subdirectory().empty()) root /= layer.disk_layer().subdirectory();
      readDisk(root, values->values);
    }
    if (layer.has_admin_layer())
      for (const auto& [k, v] : admin) values->values[k] = v;
  }
  return values;
}

}  // namespace monomesh::proxy
