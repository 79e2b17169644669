// The client half of aggregated discovery (state of the world), as Envoy runs it: one stream to
// the control plane carrying every subscribed type; each response is handed to the type's apply
// function and answered with an ACK (version accepted) or a NACK (error_detail, previous version
// kept). The stream is re-opened after any failure with backoff, re-subscribing with the versions
// already applied so the server can skip what the proxy has. Used by the proxy (ADS, SDS).
#pragma once

#include "net/grpc/grpc_client.h"
#include "net/xds/xds_types.h"

#include "envoy/config/core/v3/base.pb.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace monomesh::net::xds {

class AdsClient : public std::enable_shared_from_this<AdsClient> {
 public:
  // Applies one response; nullopt accepts it (ACK), an error message rejects it (NACK).
  using Apply = std::function<std::optional<std::string>(const std::string& version,
                                                         const std::vector<google::protobuf::Any>& resources)>;
  struct Options {
    std::chrono::milliseconds retry_initial{500};
    std::chrono::milliseconds retry_max{30000};
    // The stream's gRPC method: ADS, or one type's own service (SDS's StreamSecrets, ...).
    std::string method = std::string(kAdsMethod);
    // Told when a stream opens (true) and when it ends (false), e.g. for a connected-state gauge.
    std::function<void(bool connected)> on_connection;
  };
  struct TypeState {
    std::vector<std::string> names;
    std::string version;  // last accepted
    std::string nonce;    // of the last response seen on this stream
    std::string last_error;
    uint64_t accepted = 0;
    uint64_t rejected = 0;
    Apply apply;
  };

  static std::shared_ptr<AdsClient> create(std::shared_ptr<grpc::GrpcChannel> channel,
                                           envoy::config::core::v3::Node node, Options options);
  static std::shared_ptr<AdsClient> create(std::shared_ptr<grpc::GrpcChannel> channel,
                                           envoy::config::core::v3::Node node) {
    return create(std::move(channel), std::move(node), Options{});
  }

  // Adds a type, or changes the names it asks for (sent at once when connected).
  void subscribe(std::string type_url, std::vector<std::string> names, Apply apply);
  void start();
  void stop();

  bool connected() const noexcept { return call_ != nullptr; }
  uint64_t streamsOpened() const noexcept { return streams_; }
  const std::map<std::string, TypeState>& types() const noexcept { return types_; }

 private:
  AdsClient(std::shared_ptr<grpc::GrpcChannel> channel, envoy::config::core::v3::Node node, Options options);
  boost::asio::awaitable<void> run();
  static boost::asio::awaitable<void> runStream(std::shared_ptr<AdsClient> self);
  static boost::asio::awaitable<void> writeRequest(std::shared_ptr<grpc::ClientCall> call, std::string bytes);
  std::string request(const std::string& type_url, const std::string* error);
  void send(std::string bytes);

  std::shared_ptr<grpc::GrpcChannel> channel_;
  envoy::config::core::v3::Node node_;
  Options options_;
  std::map<std::string, TypeState> types_;
  std::shared_ptr<grpc::ClientCall> call_;
  bool node_sent_ = false;
  bool stopped_ = false;
  bool running_ = false;
  uint64_t streams_ = 0;
};

}  // namespace monomesh::net::xds
