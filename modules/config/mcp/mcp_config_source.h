// Feeds a config Store from Galley over MCP-over-xDS (Pilot's --configSource, mesh config
// configSources): one ADS stream subscribing to every distributed kind. Each response is the
// whole of its kind: it is applied as ONE store transaction replacing what this source holds of
// that kind (deletions included) and ACKed. A response with a resource that does not unpack or
// fails Istio 1.1's validation is NACKed with the reason and nothing of it is applied (the last
// good content stays). The stream reconnects with backoff; synced() turns true once every kind
// has arrived.
//
// The connection is plaintext or TLS per the source's tlsSettings (mcp_tls.h).
//
// Runs on one io_context thread. Call stop() and let the context run out before destroying it.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/mcp/mcp_resource.h"
#include "config/store.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"

namespace monomesh::net::grpc {
class GrpcChannel;
}
namespace monomesh::net::xds {
class AdsClient;
}

namespace monomesh::config::mcp {

struct McpConfigSourceOptions {
  std::string cluster_id = "Kubernetes";  // stamped on every resource, as other sources do
  std::vector<const Schema*> kinds = distributedKinds();
  const SchemaRegistry* registry = &SchemaRegistry::builtin();
  bool validate = true;         // Istio 1.1's semantic validation before anything is applied
  std::string node_id = "pilot";  // the xDS node the server sees
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{30000};
  // Mesh config configSources[].tlsSettings; DISABLE (the default) is plaintext.
  istio::networking::v1alpha3::TLSSettings tls;
  std::string istio_certs_dir = "/etc/certs";  // what ISTIO_MUTUAL reads
};

struct McpKindStatus {
  const Schema* kind = nullptr;
  bool received = false;
  std::string version;     // last applied
  std::string last_error;  // of the last NACK; empty after an ACK
  size_t resources = 0;    // held now
};

class McpConfigSource {
 public:
  McpConfigSource(boost::asio::io_context& context, Store& store, std::string address, McpConfigSourceOptions options);
  ~McpConfigSource();
  McpConfigSource(const McpConfigSource&) = delete;

  // Checks the address ("host:port", optionally "mcp://" or "tcp://" first) and starts the
  // stream; an unusable address is the error, as one line.
  std::optional<std::string> start();
  void stop();

  bool synced() const { return synced_; }
  // Called once, on the context's thread, when every kind has arrived.
  std::function<void()> on_synced;

  const std::string& address() const { return address_; }
  bool connected() const;
  std::vector<McpKindStatus> status() const;
  uint64_t applied() const { return applied_; }
  uint64_t rejected() const { return rejected_; }

  // Applies one response of `kind` (what the stream does; public for tests): nullopt when it was
  // applied, else the NACK reason.
  std::optional<std::string> apply(const Schema& kind, const std::string& version,
                                   const std::vector<google::protobuf::Any>& resources);

 private:
  using Name = std::pair<std::string, std::string>;  // namespace, name
  bool ownsInStore(const ResourceKey& key) const;

  boost::asio::io_context& context_;
  Store& store_;
  std::string address_;
  McpConfigSourceOptions options_;
  std::shared_ptr<net::grpc::GrpcChannel> channel_;
  std::shared_ptr<net::xds::AdsClient> client_;
  std::map<const Schema*, std::set<Name>> owned_;
  std::map<const Schema*, McpKindStatus> kinds_;
  uint64_t applied_ = 0;
  uint64_t rejected_ = 0;
  bool synced_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace monomesh::config::mcp
