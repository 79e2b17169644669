// A load generator for Pilot's ADS (bench/pilot_bench.py): N simulated sidecars on one
// io_context, each with its own TCP connection (net::grpc::GrpcChannel) and ADS stream
// (net::xds::AdsClient), subscribing the way Envoy does: CDS, then EDS for the EDS clusters it got,
// LDS, then RDS for the route names its listeners reference; every response is ACKed.
//
// Usage: ads_load_client --target 127.0.0.1:15010 --nodes FILE [--count N] [--batch 200]
//                        [--batch-interval-ms 100] [--max-seconds 3600]
// FILE holds one Istio node ID per line ("sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local").
// Runs until stdin closes, SIGINT/SIGTERM, or --max-seconds. Writes one JSON object per line to
// stdout (times are CLOCK_REALTIME milliseconds):
//   {"event":"synced","clients":N,"t_ms":...,"elapsed_ms":...}      every client has ACKed CDS, EDS
//                                                                   (its clusters), LDS, RDS (its routes)
//   {"event":"generation","type":"rds","gen":G,"t_ms":...,"first_ms":...}
//       every client has received and ACKed its G-th update of that type since it synced; t_ms is
//       the last of those ACKs, first_ms the first
//   {"event":"stats",...}                                            once, at exit
// Progress goes to stderr every 2 s until synced. An ACK's time is taken when the client accepts
// the response and queues the ACK (the write follows on the same io_context).
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "net/grpc/grpc_client.h"
#include "net/xds/ads_client.h"
#include "observe/log.h"

#include <boost/asio.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace xds = monomesh::net::xds;
namespace grpc = monomesh::net::grpc;
using Resources = std::vector<google::protobuf::Any>;

namespace {

enum Type { kCds, kEds, kLds, kRds, kTypes };
const char* const kTypeNames[kTypes] = {"cds", "eds", "lds", "rds"};

int64_t wallMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

double wallMsFine() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return double(ts.tv_sec) * 1000.0 + double(ts.tv_nsec) / 1e6;
}

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 15010;
  std::string nodes_file;
  size_t count = 0;  // 0: every node in the file
  size_t batch = 200;
  int batch_interval_ms = 100;
  int max_seconds = 3600;
};

// What every simulated sidecar reports to; one per process.
struct Tally {
  size_t clients = 0;
  size_t synced = 0;
  double started_ms = 0;
  // Per type: how many clients have had at least G updates, and the first ACK of generation G.
  std::array<std::vector<size_t>, kTypes> reached;
  std::array<std::vector<double>, kTypes> first;
  std::array<uint64_t, kTypes> responses{};
  uint64_t decode_errors = 0;

  void update(Type t, uint64_t generation, double now) {
    auto& r = reached[t];
    if (r.size() <= generation) {
      r.resize(generation + 1, 0);
      first[t].resize(generation + 1, 0);
    }
    if (r[generation]++ == 0) first[t][generation] = now;
    if (r[generation] == clients)
      std::printf("{\"event\":\"generation\",\"type\":\"%s\",\"gen\":%llu,\"t_ms\":%.3f,\"first_ms\":%.3f}\n",
                  kTypeNames[t], static_cast<unsigned long long>(generation), now, first[t][generation]);
  }
  void clientSynced(double now) {
    if (++synced == clients)
      std::printf("{\"event\":\"synced\",\"clients\":%zu,\"t_ms\":%.3f,\"elapsed_ms\":%.1f}\n", clients, now,
                  now - started_ms);
  }
};

// The cluster names a CDS response wants endpoints for (EDS clusters), sorted.
std::vector<std::string> edsClusters(const Resources& resources, Tally& tally) {
  std::vector<std::string> names;
  envoy::config::cluster::v3::Cluster c;
  for (const auto& any : resources) {
    if (!any.UnpackTo(&c)) {
      tally.decode_errors++;
      continue;
    }
    if (c.type() == envoy::config::cluster::v3::Cluster::EDS)
      names.push_back(c.eds_cluster_config().service_name().empty() ? c.name() : c.eds_cluster_config().service_name());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The route configuration names an LDS response's HTTP connection managers ask RDS for, sorted.
std::vector<std::string> routeNames(const Resources& resources, Tally& tally) {
  std::set<std::string> names;
  envoy::config::listener::v3::Listener l;
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  for (const auto& any : resources) {
    if (!any.UnpackTo(&l)) {
      tally.decode_errors++;
      continue;
    }
    for (const auto& chain : l.filter_chains())
      for (const auto& f : chain.filters())
        if (f.typed_config().Is<decltype(hcm)>() && f.typed_config().UnpackTo(&hcm) && hcm.has_rds())
          names.insert(hcm.rds().route_config_name());
  }
  return {names.begin(), names.end()};
}

// One simulated sidecar: Envoy's subscription order, every response ACKed.
class Sidecar {
 public:
  Sidecar(asio::io_context& io, const Options& options, const std::string& node_id, Tally& tally) : tally_(tally) {
    grpc::ChannelOptions channel;
    channel.max_message_size = 512u << 20;  // CDS for 10,000 services is tens of MB
    channel.h2.initial_stream_window_size = 4u << 20;
    channel.h2.initial_connection_window_size = 8u << 20;
    channel.backoff_initial = std::chrono::milliseconds(500);
    channel.backoff_max = std::chrono::seconds(5);
    channel_ = grpc::GrpcChannel::create(io.get_executor(), options.host, options.port, channel);
    envoy::config::core::v3::Node node;
    node.set_id(node_id);
    node.set_cluster(node_id.substr(node_id.find('~', node_id.find('~') + 1) + 1));
    (*node.mutable_metadata()->mutable_fields())["ISTIO_PROXY_VERSION"].set_string_value("1.1.0");
    xds::AdsClient::Options ads;
    ads.retry_max = std::chrono::seconds(5);
    ads_ = xds::AdsClient::create(channel_, std::move(node), ads);
  }

  void start() {
    ads_->subscribe(std::string(xds::type_url::kCluster), {},
                    [this](const std::string&, const Resources& r) { return onClusters(r); });
    ads_->start();
  }
  void stop() {
    ads_->stop();
    channel_->close();
  }
  uint64_t streams() const { return ads_->streamsOpened(); }
  uint64_t rejected() const {
    uint64_t n = 0;
    for (const auto& [url, type] : ads_->types()) n += type.rejected;
    return n;
  }

 private:
  using Result = std::optional<std::string>;

  Result onClusters(const Resources& resources) {
    auto names = edsClusters(resources, tally_);
    if (!eds_subscribed_ || names != eds_names_) {
      eds_subscribed_ = true;
      eds_names_ = std::move(names);
      ads_->subscribe(std::string(xds::type_url::kEndpoint), eds_names_,
                      [this](const std::string&, const Resources&) { return onEndpoints(); });
    }
    return received(kCds);
  }
  Result onEndpoints() {
    // Clusters are warm: now listeners (Envoy asks for LDS once CDS has initialised).
    if (!lds_subscribed_) {
      lds_subscribed_ = true;
      ads_->subscribe(std::string(xds::type_url::kListener), {},
                      [this](const std::string&, const Resources& r) { return onListeners(r); });
    }
    return received(kEds);
  }
  Result onListeners(const Resources& resources) {
    auto names = routeNames(resources, tally_);
    if (!rds_subscribed_ || names != route_names_) {
      rds_subscribed_ = true;
      route_names_ = std::move(names);
      ads_->subscribe(std::string(xds::type_url::kRoute), route_names_,
                      [this](const std::string&, const Resources&) { return received(kRds); });
    }
    return received(kLds);
  }

  Result received(Type t) {
    double now = wallMsFine();
    tally_.responses[t]++;
    if (synced_) {
      tally_.update(t, ++updates_[t], now);
      return std::nullopt;
    }
    seen_[t] = true;
    if (seen_[kCds] && seen_[kEds] && seen_[kLds] && seen_[kRds]) {
      synced_ = true;
      tally_.clientSynced(now);
    }
    return std::nullopt;
  }

  Tally& tally_;
  std::shared_ptr<grpc::GrpcChannel> channel_;
  std::shared_ptr<xds::AdsClient> ads_;
  std::vector<std::string> eds_names_, route_names_;
  bool eds_subscribed_ = false, lds_subscribed_ = false, rds_subscribed_ = false;
  bool synced_ = false;
  std::array<bool, kTypes> seen_{};
  std::array<uint64_t, kTypes> updates_{};
};

void raiseFdLimit(size_t clients) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t want = std::min<rlim_t>(limit.rlim_max, rlim_t(clients) + 256);
  if (limit.rlim_cur < want) {
    limit.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < clients + 64)
    std::fprintf(stderr, "ads_load_client: fd limit %llu is too low for %zu clients\n",
                 static_cast<unsigned long long>(limit.rlim_cur), clients);
}

bool parseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    if (arg == "--target") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos) return false;
      o.host = value.substr(0, colon);
      o.port = static_cast<uint16_t>(std::stoi(value.substr(colon + 1)));
    } else if (arg == "--nodes") {
      o.nodes_file = value;
    } else if (arg == "--count") {
      o.count = std::stoul(value);
    } else if (arg == "--batch") {
      o.batch = std::max<size_t>(1, std::stoul(value));
    } else if (arg == "--batch-interval-ms") {
      o.batch_interval_ms = std::stoi(value);
    } else if (arg == "--max-seconds") {
      o.max_seconds = std::stoi(value);
    } else {
      return false;
    }
  }
  return !o.nodes_file.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parseArgs(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: ads_load_client --target HOST:PORT --nodes FILE [--count N] [--batch N] "
                 "[--batch-interval-ms MS] [--max-seconds S]\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  monomesh::observe::LogOptions log;
  log.output_level = "default:warn";
  log.target = "stderr";
  monomesh::observe::configureLogging(log);

  std::vector<std::string> nodes;
  std::ifstream in(options.nodes_file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) nodes.push_back(line);
  if (options.count > 0 && options.count < nodes.size()) nodes.resize(options.count);
  if (nodes.empty()) {
    std::fprintf(stderr, "ads_load_client: no node IDs in %s\n", options.nodes_file.c_str());
    return 2;
  }
  raiseFdLimit(nodes.size());

  asio::io_context io{1};
  Tally tally;
  tally.clients = nodes.size();
  tally.started_ms = wallMsFine();
  std::vector<std::unique_ptr<Sidecar>> sidecars;
  sidecars.reserve(nodes.size());
  for (const auto& id : nodes) sidecars.push_back(std::make_unique<Sidecar>(io, options, id, tally));

  // Start in batches so the initial connects do not overflow the listen backlog.
  asio::steady_timer ramp(io);
  size_t next = 0;
  std::function<void()> startBatch = [&] {
    for (size_t end = std::min(next + options.batch, sidecars.size()); next < end; ++next) sidecars[next]->start();
    if (next < sidecars.size()) {
      ramp.expires_after(std::chrono::milliseconds(options.batch_interval_ms));
      ramp.async_wait([&](boost::system::error_code ec) {
        if (!ec) startBatch();
      });
    }
  };
  startBatch();

  asio::steady_timer progress(io);
  std::function<void()> report = [&] {
    if (tally.synced == tally.clients) return;
    std::fprintf(stderr, "ads_load_client: %zu/%zu synced; responses cds %llu eds %llu lds %llu rds %llu\n",
                 tally.synced, tally.clients, static_cast<unsigned long long>(tally.responses[kCds]),
                 static_cast<unsigned long long>(tally.responses[kEds]),
                 static_cast<unsigned long long>(tally.responses[kLds]),
                 static_cast<unsigned long long>(tally.responses[kRds]));
    progress.expires_after(std::chrono::seconds(2));
    progress.async_wait([&](boost::system::error_code ec) {
      if (!ec) report();
    });
  };
  progress.expires_after(std::chrono::seconds(2));
  progress.async_wait([&](boost::system::error_code ec) {
    if (!ec) report();
  });

  // The end: stdin closed (the bench is done or died), a signal, or the time limit.
  auto shutdown = [&] {
    ramp.cancel();
    progress.cancel();
    for (auto& s : sidecars) s->stop();
    io.stop();
  };
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { shutdown(); });
  asio::posix::stream_descriptor stdin_watch(io, ::dup(0));
  char byte = 0;
  std::function<void()> watchStdin = [&] {
    stdin_watch.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code ec, size_t) {
      if (ec) shutdown();
      else watchStdin();
    });
  };
  watchStdin();
  asio::steady_timer limit(io, std::chrono::seconds(options.max_seconds));
  limit.async_wait([&](boost::system::error_code ec) {
    if (!ec) shutdown();
  });

  io.run();
  uint64_t streams = 0, rejected = 0;
  for (const auto& s : sidecars) {
    streams += s->streams();
    rejected += s->rejected();
  }
  std::printf("{\"event\":\"stats\",\"clients\":%zu,\"synced\":%zu,\"streams\":%llu,\"nacks\":%llu,"
              "\"decode_errors\":%llu,\"t_ms\":%lld}\n",
              tally.clients, tally.synced, static_cast<unsigned long long>(streams),
              static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(tally.decode_errors),
              static_cast<long long>(wallMs()));
  // Sockets and timers belong to `io`: release them before it goes.
  sidecars.clear();
  return 0;
}
