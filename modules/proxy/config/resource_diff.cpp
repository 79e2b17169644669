#include "proxy/config/resource_diff.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <functional>

namespace monomesh::proxy {

std::string canonicalBytes(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

int64_t versionStat(const std::string& version_info) {
  return int64_t(std::hash<std::string>{}(version_info) >> 1);  // a gauge: kept positive
}

ResourceDiff diffResources(const std::map<std::string, std::string>& current,
                           const std::map<std::string, std::string>& next) {
  ResourceDiff diff;
  for (const auto& [name, bytes] : next) {
    auto it = current.find(name);
    if (it == current.end()) diff.added.push_back(name);
    else if (it->second != bytes) diff.updated.push_back(name);
    else diff.unchanged.push_back(name);
  }
  for (const auto& [name, bytes] : current)
    if (!next.count(name)) diff.removed.push_back(name);
  return diff;
}

}  // namespace monomesh::proxy
