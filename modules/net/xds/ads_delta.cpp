// Incremental ADS (DeltaAggregatedResources): per stream and type the server remembers which
// resources the proxy has at which version, and sends only those that changed plus the names
// that went away. A wildcard subscription (CDS/LDS with no names, or "*") follows every resource;
// named subscriptions change with resource_names_subscribe/unsubscribe. initial_resource_versions
// on a reconnect spare the proxy what it already holds. ACK/NACK as in the state-of-the-world
// protocol, by nonce.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "net/xds/ads_stream.h"
#include "observe/log.h"

namespace monomesh::net::xds {

namespace asio = boost::asio;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;

std::string resourceName(const google::protobuf::Any& resource) {
  auto full_name = resource.type_url().substr(resource.type_url().rfind('/') + 1);
  const auto* descriptor = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(full_name);
  if (descriptor == nullptr) return {};
  const auto* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  std::unique_ptr<google::protobuf::Message> message(prototype->New());
  if (!message->ParseFromString(resource.value())) return {};
  const auto* field = descriptor->FindFieldByName("name");
  if (field == nullptr) field = descriptor->FindFieldByName("cluster_name");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING || field->is_repeated()) return {};
  return message->GetReflection()->GetString(*message, field);
}

namespace {

std::string contentVersion(const std::string& bytes) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016zx", std::hash<std::string>{}(bytes));
  return text;
}

}  // namespace

asio::awaitable<grpc::Status> AdsServer::serveDelta(grpc::ServerCall& call) {
  auto executor = co_await asio::this_coro::executor;
  auto stream = openStream(call, executor, true);

  grpc::Status result;
  bool failed = false;
  for (;;) {
    co_await stream->wake.wait();
    while (!failed && !stream->requests.empty()) {
      DeltaDiscoveryRequest request;
      if (auto refused = nextRequest(*stream, request)) {
        result = *refused;
        failed = true;
        break;
      }
      const std::string& url = request.type_url();
      bool first = stream->status.types.find(url) == stream->status.types.end();
      TypeStatus& type = stream->status.types[url];
      auto& have = stream->delta_versions[url];
      const std::string& nonce = request.response_nonce();
      if (!nonce.empty() && nonce != type.sent_nonce) {
        counters_->stale_nonces++;
        continue;
      }
      if (!nonce.empty()) {
        if (request.has_error_detail() && request.error_detail().code() != 0) {
          counters_->nacks++;
          // The proxy keeps its previous resources; what it rejected is sent again when it changes.
          type.last_nack = request.error_detail().message();
          observe::logScope("ads").warn("delta NACK from {} for {}: {}", stream->status.node_id, url, type.last_nack);
          if (hooks_->answered) hooks_->answered(stream->status, url, type.last_nack);
        } else {
          counters_->acks++;
          type.acked_version = type.sent_version;
          type.last_nack.clear();
          if (hooks_->answered) hooks_->answered(stream->status, url, std::string());
        }
      }
      if (first) {
        for (const auto& [name, version] : request.initial_resource_versions()) have[name] = version;
        bool legacy_wildcard = isWildcardType(url) && request.resource_names_subscribe().empty();
        stream->delta_wildcard[url] = legacy_wildcard;
      }
      bool changed = first;
      std::set<std::string> names(type.names.begin(), type.names.end());
      for (const auto& n : request.resource_names_subscribe()) {
        if (n == "*") stream->delta_wildcard[url] = true;
        else changed |= names.insert(n).second;
      }
      for (const auto& n : request.resource_names_unsubscribe()) {
        if (n == "*") stream->delta_wildcard[url] = false;
        else if (names.erase(n) > 0) {
          have.erase(n);
          changed = true;
        }
      }
      type.names.assign(names.begin(), names.end());
      if (changed) stream->pending[url].merge(Pending{first, std::nullopt});  // a first request is always answered
    }
    if (failed || stream->reader_done) break;
    for (const auto& [url, pending] : takePending(*stream)) {
      TypeStatus& type = stream->status.types[url];
      bool wildcard = stream->delta_wildcard[url];
      // A scoped push (pending.only) re-evaluates just those names: only they can be removed.
      const std::vector<std::string>& asked = pending.only ? *pending.only : type.names;
      auto resources = source_->resources(stream->node, url, wildcard ? std::vector<std::string>{} : asked);
      if (!resources) continue;
      auto& have = stream->delta_versions[url];
      DeltaDiscoveryResponse response;
      response.set_type_url(url);
      response.set_system_version_info(resources->version);
      std::set<std::string> present;
      for (size_t i = 0; i < resources->resources.size(); ++i) {
        auto& any = resources->resources[i];
        std::string name = i < resources->names.size() ? resources->names[i] : resourceName(any);
        if (!wildcard && !std::binary_search(type.names.begin(), type.names.end(), name)) continue;
        present.insert(name);
        std::string version = contentVersion(any.value());
        auto it = have.find(name);
        if (it != have.end() && it->second == version) continue;
        auto* r = response.add_resources();
        r->set_name(name);
        r->set_version(version);
        *r->mutable_resource() = std::move(any);
        have[name] = version;
      }
      if (pending.only && !wildcard) {
        for (const auto& name : asked)
          if (present.count(name) == 0 && have.erase(name) > 0) response.add_removed_resources(name);
      } else {
        for (auto it = have.begin(); it != have.end();) {
          if (present.count(it->first) == 0) {
            response.add_removed_resources(it->first);
            it = have.erase(it);
          } else {
            ++it;
          }
        }
      }
      if (!pending.forced && response.resources_size() == 0 && response.removed_resources_size() == 0) continue;
      response.set_nonce(std::to_string(++stream->nonce));
      type.sent_version = resources->version;
      type.sent_nonce = response.nonce();
      counters_->responses++;
      if (hooks_->sent) hooks_->sent(stream->status, url, size_t(response.resources_size()));
      if (!co_await call.write(response.SerializeAsString())) {
        failed = true;
        break;
      }
    }
    throttle_->release(*stream);
    if (failed) break;
  }
  co_return co_await closeStream(call, std::move(stream), std::move(result), failed);
}

}  // namespace monomesh::net::xds
