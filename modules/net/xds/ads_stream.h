// The per-stream state both halves of the ADS server keep (state of the world in
// ads_server.cpp, incremental in ads_delta.cpp), and the push order they share.
#pragma once
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/async_event.h"
#include "net/xds/ads_server.h"

namespace monomesh::net::xds {

// A type to answer: `forced` even if its version is unchanged (a new subscription); `only` some
// of its subscribed names (a scoped push), else all of them.
struct AdsServer::Pending {
  bool forced = false;
  std::optional<std::vector<std::string>> only;  // sorted
  // Another reason to answer the same type: the union of what both ask for.
  void merge(const Pending& other);
};

struct AdsServer::Stream {
  bool delta = false;
  // Delta streams: per type, the version of each resource the proxy has (by name), and whether
  // it subscribed to everything.
  std::map<std::string, std::map<std::string, std::string>> delta_versions;
  std::map<std::string, bool> delta_wildcard;
  StreamStatus status;
  envoy::config::core::v3::Node node;
  bool has_node = false;
  std::map<std::string, Pending> pending;  // types to answer now, by type URL
  std::deque<std::string> requests;       // raw messages from the reader
  bool reader_done = false;
  uint64_t nonce = 0;
  AsyncEvent wake;
  bool queued = false;      // waiting for a push turn
  bool holds_turn = false;  // answering a push now
};

// Pushes take turns: a push to thousands of proxies then holds at most `limit` serialized
// responses in flight instead of one per proxy. A stream keeps its turn until its answers are
// written.
struct AdsServer::Throttle {
  size_t limit = 0;  // 0: no turns, every stream at once
  size_t active = 0;
  std::deque<std::weak_ptr<Stream>> waiting;
  // A stream with a push to answer: woken now, or queued for a turn.
  void enqueue(const std::shared_ptr<Stream>& stream);
  // Gives turns while there are free ones.
  void admit();
  // The stream has answered (or ended): its turn goes to the next one.
  void release(Stream& stream);
};

template <class Request>
std::optional<grpc::Status> AdsServer::nextRequest(Stream& stream, Request& request) {
  bool parsed = request.ParseFromString(stream.requests.front());
  stream.requests.pop_front();
  const std::string& name = Request::descriptor()->name();
  if (!parsed) return grpc::Status{grpc::StatusCode::invalid_argument, "unparsable " + name};
  if (request.type_url().empty()) return grpc::Status{grpc::StatusCode::invalid_argument, name + " without type_url"};
  if (!stream.has_node) return acceptNode(stream, request.node());
  return std::nullopt;
}

// Push order: clusters before their endpoints, listeners before their routes (Envoy's
// make-before-break rule for ADS). Unknown types go last.
int pushRank(std::string_view type_url);

}  // namespace monomesh::net::xds
