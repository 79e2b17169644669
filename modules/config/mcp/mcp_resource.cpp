#include "config/mcp/mcp_resource.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>

#include "config/validation/hosts.h"
#include "istio/mcp/v1alpha1/resource.pb.h"

namespace monomesh::config::mcp {

namespace {

using google::protobuf::util::TimeUtil;

std::string serializeDeterministic(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

bool sharesMessage(const Schema& kind, const SchemaRegistry& registry) {
  return std::count_if(registry.all().begin(), registry.all().end(),
                       [&](const Schema& s) { return s.message == kind.message; }) > 1;
}

// What the API server requires of names, so Pilot never holds an object it could not have held.
bool isDns1123Subdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    if (!validation::isDns1123Label(name.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

std::vector<const Schema*> distributedKinds(const SchemaRegistry& registry) {
  std::vector<const Schema*> out;
  for (const auto& s : registry.all()) {
    bool core = s.group.empty() && (s.kind == "Service" || s.kind == "Endpoints" || s.kind == "Pod" ||
                                    s.kind == "Node" || s.kind == "Namespace");
    if (core || SchemaRegistry::isIstioGroup(s.group)) out.push_back(&s);
  }
  return out;
}

std::string subscriptionUrl(const Schema& kind, const SchemaRegistry& registry) {
  return sharesMessage(kind, registry) ? kind.collection : kind.typeUrl();
}

const Schema* kindForUrl(std::string_view url, const std::vector<const Schema*>& kinds, const SchemaRegistry& registry) {
  for (const Schema* kind : kinds)
    if (kind->collection == url || subscriptionUrl(*kind, registry) == url) return kind;
  return nullptr;
}

std::string resourceName(const Resource& resource) {
  return resource.meta.namespace_.empty() ? resource.meta.name : resource.meta.namespace_ + "/" + resource.meta.name;
}

google::protobuf::Any pack(const Resource& resource) {
  istio::mcp::v1alpha1::Resource envelope;
  auto& meta = *envelope.mutable_metadata();
  meta.set_name(resourceName(resource));
  meta.set_version(resource.meta.resource_version);
  google::protobuf::Timestamp created;
  if (!resource.meta.creation_timestamp.empty() && TimeUtil::FromString(resource.meta.creation_timestamp, &created))
    *meta.mutable_create_time() = created;
  meta.mutable_labels()->insert(resource.meta.labels.begin(), resource.meta.labels.end());
  meta.mutable_annotations()->insert(resource.meta.annotations.begin(), resource.meta.annotations.end());
  if (resource.body) {
    envelope.mutable_body()->set_type_url("type.googleapis.com/" + resource.body->GetDescriptor()->full_name());
    envelope.mutable_body()->set_value(serializeDeterministic(*resource.body));
  }
  google::protobuf::Any any;
  any.set_type_url(std::string(kResourceTypeUrl));
  any.set_value(serializeDeterministic(envelope));
  return any;
}

std::optional<Resource> unpack(const google::protobuf::Any& any, const Schema& kind, std::string& error) {
  if (any.type_url() != kResourceTypeUrl) {
    error = "resource type is \"" + any.type_url() + "\", expected " + std::string(kResourceTypeUrl);
    return std::nullopt;
  }
  istio::mcp::v1alpha1::Resource envelope;
  if (!envelope.ParseFromString(any.value())) {
    error = "unparsable istio.mcp.v1alpha1.Resource";
    return std::nullopt;
  }
  const auto& meta = envelope.metadata();
  const std::string& full = meta.name();
  auto fail = [&](const std::string& why) -> std::optional<Resource> {
    error = (full.empty() ? std::string("(no name)") : full) + ": " + why;
    return std::nullopt;
  };
  Resource out;
  out.schema = &kind;
  size_t slash = full.find('/');
  if (kind.namespaced()) {
    if (slash == std::string::npos || slash == 0 || slash + 1 == full.size() || full.find('/', slash + 1) != std::string::npos)
      return fail("metadata.name must be \"namespace/name\" for " + kind.kind);
    out.meta.namespace_ = full.substr(0, slash);
    out.meta.name = full.substr(slash + 1);
  } else {
    if (full.empty() || slash != std::string::npos) return fail("metadata.name must be a plain name for " + kind.kind);
    out.meta.name = full;
  }
  if (!isDns1123Subdomain(out.meta.name)) return fail("name \"" + out.meta.name + "\" is not a DNS-1123 subdomain");
  if (kind.namespaced() && !validation::isDns1123Label(out.meta.namespace_))
    return fail("namespace \"" + out.meta.namespace_ + "\" is not a DNS-1123 label");
  out.meta.resource_version = meta.version();
  if (meta.has_create_time()) out.meta.creation_timestamp = TimeUtil::ToString(meta.create_time());
  out.meta.labels.insert(meta.labels().begin(), meta.labels().end());
  out.meta.annotations.insert(meta.annotations().begin(), meta.annotations().end());
  std::string expected = "type.googleapis.com/" + kind.message->full_name();
  if (!envelope.has_body()) return fail("no body");
  if (envelope.body().type_url() != expected)
    return fail("body is \"" + envelope.body().type_url() + "\", expected " + expected);
  std::unique_ptr<google::protobuf::Message> body(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(kind.message)->New());
  if (!body->ParseFromString(envelope.body().value())) return fail("unparsable " + kind.message->full_name());
  out.body = std::move(body);
  return out;
}

std::string contentVersion(const std::vector<google::protobuf::Any>& resources) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view bytes) {
    for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
    hash = (hash ^ 0xff) * 1099511628211ull;  // a separator, so ["ab"] and ["a", "b"] differ
  };
  for (const auto& any : resources) {
    mix(any.type_url());
    mix(any.value());
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace monomesh::config::mcp
