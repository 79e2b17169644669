#include "net/xds/ads_server.h"

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "net/xds/ads_stream.h"
#include "observe/log.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <iterator>
#include <deque>

namespace monomesh::net::xds {

namespace asio = boost::asio;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

void AdsServer::Pending::merge(const Pending& other) {
  forced |= other.forced;
  if (!only) return;  // already everything
  if (!other.only) {
    only.reset();
    return;
  }
  std::vector<std::string> both;
  std::set_union(only->begin(), only->end(), other.only->begin(), other.only->end(), std::back_inserter(both));
  *only = std::move(both);
}

std::vector<std::pair<std::string, AdsServer::Pending>> AdsServer::takePending(Stream& stream) {
  std::vector<std::pair<std::string, Pending>> order(std::make_move_iterator(stream.pending.begin()),
                                                     std::make_move_iterator(stream.pending.end()));
  stream.pending.clear();
  // A scoped push names what was subscribed then; keep what is still subscribed.
  for (auto& [url, p] : order) {
    if (!p.only) continue;
    const auto& names = stream.status.types[url].names;
    std::erase_if(*p.only, [&names](const std::string& n) { return !std::binary_search(names.begin(), names.end(), n); });
  }
  std::erase_if(order, [](const auto& e) { return e.second.only && e.second.only->empty() && !e.second.forced; });
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
      live_(std::make_shared<std::vector<std::weak_ptr<Stream>>>()),
      throttle_(std::make_shared<Throttle>()) {
  // ADS comes in both variants on one service: state of the world and incremental.
  if (method == kAdsMethod)
    grpc.addMethod(std::string(kDeltaAdsMethod), [this](grpc::ServerCall& call) { return serveDelta(call); });
  grpc.addMethod(std::move(method), [this](grpc::ServerCall& call) { return serve(call); });
}

AdsServer::~AdsServer() = default;

void AdsServer::Throttle::enqueue(const std::shared_ptr<Stream>& stream) {
  if (limit == 0 || stream->holds_turn) {
    stream->wake.notify();  // a stream answering now takes the new push in the same turn
    return;
  }
  if (stream->queued) return;
  stream->queued = true;
  waiting.push_back(stream);
}

void AdsServer::Throttle::admit() {
  while ((limit == 0 || active < limit) && !waiting.empty()) {
    auto stream = waiting.front().lock();
    waiting.pop_front();
    if (!stream) continue;
    stream->queued = false;
    stream->holds_turn = true;
    active++;
    stream->wake.notify();
  }
}

void AdsServer::Throttle::release(Stream& stream) {
  if (!stream.holds_turn) return;
  stream.holds_turn = false;
  active--;
  admit();
}

void AdsServer::setPushThrottle(size_t concurrent) {
  throttle_->limit = concurrent;
  throttle_->admit();
}

size_t AdsServer::pushTurnsInUse() const { return throttle_->active; }

void AdsServer::push() { push(PushScope{}); }

void AdsServer::push(const std::vector<std::string>& types) { push(PushScope{types, {}}); }

void AdsServer::push(const PushScope& scope) {
  std::erase_if(*live_, [](const auto& weak) { return weak.expired(); });
  for (auto& weak : *live_) {
    auto stream = weak.lock();
    if (!stream) continue;
    bool woken = false;
    for (const auto& [url, type] : stream->status.types) {
      if (!scope.types.empty() && std::find(scope.types.begin(), scope.types.end(), url) == scope.types.end()) continue;
      Pending p;
      bool whole = isWildcardType(url) || (stream->delta && stream->delta_wildcard[url]);
      if (scope.only && !whole) {
        p.only.emplace();
        for (const auto& name : type.names)
          if (scope.only(name)) p.only->push_back(name);  // type.names is sorted
        if (p.only->empty()) continue;
      }
      auto [it, fresh] = stream->pending.try_emplace(url, p);
      if (!fresh) it->second.merge(p);
      woken = true;
    }
    if (woken) throttle_->enqueue(stream);
  }
  throttle_->admit();
}

std::vector<StreamStatus> AdsServer::streams() const {
  std::vector<StreamStatus> out;
  for (const auto& weak : *live_) {
    if (auto stream = weak.lock()) out.push_back(stream->status);
  }
  return out;
}

std::vector<std::string> AdsServer::nodeIds() const {
  std::vector<std::string> out;
  for (const auto& weak : *live_)
    if (auto stream = weak.lock()) out.push_back(stream->status.node_id);
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
  throttle_->release(*stream);
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
        stream->pending[request.type_url()] = Pending{true, std::nullopt};
      }
    }
    if (failed || stream->reader_done) break;
    for (const auto& [url, pending] : takePending(*stream)) {
      TypeStatus& type = stream->status.types[url];
      auto resources = source_->resources(stream->node, url, pending.only ? *pending.only : type.names);
      if (!resources) continue;
      // A scoped push sends what it names (a subset: Envoy keeps the assignments not in it).
      if (!pending.forced && !pending.only && resources->version == type.sent_version) continue;
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
    throttle_->release(*stream);
    if (failed) break;
  }
  co_return co_await closeStream(call, std::move(stream), std::move(result), failed);
}

}  // namespace monomesh::net::xds
