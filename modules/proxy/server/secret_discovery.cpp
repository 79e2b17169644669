// ProxyServer's SDS client (declared in proxy_server.h): TLS contexts that name SDS secrets
// (Istio's "default" workload certificate and "ROOTCA") get them from the control plane over
// envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets. Listeners and clusters are compiled
// once every named secret has arrived (readiness waits on "secrets"); each later update recompiles
// them like a certificate file rotation, and a secret that does not work is NACKed.
#include <set>

#include "observe/log.h"
#include "proxy/config/config_source.h"
#include "proxy/config/tls_config.h"
#include "proxy/server/proxy_server.h"

namespace monomesh::proxy {

std::string ProxyServer::startSecretDiscovery() {
  std::vector<SdsReference> refs;
  auto collect = [&refs](const envoy::config::core::v3::TransportSocket& socket) {
    for (auto& r : sdsReferencesOf(socket)) refs.push_back(std::move(r));
  };
  for (const auto& l : bootstrap_.static_resources().listeners())
    for (const auto& fc : l.filter_chains())
      if (fc.has_transport_socket()) collect(fc.transport_socket());
  for (const auto& c : bootstrap_.static_resources().clusters())
    if (c.has_transport_socket()) collect(c.transport_socket());
  if (refs.empty()) return {};
  if (bootstrap_.node().id().empty())
    return "node.id is required to fetch SDS secrets (set it in the bootstrap or with --service-node)";
  if (!refs.front().source.has_api_config_source()) return "sds_config: only api_config_source (GRPC) is supported";
  GrpcTarget target;
  if (auto err = grpcTargetOf(refs.front().source.api_config_source(), bootstrap_, "sds_config.api_config_source", target);
      !err.empty())
    return err;
  std::set<std::string> names;
  for (const auto& r : refs) {
    if (r.source.SerializeAsString() != refs.front().source.SerializeAsString())
      return "secret \"" + r.name + "\": all SDS secrets must come from one sds_config";
    names.insert(r.name);
  }
  sds_names_.assign(names.begin(), names.end());
  readiness_.require("secrets");
  net::grpc::ChannelOptions channel;
  channel.unix_path = target.unix_path;  // Istio's node agent: unix:/var/run/sds/uds_path
  sds_channel_ = net::grpc::GrpcChannel::create(runtime_->main().get_executor(), target.host, target.port, channel);
  net::xds::AdsClient::Options options;
  options.method = std::string(net::xds::kSdsMethod);
  sds_client_ = net::xds::AdsClient::create(sds_channel_, bootstrap_.node(), options);
  sds_client_->subscribe(std::string(net::xds::type_url::kSecret), sds_names_,
                         [this](const std::string& version, const std::vector<google::protobuf::Any>& resources) {
                           return onSecrets(version, resources);
                         });
  sds_client_->start();
  observe::logScope("proxy").info("waiting for {} SDS secret(s) from {}", sds_names_.size(), target.text());
  return {};
}

std::optional<std::string> ProxyServer::onSecrets(const std::string& version,
                                                  const std::vector<google::protobuf::Any>& resources) {
  SecretStore next = secrets_;
  for (const auto& any : resources) {
    envoy::extensions::transport_sockets::tls::v3::Secret secret;
    if (!any.UnpackTo(&secret)) return "a resource is not an envoy.extensions.transport_sockets.tls.v3.Secret";
    if (secret.name().empty()) return "a secret without a name";
    next[secret.name()] = std::move(secret);
  }
  for (const auto& name : sds_names_)
    if (!next.count(name)) {
      secrets_ = std::move(next);  // keep what came; the rest may follow
      return std::nullopt;
    }
  SecretStore previous = std::move(secrets_);
  secrets_ = std::move(next);
  std::string error = configured_ ? recompileTls() : completeStartup();
  if (!error.empty()) {
    secrets_ = std::move(previous);  // the last good secrets stay
    observe::logScope("proxy").warn("SDS secrets version {} rejected: {}", version, error);
    return error;
  }
  if (!configured_) {
    configured_ = true;
    readiness_.markMet("secrets");
  }
  observe::logScope("proxy").info("SDS secrets version {} applied", version);
  return std::nullopt;
}

}  // namespace monomesh::proxy
