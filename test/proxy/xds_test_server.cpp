// A small ADS control plane for the proxy's integration test (test/integration/proxy_ads_test.py):
// serves Envoy resources read from one YAML/JSON file over
// envoy.service.discovery.v3.AggregatedDiscoveryService on 127.0.0.1 (a free port, or --port):
//
//   version: "v1"          # optional: the version_info of every type; else a hash of each type's resources
//   clusters:  [Cluster...]
//   endpoints: [ClusterLoadAssignment...]
//   listeners: [Listener...]
//   routes:    [RouteConfiguration...]
//
// The file is re-read when it changes (polled every 100 ms) or on SIGHUP; a file that does not
// parse is reported on stderr and the previous resources stay. With --status FILE the streams'
// state (names, versions sent and ACKed, the last NACK's message) is written there as JSON
// whenever it changes. With --tls DIR it serves mutual TLS (as Pilot's 15011) with the
// certificate, key and roots of an Istio-layout folder (cert-chain.pem, key.pem, root-cert.pem).
// Prints the port; runs until stdin closes.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "config/yaml_proto_reader.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "net/grpc/grpc_server.h"
#include "net/tls_transport.h"
#include "net/xds/ads_server.h"
#include "proxy/config/resource_diff.h"

namespace asio = boost::asio;
using namespace monomesh;
namespace xds = net::xds;

namespace {

// Types an Any in the file may name: referenced here so that they are linked in and known.
void linkAnyTypes() {
  (void)envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::descriptor();
  (void)envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::descriptor();
  (void)envoy::extensions::filters::http::router::v3::Router::descriptor();
  (void)envoy::extensions::access_loggers::file::v3::FileAccessLog::descriptor();
  (void)envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext::descriptor();
  (void)envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext::descriptor();
  (void)envoy::extensions::upstreams::http::v3::HttpProtocolOptions::descriptor();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string jsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out += buffer;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

struct TypeSet {
  std::string version;
  std::vector<std::pair<std::string, google::protobuf::Any>> resources;  // name, resource
};

// Every type's resources as the file has them now.
class FileResources : public xds::ResourceSource {
 public:
  explicit FileResources(std::string path) : path_(std::move(path)) {}

  // Re-reads the file when its content changed; true when the resources were replaced.
  bool reload() {
    std::string text = readFile(path_);
    if (text == text_) return false;
    text_ = text;
    std::map<std::string, TypeSet> next;
    std::string error = parse(text, next);
    if (!error.empty()) {
      std::cerr << "xds_test_server: " << path_ << ": " << error << " (keeping the previous resources)" << std::endl;
      return false;
    }
    types_ = std::move(next);
    std::cerr << "xds_test_server: loaded " << path_ << std::endl;
    return true;
  }

  std::optional<xds::Resources> resources(const envoy::config::core::v3::Node&, std::string_view type_url,
                                          const std::vector<std::string>& names) override {
    auto it = types_.find(std::string(type_url));
    if (it == types_.end()) return xds::Resources{};  // known type, nothing in the file
    xds::Resources out;
    out.version = it->second.version;
    bool wildcard = xds::isWildcardType(type_url);
    for (const auto& [name, any] : it->second.resources)
      if (wildcard || std::find(names.begin(), names.end(), name) != names.end()) out.resources.push_back(any);
    return out;
  }

 private:
  template <class T>
  static std::string readList(const YAML::Node& root, const char* key, const std::string& version, TypeSet& out,
                              std::string (*nameOf)(const T&)) {
    std::string canonical;
    if (YAML::Node list = root[key]) {
      if (!list.IsSequence()) return std::string(key) + ": must be a list";
      for (size_t i = 0; i < list.size(); ++i) {
        T message;
        config::YamlProtoReader reader("xds file");
        if (!reader.read(list[i], message, std::string(key) + "[" + std::to_string(i) + "]")) {
          std::string errors;
          for (const auto& e : reader.errors()) errors += e.str() + "; ";
          return errors;
        }
        canonical += proxy::canonicalBytes(message);
        out.resources.emplace_back(nameOf(message), google::protobuf::Any());
        out.resources.back().second.PackFrom(message);
      }
    }
    out.version = version.empty() ? "h" + std::to_string(std::hash<std::string>{}(canonical) % 100000000) : version;
    return {};
  }

  static std::string parse(const std::string& text, std::map<std::string, TypeSet>& out) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return "invalid YAML: " + e.msg;
    }
    if (!root.IsMap()) return "the file must be a mapping";
    std::string version = root["version"] ? root["version"].as<std::string>() : "";
    using namespace envoy::config;
    std::string err = readList<cluster::v3::Cluster>(root, "clusters", version, out[std::string(xds::type_url::kCluster)],
                                                     [](const cluster::v3::Cluster& c) { return c.name(); });
    if (err.empty())
      err = readList<endpoint::v3::ClusterLoadAssignment>(
          root, "endpoints", version, out[std::string(xds::type_url::kEndpoint)],
          [](const endpoint::v3::ClusterLoadAssignment& c) { return c.cluster_name(); });
    if (err.empty())
      err = readList<listener::v3::Listener>(root, "listeners", version, out[std::string(xds::type_url::kListener)],
                                             [](const listener::v3::Listener& l) { return l.name(); });
    if (err.empty())
      err = readList<route::v3::RouteConfiguration>(root, "routes", version, out[std::string(xds::type_url::kRoute)],
                                                    [](const route::v3::RouteConfiguration& r) { return r.name(); });
    return err;
  }

  std::string path_;
  std::string text_;
  std::map<std::string, TypeSet> types_;
};

std::string statusJson(const xds::AdsServer& server) {
  std::string out = "{\"streams\": [";
  bool first = true;
  for (const auto& s : server.streams()) {
    out += first ? "" : ", ";
    first = false;
    out += "{\"node_id\": " + jsonString(s.node_id) + ", \"types\": {";
    bool first_type = true;
    for (const auto& [url, t] : s.types) {
      out += first_type ? "" : ", ";
      first_type = false;
      std::string names;
      for (const auto& n : t.names) names += (names.empty() ? "" : ", ") + jsonString(n);
      out += jsonString(url) + ": {\"names\": [" + names + "], \"sent_version\": " + jsonString(t.sent_version) +
             ", \"acked_version\": " + jsonString(t.acked_version) + ", \"last_nack\": " + jsonString(t.last_nack) + "}";
    }
    out += "}}";
  }
  const auto& c = server.counters();
  out += "], \"streams_opened\": " + std::to_string(c.streams) + ", \"acks\": " + std::to_string(c.acks) +
         ", \"nacks\": " + std::to_string(c.nacks) + "}\n";
  return out;
}

// Accepts connections and serves each over mutual TLS (a named coroutine: GCC 12 rule).
asio::awaitable<void> acceptTls(asio::ip::tcp::acceptor& acceptor, net::grpc::GrpcServer& grpc,
                                std::shared_ptr<const net::tls::TlsContext> context) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    auto done = co_await net::tlsAccept(std::move(socket), context, std::chrono::seconds(10));
    if (!done.transport) {
      std::cerr << "xds_test_server: TLS handshake failed: " << done.error << std::endl;
      continue;
    }
    grpc.serve(std::move(done.transport));
  }
}

}  // namespace

int main(int argc, char** argv) {
  linkAnyTypes();
  std::string file, status, tls_dir;
  unsigned port = 0;
  bool usable = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) port = unsigned(std::stoul(argv[++i]));
    else if (arg == "--status" && i + 1 < argc) status = argv[++i];
    else if (arg == "--tls" && i + 1 < argc) tls_dir = argv[++i];
    else if (file.empty() && !arg.starts_with("-")) file = arg;
    else usable = false;
  }
  if (file.empty() || !usable || port > 65535) {
    std::cerr << "usage: xds_test_server CONFIG_FILE [--port N] [--status FILE] [--tls CERT_DIR]\n";
    return 2;
  }
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), uint16_t(port)});
  net::grpc::GrpcServer grpc_server;
  auto source = std::make_shared<FileResources>(file);
  source->reload();
  xds::AdsServer ads(grpc_server, source);
  if (tls_dir.empty()) {
    asio::co_spawn(io, grpc_server.acceptLoop(acceptor), asio::detached);
  } else {
    net::tls::TlsSettings settings;
    settings.cert_chain_pem = readFile(tls_dir + "/cert-chain.pem");
    settings.private_key_pem = readFile(tls_dir + "/key.pem");
    settings.trusted_ca_pem = readFile(tls_dir + "/root-cert.pem");
    settings.require_client_certificate = true;
    settings.alpn = {"h2"};
    auto made = net::tls::makeServerContext(settings);
    if (!made.context) {
      std::cerr << "xds_test_server: " << tls_dir << ": " << made.error << "\n";
      return 2;
    }
    asio::co_spawn(io, acceptTls(acceptor, grpc_server, made.context), asio::detached);
  }
  std::cout << acceptor.local_endpoint().port() << std::endl;

  std::string last_status;
  asio::steady_timer poll(io);
  std::function<void()> tick = [&] {
    poll.expires_after(std::chrono::milliseconds(100));
    poll.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (source->reload()) ads.push();
      if (!status.empty()) {
        std::string now = statusJson(ads);
        if (now != last_status) {
          last_status = now;
          std::ofstream(status + ".tmp") << now;
          ::rename((status + ".tmp").c_str(), status.c_str());
        }
      }
      tick();
    });
  };
  tick();
  asio::signal_set hup(io, SIGHUP);
  std::function<void()> on_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (source->reload()) ads.push();
      on_hup();
    });
  };
  on_hup();
  asio::posix::stream_descriptor in(io, ::dup(0));
  char byte;
  in.async_read_some(asio::buffer(&byte, 1), [&](auto, auto) { io.stop(); });
  io.run();
  return 0;
}
