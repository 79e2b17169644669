// What a state-of-the-world xDS response changes: which named resources it adds, updates, keeps
// unchanged and (for CDS and LDS, where a response is the whole set) removes. Resources compare by
// their deterministic serialization, so a control plane that re-sends the same config on every
// push (Pilot does) changes nothing and nothing is warmed or drained again.
#pragma once
#include <google/protobuf/message.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace monomesh::proxy {

// Bytes that are equal exactly when the messages are (map fields in key order, unlike
// SerializeAsString, whose map order may differ between two equal messages).
std::string canonicalBytes(const google::protobuf::Message& message);

struct ResourceDiff {
  std::vector<std::string> added, updated, unchanged, removed;  // each in name order
  bool changes() const { return !added.empty() || !updated.empty() || !removed.empty(); }
};

// Envoy's *.version stats: a number standing for a response's version_info (its hash).
int64_t versionStat(const std::string& version_info);

// `current` and `next` map names to canonicalBytes().
ResourceDiff diffResources(const std::map<std::string, std::string>& current,
                           const std::map<std::string, std::string>& next);

}  // namespace monomesh::proxy
