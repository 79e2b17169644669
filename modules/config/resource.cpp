#include "config/resource.h"

#include <google/protobuf/util/message_differencer.h>

namespace monomesh::config {

std::string ResourceKey::str() const {
  std::string kind = schema ? schema->kind : "?";
  return namespace_.empty() ? kind + " " + name : kind + " " + namespace_ + "/" + name;
}

bool Resource::sameContent(const Resource& other) const {
  if (schema != other.schema || cluster_id != other.cluster_id || !(meta == other.meta)) return false;
  if (body == other.body) return true;
  if (!body || !other.body) return false;
  return google::protobuf::util::MessageDifferencer::Equals(*body, *other.body);
}

}  // namespace monomesh::config
