#include "net/xds/ads_server.h"

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "net/xds/ads_stream.h"
#include "observe/log.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <deque>

namespace monomesh::net::xds {

namespace asio = boost::asio;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

std::vector<std::pair<std::string, bool>> AdsServer::takePending(Stream& stream) {
  if (stream.push_requested) {
    stream.push_requested = false;
    for (const auto& [url, type] : stream.status.types)
      if (stream.push_types.empty() || std::find(stream.push_types.begin(), stream.push_types.end(), url) != stream.push_types.end())
        stream.pending.try_emplace(url, false);
    stream.push_types.clear();
  }
  std::vector<std::pair<std::string, bool>> order(stream.pending.begin(), stream.pending.end());
  stream.pending.clear();
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return pushRank(a.first) < pushRank(b.first); });
  return order;
}

int pushRank(std::string_view type_url) {
  if (type_url == type_url::kCluster) return 0;
  if (type_url == type_url::kEndpoint) return 1;
  if (type_url == type_url::kListener) return 2;
  if (type_url == type_url::kRoute) return 3;
  if (type_url == type_url::kSecret) return 4;
  return 5;
}

bool isWildcardType(std::string_view type_url) {
  return type_url == type_url::kCluster || type_url == type_url::kListener;
}

AdsServer::AdsServer(grpc::GrpcServer& grpc, std::shared_ptr<ResourceSource> source, std::string method)
    : source_(std::move(source)),
      counters_(std::make_shared<AdsCounters>()),
      live_(std::make_shared<std::vector<std::weak_ptr<Stream>>>()) {
  // ADS comes in both variants on one service: state of the world and incremental.
  if (method == kAdsMethod)
    grpc.addMethod(std::string(kDeltaAdsMethod), [this](grpc::ServerCall& call) { return serveDelta(call); });
  grpc.addMethod(std::move(method), [this](grpc::ServerCall& call) { return serve(call); });
}

AdsServer::~AdsServer() = default;

void AdsServer::push() { push({}); }

void AdsServer::push(const std::vector<std::string>& types) {
  std::erase_if(*live_, [](const auto& weak) { return weak.expired(); });
  for (auto& weak : *live_) {
    if (auto stream = weak.lock()) {
      // A full push pending absorbs a partial one; two partial ones add up.
      bool was_full = stream->push_requested && stream->push_types.empty();
      if (types.empty() || was_full) stream->push_types.clear();
      else if (stream->push_requested) stream->push_types.insert(stream->push_types.end(), types.begin(), types.end());
      else stream->push_types = types;
      stream->push_requested = true;
      stream->wake.notify();
    }
  }
}

std::vector<StreamStatus> AdsServer::streams() const {
  std::vector<StreamStatus> out;
  for (const auto& weak : *live_) {
    if (auto stream = weak.lock()) out.push_back(stream->status);
  }
  return out;
}

std::optional<grpc::Status> AdsServer::acceptNode(Stream& stream, const envoy::config::core::v3::Node& node) {
  if (node.id().empty()) return grpc::Status{grpc::StatusCode::invalid_argument, "the first request must carry node.id"};
  if (hooks_->accept_node)
    if (auto why = hooks_->accept_node(node); !why.empty()) return grpc::Status{grpc::StatusCode::invalid_argument, why};
  stream.node = node;
  stream.has_node = true;
  stream.status.node_id = node.id();
  return std::nullopt;
}

// A named coroutine, not a capturing lambda (GCC 12 may destroy co_spawned lambda captures twice).
asio::awaitable<void> AdsServer::readRequests(grpc::ServerCall& call, std::shared_ptr<Stream> stream) {
  for (;;) {
    auto message = co_await call.read();
    if (!message) break;
    stream->requests.push_back(std::move(*message));
    stream->wake.notify();
  }
  stream->reader_done = true;
  stream->wake.notify();
}

std::shared_ptr<AdsServer::Stream> AdsServer::openStream(grpc::ServerCall& call, const asio::any_io_executor& executor,
                                                         bool delta) {
  auto stream = std::make_shared<Stream>();
  stream->delta = delta;
  stream->status.peer = call.peer();
  live_->push_back(stream);
  counters_->streams++;
  // The reader only queues requests; the stream's handler does all the work and all the writing.
  asio::co_spawn(executor, readRequests(call, stream), asio::detached);
  return stream;
}

asio::awaitable<grpc::Status> AdsServer::closeStream(grpc::ServerCall& call, std::shared_ptr<Stream> stream,
                                                     grpc::Status result, bool failed) {
  if (failed) {
    if (result.ok()) result = {grpc::StatusCode::unavailable, "the stream ended while sending"};
    else counters_->rejected_streams++;
    // The status goes out now; the reset that follows an early answer wakes the reader.
    if (!stream->reader_done) call.finish(result);
  }
  // The reader refers to `call`: it must be done before the handler returns.
  while (!stream->reader_done) co_await stream->wake.wait();
  co_return result;
}

asio::awaitable<grpc::Status> AdsServer::serve(grpc::ServerCall& call) {
  auto executor = co_await asio::this_coro::executor;
  auto stream = openStream(call, executor, false);

  grpc::Status result;
  bool failed = false;
  for (;;) {
    co_await stream->wake.wait();
    while (!failed && !stream->requests.empty()) {
      DiscoveryRequest request;
      if (auto refused = nextRequest(*stream, request)) {
        result = *refused;
        failed = true;
        break;
      }
      TypeStatus& type = stream->status.types[request.type_url()];
      const std::string& nonce = request.response_nonce();
      std::vector<std::string> names(request.resource_names().begin(), request.resource_names().end());
      std::sort(names.begin(), names.end());
      if (!nonce.empty() && nonce != type.sent_nonce) {
        counters_->stale_nonces++;  // answers an older response: superseded, ignore
        continue;
      }
      if (!nonce.empty()) {
        if (request.has_error_detail() && request.error_detail().code() != 0) {
          counters_->nacks++;
          type.last_nack = request.error_detail().message();
          if (hooks_->answered) hooks_->answered(stream->status, request.type_url(), type.last_nack);
          observe::logScope("ads").warn("NACK from {} for {} version {}: {}", stream->status.node_id,
                                        request.type_url(), type.sent_version, type.last_nack);
        } else {
          counters_->acks++;
          type.acked_version = request.version_info();
          type.last_nack.clear();
          if (hooks_->answered) hooks_->answered(stream->status, request.type_url(), std::string());
        }
      }
      // A new subscription (no nonce: first request or a reconnect) or changed names: answer now.
      if (nonce.empty() || names != type.names) {
        type.names = std::move(names);
        stream->pending[request.type_url()] = true;
      }
    }
    if (failed || stream->reader_done) break;
    for (const auto& [url, forced] : takePending(*stream)) {
      TypeStatus& type = stream->status.types[url];
      auto resources = source_->resources(stream->node, url, type.names);
      if (!resources) continue;
      if (!forced && resources->version == type.sent_version) continue;
      DiscoveryResponse response;
      response.set_version_info(resources->version);
      response.set_type_url(url);
      response.set_nonce(std::to_string(++stream->nonce));
      for (auto& any : resources->resources) *response.add_resources() = std::move(any);
      type.sent_version = resources->version;
      type.sent_nonce = response.nonce();
      counters_->responses++;
      if (hooks_->sent) hooks_->sent(stream->status, url, size_t(response.resources_size()));
      if (!co_await call.write(response.SerializeAsString())) {
        failed = true;
        break;
      }
    }
    if (failed) break;
  }
  co_return co_await closeStream(call, std::move(stream), std::move(result), failed);
}

}  // namespace monomesh::net::xds
