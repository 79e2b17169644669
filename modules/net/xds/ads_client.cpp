#include "net/xds/ads_client.h"

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "observe/log.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>

namespace monomesh::net::xds {

namespace asio = boost::asio;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

std::shared_ptr<AdsClient> AdsClient::create(std::shared_ptr<grpc::GrpcChannel> channel,
                                             envoy::config::core::v3::Node node, Options options) {
  return std::shared_ptr<AdsClient>(new AdsClient(std::move(channel), std::move(node), options));
}

AdsClient::AdsClient(std::shared_ptr<grpc::GrpcChannel> channel, envoy::config::core::v3::Node node, Options options)
    : channel_(std::move(channel)), node_(std::move(node)), options_(options) {}

std::string AdsClient::request(const std::string& type_url, const std::string* error) {
  const TypeState& type = types_.at(type_url);
  DiscoveryRequest request;
  if (!node_sent_) {
    *request.mutable_node() = node_;  // only the first request of a stream carries the node
    node_sent_ = true;
  }
  request.set_type_url(type_url);
  request.set_version_info(type.version);
  request.set_response_nonce(type.nonce);
  for (const auto& name : type.names) request.add_resource_names(name);
  if (error) {
    request.mutable_error_detail()->set_code(static_cast<int>(grpc::StatusCode::invalid_argument));
    request.mutable_error_detail()->set_message(*error);
  }
  return request.SerializeAsString();
}

// Named coroutines, not capturing lambdas (GCC 12 may destroy co_spawned lambda captures twice).
asio::awaitable<void> AdsClient::writeRequest(std::shared_ptr<grpc::ClientCall> call, std::string bytes) {
  co_await call->write(bytes);
}

asio::awaitable<void> AdsClient::runStream(std::shared_ptr<AdsClient> self) { co_await self->run(); }

void AdsClient::send(std::string bytes) {
  // Requests are small; ClientCall::write queues them in order even while one is in flight.
  asio::co_spawn(channel_->executor(), writeRequest(call_, std::move(bytes)), asio::detached);
}

void AdsClient::subscribe(std::string type_url, std::vector<std::string> names, Apply apply) {
  std::sort(names.begin(), names.end());
  TypeState& type = types_[type_url];
  bool changed = type.names != names || !type.apply;
  type.names = std::move(names);
  type.apply = std::move(apply);
  if (call_ && changed) send(request(type_url, nullptr));
}

void AdsClient::start() {
  if (running_) return;
  running_ = true;
  stopped_ = false;
  asio::co_spawn(channel_->executor(), runStream(shared_from_this()), asio::detached);
}

void AdsClient::stop() {
  stopped_ = true;
  if (call_) call_->cancel();
}

asio::awaitable<void> AdsClient::run() {
  auto backoff = options_.retry_initial;
  while (!stopped_) {
    auto call = co_await channel_->startCall(options_.method, {}, std::nullopt, /*wait_for_ready=*/true);
    bool received = false;
    if (!stopped_) {
      call_ = call;
      streams_++;
      node_sent_ = false;
      if (options_.on_connection) options_.on_connection(true);
      for (auto& [url, type] : types_) {
        type.nonce.clear();  // nonces belong to one stream
        send(request(url, nullptr));
      }
      for (;;) {
        auto message = co_await call->read();
        if (!message) break;
        DiscoveryResponse response;
        if (!response.ParseFromString(*message)) {
          observe::logScope("xds").warn("unparsable DiscoveryResponse; reconnecting");
          call->cancel();
          break;
        }
        received = true;
        auto it = types_.find(response.type_url());
        if (it == types_.end() || !it->second.apply) continue;  // not subscribed: nothing to ACK
        TypeState& type = it->second;
        type.nonce = response.nonce();
        std::vector<google::protobuf::Any> resources(response.resources().begin(), response.resources().end());
        auto error = type.apply(response.version_info(), resources);
        if (error) {
          type.rejected++;
          type.last_error = *error;
          observe::logScope("xds").warn("rejected {} version {}: {}", response.type_url(), response.version_info(), *error);
        } else {
          type.accepted++;
          type.version = response.version_info();
          type.last_error.clear();
        }
        send(request(response.type_url(), error ? &*error : nullptr));
      }
    }
    grpc::Status status = co_await call->finish();
    bool was_open = call_ != nullptr;
    call_.reset();
    if (was_open && options_.on_connection) options_.on_connection(false);
    if (stopped_) break;
    observe::logScope("xds").info("ADS stream closed ({}: {}); retrying in {} ms", grpc::statusName(status.code),
                                  status.message, backoff.count());
    if (received) backoff = options_.retry_initial;
    asio::steady_timer wait(channel_->executor(), backoff);
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    backoff = std::min(options_.retry_max, backoff * 2);
  }
  running_ = false;
}

}  // namespace monomesh::net::xds
