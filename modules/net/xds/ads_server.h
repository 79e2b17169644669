// The server half of Envoy's aggregated discovery service, state of the world (here) and
// incremental (DeltaAggregatedResources, ads_delta.cpp): one gRPC
// bidirectional stream per proxy carrying every type. It tracks, per stream and type, the names
// subscribed, the version and nonce sent, the version ACKed and the last NACK; answers new
// subscriptions and changed names at once; ignores stale nonces; and on push() re-asks the
// ResourceSource and sends only what changed, CDS before EDS before LDS before RDS so a proxy
// never routes to a cluster it does not know yet.
#pragma once

#include "net/grpc/grpc_server.h"
#include "net/xds/xds_types.h"

#include "envoy/config/core/v3/base.pb.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace monomesh::net::xds {

// What the server serves: resources of a type for a node and the names it asked for (empty for a
// wildcard subscription). nullopt: this server does not serve the type (the request is answered
// with nothing and remembered, so a later push can still serve it).
class ResourceSource {
 public:
  virtual ~ResourceSource() = default;
  virtual std::optional<Resources> resources(const envoy::config::core::v3::Node& node, std::string_view type_url,
                                             const std::vector<std::string>& names) = 0;
};

// A stream's state for one type, for debug endpoints and proxy-status.
struct TypeStatus {
  std::vector<std::string> names;
  std::string sent_version;
  std::string sent_nonce;
  std::string acked_version;
  std::string last_nack;  // error_detail.message of the last NACK; empty after an ACK
};

struct StreamStatus {
  std::string node_id;
  std::string peer;
  std::map<std::string, TypeStatus> types;  // by type URL
};

struct AdsCounters {
  uint64_t streams = 0;
  uint64_t responses = 0;
  uint64_t acks = 0;
  uint64_t nacks = 0;
  uint64_t stale_nonces = 0;
  uint64_t rejected_streams = 0;  // no node, unparsable request
};

// Observers of a server's exchanges (metrics, convergence times); each may be empty.
struct AdsHooks {
  std::function<void(const StreamStatus&, const std::string& type_url, size_t resources)> sent;
  // An ACK (error empty) or NACK of what was sent last for that type.
  std::function<void(const StreamStatus&, const std::string& type_url, const std::string& error)> answered;
  // Checks the node of a new stream: an error refuses the stream (INVALID_ARGUMENT, that text).
  std::function<std::string(const envoy::config::core::v3::Node&)> accept_node;
};

// What a push re-evaluates: some types (empty: every type) and, optionally, only some of the
// resources proxies subscribed to by name (EDS for the services whose endpoints changed).
struct PushScope {
  std::vector<std::string> types;
  // Set: a named subscription is re-sent only for the names it accepts, and a stream subscribed
  // to none of them is left alone. Wildcard subscriptions (CDS, LDS) are always re-evaluated whole.
  std::function<bool(std::string_view name)> only;
};

class AdsServer {
 public:
  // Serves `method`: ADS by default, or one type's own service (e.g. SDS's StreamSecrets).
  AdsServer(grpc::GrpcServer& grpc, std::shared_ptr<ResourceSource> source, std::string method = std::string(kAdsMethod));
  ~AdsServer();

  // Re-evaluates every stream's subscriptions; sends the types whose version changed. With
  // `types`, only those are re-evaluated (an endpoint-only push asks for EDS alone).
  void push();
  void push(const std::vector<std::string>& types);
  void push(const PushScope& scope);
  void setHooks(AdsHooks hooks) { *hooks_ = std::move(hooks); }
  // At most this many streams answer a push at once (Istio's PILOT_PUSH_THROTTLE); the others
  // wait their turn. 0: no limit. Answers to a proxy's own requests never wait.
  void setPushThrottle(size_t concurrent);
  // Streams answering a push in their turn now (at most the throttle).
  size_t pushTurnsInUse() const;
  std::vector<StreamStatus> streams() const;
  // The node IDs of the open streams (cheaper than streams() when that is all one needs).
  std::vector<std::string> nodeIds() const;
  const AdsCounters& counters() const noexcept { return *counters_; }

 private:
  struct Stream;
  struct Pending;
  struct Throttle;
  // The types to answer now, in push order (requests and pushes since the last round).
  static std::vector<std::pair<std::string, Pending>> takePending(Stream& stream);
  boost::asio::awaitable<grpc::Status> serve(grpc::ServerCall& call);
  boost::asio::awaitable<grpc::Status> serveDelta(grpc::ServerCall& call);  // ads_delta.cpp
  // The first request's node: accepted (stored on the stream) or the status refusing the stream.
  std::optional<grpc::Status> acceptNode(Stream& stream, const envoy::config::core::v3::Node& node);
  static boost::asio::awaitable<void> readRequests(grpc::ServerCall& call, std::shared_ptr<Stream> stream);
  // What both protocols do around their own loop: open a stream (registered, its reader
  // started), take the next queued request (parsed, its type URL present, the first one's node
  // accepted; otherwise the status ending the stream), and end it (the status sent when it
  // failed; the reader finished before the handler returns).
  std::shared_ptr<Stream> openStream(grpc::ServerCall& call, const boost::asio::any_io_executor& executor, bool delta);
  template <class Request>
  std::optional<grpc::Status> nextRequest(Stream& stream, Request& request);  // ads_stream.h
  boost::asio::awaitable<grpc::Status> closeStream(grpc::ServerCall& call, std::shared_ptr<Stream> stream,
                                                   grpc::Status result, bool failed);
  std::shared_ptr<ResourceSource> source_;
  std::shared_ptr<AdsCounters> counters_;
  std::shared_ptr<AdsHooks> hooks_ = std::make_shared<AdsHooks>();
  std::shared_ptr<std::vector<std::weak_ptr<Stream>>> live_;
  std::shared_ptr<Throttle> throttle_;
};

}  // namespace monomesh::net::xds
