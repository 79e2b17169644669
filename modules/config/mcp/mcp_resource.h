// How config travels from Galley to Pilot over xDS (MCP over xDS, Istio 1.1's Mesh Configuration
// Protocol in the xDS envelope): which kinds are distributed, the type URL each kind is
// subscribed under, and each resource wrapped in istio.mcp.v1alpha1.Resource (metadata + body
// Any), because an Any of the bare spec would lose the name, namespace, labels and annotations.
//
// Subscription type URLs: `type.googleapis.com/<message full name>` for every kind whose message
// is its own (VirtualService, Gateway, Service, ...). Kinds that share a message (MeshPolicy and
// Policy, ClusterRbacConfig and RbacConfig, the Struct-bodied Mixer kinds) are subscribed under
// their MCP collection (`istio/authentication/v1alpha1/meshpolicies`), as 1.1's MCP named every
// kind. A server accepts either name for a kind when it is unambiguous.
#pragma once
#include <google/protobuf/any.pb.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/resource.h"
#include "config/schema.h"

namespace monomesh::config::mcp {

inline constexpr std::string_view kResourceTypeUrl = "type.googleapis.com/istio.mcp.v1alpha1.Resource";

// Every kind of Istio's API groups and the Kubernetes objects Pilot reads (Service, Endpoints,
// Pod, Node, Namespace), in registry order.
std::vector<const Schema*> distributedKinds(const SchemaRegistry& registry = SchemaRegistry::builtin());

// The type URL `kind` is subscribed under (see above).
std::string subscriptionUrl(const Schema& kind, const SchemaRegistry& registry = SchemaRegistry::builtin());

// The kind a subscription names: its subscription URL, its collection, or a type URL that
// belongs to exactly one kind; null otherwise. Only kinds in `kinds` are considered.
const Schema* kindForUrl(std::string_view url, const std::vector<const Schema*>& kinds,
                         const SchemaRegistry& registry = SchemaRegistry::builtin());

// MCP's resource name: "namespace/name", or "name" for cluster-scoped kinds.
std::string resourceName(const Resource& resource);

// The resource in its envelope, serialized deterministically (maps sorted), so equal content
// always gives equal bytes and a response's version can be a hash of them.
google::protobuf::Any pack(const Resource& resource);

// Reads one envelope of `kind`; nullopt with `error` set when the bytes, the envelope, the body's
// type or the name do not fit ("resource 3 (default/reviews): body is ... , expected ...").
std::optional<Resource> unpack(const google::protobuf::Any& any, const Schema& kind, std::string& error);

// A 64-bit FNV-1a hash as 16 hex digits: the version of a set of packed resources.
std::string contentVersion(const std::vector<google::protobuf::Any>& resources);

}  // namespace monomesh::config::mcp
