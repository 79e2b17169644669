#include "config/mcp/mcp_config_source.h"

#include <algorithm>
#include <charconv>

#include "config/mcp/mcp_tls.h"
#include "config/validation/validation.h"
#include "net/grpc/grpc_client.h"
#include "net/xds/ads_client.h"
#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::config::mcp {

namespace {

struct SourceMetrics {
  observe::Family<observe::Counter>& responses = observe::MetricsRegistry::global().counter(
      "monomesh_config_mcp_responses_total", "MCP responses from Galley by result (applied, rejected)",
      {"source", "result"});
  observe::Family<observe::Gauge>& synced = observe::MetricsRegistry::global().gauge(
      "monomesh_config_mcp_synced", "1 once every kind has arrived from the config source", {"source"});
  observe::Family<observe::Gauge>& connected = observe::MetricsRegistry::global().gauge(
      "monomesh_config_mcp_connected", "1 while the stream to the config source is open", {"source"});
};
SourceMetrics& metrics() {
  static SourceMetrics m;
  return m;
}

struct Target {
  std::string host;
  uint16_t port = 0;
};

std::optional<Target> parseAddress(std::string text, std::string& error) {
  for (std::string_view scheme : {"mcp://", "tcp://"})
    if (text.starts_with(scheme)) text.erase(0, scheme.size());
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    error = "expected host:port";
    return std::nullopt;
  }
  Target t;
  t.host = text.substr(0, colon);
  if (t.host.size() >= 2 && t.host.front() == '[' && t.host.back() == ']') t.host = t.host.substr(1, t.host.size() - 2);
  std::string_view port(text.data() + colon + 1, text.size() - colon - 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    error = "port \"" + std::string(port) + "\" is not 1..65535";
    return std::nullopt;
  }
  t.port = uint16_t(value);
  return t;
}

}  // namespace

McpConfigSource::McpConfigSource(boost::asio::io_context& context, Store& store, std::string address,
                                 McpConfigSourceOptions options)
    : context_(context), store_(store), address_(std::move(address)), options_(std::move(options)) {
  for (const Schema* kind : options_.kinds) kinds_[kind].kind = kind;
}

McpConfigSource::~McpConfigSource() {
  stop();
  alive_.reset();
}

std::optional<std::string> McpConfigSource::start() {
  if (address_.starts_with("fs://") || address_.starts_with("k8s://"))
    return "config source \"" + address_ + "\": only Galley addresses (host:port) are supported; use --configDir for a folder";
  std::string error;
  auto target = parseAddress(address_, error);
  if (!target) return "config source \"" + address_ + "\": " + error;
  if (options_.kinds.empty()) return "config source \"" + address_ + "\": no kinds to subscribe to";
  auto tls = mcpTlsFrom(options_.tls, target->host, options_.istio_certs_dir, error);
  if (!error.empty()) return "config source \"" + address_ + "\": " + error;
  net::grpc::ChannelOptions channel;
  // The stream's own retry paces reconnects; the channel must not hold them back longer.
  channel.backoff_initial = options_.retry_initial;
  channel.backoff_max = options_.retry_max;
  if (tls) {
    // Checked now so that a wrong path is seen at start; not fatal, because the certificates may
    // be mounted after Pilot starts (each connection reads them again).
    if (auto made = makeMcpClientContext(*tls); !made.context)
      observe::logScope("mcp").warn("config source {}: {} not usable yet: {}", address_, tls->mode, made.error);
    auto shared = std::make_shared<const McpTls>(std::move(*tls));
    channel.secure = [shared, source = address_](boost::asio::ip::tcp::socket socket) {
      return secureMcpConnection(std::move(socket), shared, source);
    };
  }
  std::string mode = tls ? istio::networking::v1alpha3::TLSSettings::TLSmode_Name(options_.tls.mode()) : "plaintext";
  channel_ = net::grpc::GrpcChannel::create(context_.get_executor(), target->host, target->port, std::move(channel));
  envoy::config::core::v3::Node node;
  node.set_id(options_.node_id);
  node.set_cluster(options_.cluster_id);
  net::xds::AdsClient::Options ads;
  ads.retry_initial = options_.retry_initial;
  ads.retry_max = options_.retry_max;
  std::string source = address_;
  ads.on_connection = [source](bool up) {
    metrics().connected.with({source}).set(up ? 1 : 0);
    observe::logScope("mcp").info("config source {} {}", source, up ? "connected" : "disconnected");
  };
  client_ = net::xds::AdsClient::create(channel_, node, ads);
  // The client's stream may outlive this source by a few handlers; `alive` says whether it did.
  std::weak_ptr<bool> alive = alive_;
  for (const Schema* kind : options_.kinds) {
    client_->subscribe(subscriptionUrl(*kind, *options_.registry), {},
                       [this, kind, alive](const std::string& version, const std::vector<google::protobuf::Any>& resources)
                           -> std::optional<std::string> {
                         if (alive.expired()) return std::string("shutting down");
                         return apply(*kind, version, resources);
                       });
  }
  metrics().synced.with({address_}).set(0);
  client_->start();
  observe::logScope("mcp").info("following config source {} ({}, {} kinds)", address_, mode, options_.kinds.size());
  return std::nullopt;
}

void McpConfigSource::stop() {
  if (client_) client_->stop();
  if (channel_) channel_->close();
}

bool McpConfigSource::connected() const { return client_ && client_->connected(); }

bool McpConfigSource::ownsInStore(const ResourceKey& key) const {
  ResourcePtr current = store_.snapshot()->get(key);
  return current && current->cluster_id == options_.cluster_id;
}

std::optional<std::string> McpConfigSource::apply(const Schema& kind, const std::string& version,
                                                  const std::vector<google::protobuf::Any>& resources) {
  McpKindStatus& status = kinds_[&kind];
  status.kind = &kind;
  auto reject = [&](std::string why) -> std::optional<std::string> {
    rejected_++;
    status.last_error = why;
    metrics().responses.with({address_, "rejected"}).inc();
    observe::logScope("mcp").error("config source {}: {} version {} rejected, keeping the previous: {}", address_,
                                   kind.kind, version, why);
    return why;
  };
  std::vector<Change> changes;
  std::set<Name> keep;
  for (size_t i = 0; i < resources.size(); ++i) {
    std::string error;
    auto resource = unpack(resources[i], kind, error);
    if (!resource) return reject(kind.kind + " resource " + std::to_string(i) + ": " + error);
    resource->cluster_id = options_.cluster_id;
    resource->origin = SourcePosition{"mcp:" + address_, 0, 0};
    if (options_.validate && kind.validate) {
      auto result = validation::validateResource(*resource);
      if (!result.ok()) return reject(result.errors.front().str());
    }
    if (!keep.insert({resource->meta.namespace_, resource->meta.name}).second)
      return reject(kind.kind + " " + resourceName(*resource) + " appears twice");
    changes.push_back(Upsert{std::move(*resource)});
  }
  std::set<Name>& owned = owned_[&kind];
  for (const auto& [ns, name] : owned) {
    ResourceKey key{&kind, ns, name};
    if (!keep.count({ns, name}) && ownsInStore(key)) changes.push_back(Delete{key});
  }
  owned = std::move(keep);
  store_.apply(std::move(changes));
  applied_++;
  metrics().responses.with({address_, "applied"}).inc();
  status.received = true;
  status.version = version;
  status.last_error.clear();
  status.resources = resources.size();
  if (!synced_ && std::all_of(kinds_.begin(), kinds_.end(), [](const auto& k) { return k.second.received; })) {
    synced_ = true;
    metrics().synced.with({address_}).set(1);
    observe::logScope("mcp").info("config source {}: synced ({} kinds, store version {})", address_, kinds_.size(),
                                  store_.version());
    if (on_synced) on_synced();
  }
  return std::nullopt;
}

std::vector<McpKindStatus> McpConfigSource::status() const {
  std::vector<McpKindStatus> out;
  for (const auto& [kind, status] : kinds_) out.push_back(status);
  return out;
}

}  // namespace monomesh::config::mcp
