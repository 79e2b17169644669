#include "demo/mesh/demo_mesh.h"

#include <filesystem>
#include <fstream>

#include "observe/log.h"

namespace monomesh::demo {

namespace asio = boost::asio;

DemoMesh::DemoMesh(DemoOptions options) : options_(std::move(options)) {}

DemoMesh::~DemoMesh() {
  stop();
  // Sockets and timers on the runtime's contexts go first; the proxies' pools and stats must
  // outlive the coroutine frames the runtime unwinds, so the proxies themselves go last.
  for (auto& p : proxies_) p->shutdown();
  apps_.clear();
  pilot_.reset();
  galley_.reset();
  runtime_.reset();
  proxies_.clear();
  for (const auto& f : temp_files_) std::filesystem::remove(f);
}

std::string DemoMesh::startProxy(const std::string& node_id, const std::string& labels_json, uint16_t admin_port) {
  // The bootstrap pilot-agent would write for this proxy: its node, ADS to Pilot over loopback.
  std::string admin = admin_port == 0 ? std::string()
                                      : ",\"admin\":{\"address\":{\"socket_address\":{\"address\":\"127.0.0.1\","
                                        "\"port_value\":" + std::to_string(admin_port) + "}}}";
  std::string bootstrap =
      "{\"node\":{\"id\":\"" + node_id + "\",\"cluster\":\"demo\",\"metadata\":{\"INTERCEPTION_MODE\":\"NONE\","
      "\"ISTIO_PROXY_VERSION\":\"1.1.0\",\"LABELS\":" + labels_json + "}}" + admin +
      ",\"dynamic_resources\":{\"ads_config\":{\"api_type\":\"GRPC\",\"grpc_services\":[{\"envoy_grpc\":"
      "{\"cluster_name\":\"xds-grpc\"}}]},\"cds_config\":{\"ads\":{}},\"lds_config\":{\"ads\":{}}},"
      "\"static_resources\":{\"clusters\":[{\"name\":\"xds-grpc\",\"type\":\"STATIC\",\"connect_timeout\":\"1s\","
      "\"http2_protocol_options\":{},\"load_assignment\":{\"cluster_name\":\"xds-grpc\",\"endpoints\":[{\"lb_endpoints\":"
      "[{\"endpoint\":{\"address\":{\"socket_address\":{\"address\":\"127.0.0.1\",\"port_value\":" +
      std::to_string(options_.ports.pilot_grpc) + "}}}}]}]}}]}}";
  proxy::ProxyOptions o;
  o.config_yaml = bootstrap;
  o.shared_runtime = runtime_.get();
  auto proxy = std::make_unique<proxy::ProxyServer>(o);
  auto err = proxy->start();
  proxies_.push_back(std::move(proxy));
  return err.empty() ? err : node_id + ": " + err;
}

std::string DemoMesh::start() {
  runtime::RuntimeOptions ro;
  ro.concurrency = options_.concurrency;
  ro.drain_duration = options_.drain;
  runtime_ = std::make_unique<runtime::Runtime>(ro);
  const auto& ports = options_.ports;

  galley::GalleyOptions go;
  go.config_path = options_.config_dir;
  go.enable_server = false;      // Pilot shares Galley's store in this process: no MCP hop
  go.enable_validation = false;  // no API server sends AdmissionReviews here
  go.monitoring_address = "127.0.0.1:0";
  galley_ = std::make_unique<galley::GalleyServer>(go, *runtime_);
  if (auto err = galley_->start(); !err.empty()) return "galley: " + err;

  pilot::PilotOptions po;
  po.config_dir = "";  // config comes from Galley's store
  po.grpc_addr = "127.0.0.1:" + std::to_string(ports.pilot_grpc);
  po.http_addr = "127.0.0.1:" + std::to_string(ports.pilot_debug);
  po.monitoring_addr = "127.0.0.1:" + std::to_string(ports.monitoring);
  po.mesh_config = "";  // Istio 1.1's defaults
  po.debounce.quiet = std::chrono::milliseconds(100);
  pilot_ = std::make_unique<pilot::PilotServer>(po, *runtime_, &galley_->store());
  if (auto err = pilot_->start(); !err.empty()) return "pilot: " + err;
  runtime_->drain().add("pilot", [this](std::function<void()> done) {
    // Proxies keep their config while they drain; Pilot stops accepting new streams.
    done();
  });

  for (const auto& w : demoWorkloads(ports)) {
    AppInstance instance;
    instance.service = w.service;
    instance.version = w.version;
    instance.listen = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), w.app_port);
    // Every call leaves through the workload's own sidecar, which routes by Host.
    asio::ip::tcp::endpoint egress(asio::ip::make_address(w.egressIp()), kServicePort);
    for (const auto& dep : requiredDependencies(instance)) instance.upstreams[dep] = Upstream{egress, dep + ":9080"};
    for (const auto& dep : optionalDependencies(instance)) instance.upstreams[dep] = Upstream{egress, dep + ":9080"};
    auto app = std::make_unique<BookinfoApp>(runtime_->main(), instance);
    if (auto err = app->start(); !err.empty()) return "start the sample application: " + err;
    apps_.push_back(std::move(app));
    std::string labels = "{\"app\":\"" + w.service + "\",\"version\":\"" + w.version + "\"}";
    if (auto err = startProxy(w.nodeId(), labels, 0); !err.empty()) return "start the " + w.name() + " sidecar: " + err;
  }
  if (auto err = startProxy(gatewayNodeId(), "{\"istio\":\"ingressgateway\",\"app\":\"istio-ingressgateway\"}",
                            ports.gateway_admin);
      !err.empty())
    return "start the ingress gateway: " + err;
  return {};
}

void DemoMesh::run() { runtime_->run(); }

void DemoMesh::stop() {
  if (pilot_) pilot_->stop();
  if (galley_) galley_->stop();
  for (auto& app : apps_) app->stop();
}

std::string DemoMesh::banner(bool created_config) const {
  const auto& p = options_.ports;
  std::string dir = options_.config_dir;
  std::string out;
  out += "monomesh demo: the whole mesh on this machine in one process: galley (watching the folder), pilot,\n";
  out += "an ingress gateway, 6 sidecars and the bookinfo application behind them.\n\n";
  out += "  Product page      http://127.0.0.1:" + std::to_string(p.ingress) + "/productpage\n";
  out += "  Gateway admin     http://127.0.0.1:" + std::to_string(p.gateway_admin) + "/  (stats, config_dump)\n";
  out += "  Pilot debug       http://127.0.0.1:" + std::to_string(p.pilot_debug) + "/debug/syncz  (configz, registryz, config_dump)\n";
  out += "  Pilot metrics     http://127.0.0.1:" + std::to_string(p.monitoring) + "/metrics\n";
  out += "  ADS (xDS v3)      127.0.0.1:" + std::to_string(p.pilot_grpc) + "  (monomesh proxy-status --pilot 127.0.0.1:" +
         std::to_string(p.pilot_debug) + ")\n";
  out += "  Config folder     " + dir + (created_config ? "  (sample config written)\n" : "\n");
  std::string samples = "samples/bookinfo/networking in an Istio 1.1 release";
  out += "\nTry it with Istio's own bookinfo files (" + samples + "); one file per object, so a step that\n";
  out += "changes a rule replaces the earlier file:\n";
  out += "  1. Request routing:   cp virtual-service-reviews-test-v2.yaml " + dir + "/\n";
  out += "     sign in as jason: reviews-v2 (black stars); everyone else sees reviews-v1.\n";
  out += "  2. Fault injection:   cp virtual-service-ratings-test-delay.yaml " + dir + "/\n";
  out += "     jason's page shows \"reviews are currently unavailable\" after about 6 s.\n";
  out += "  3. Traffic shifting:  rm " + dir + "/virtual-service-*.yaml; cp virtual-service-reviews-50-v3.yaml " + dir + "/\n";
  out += "     half the page loads show reviews-v3 (red stars).\n";
  out += "\nAn invalid file is rejected with its message here and changes nothing. Ctrl-C drains and exits.\n";
  return out;
}

}  // namespace monomesh::demo
