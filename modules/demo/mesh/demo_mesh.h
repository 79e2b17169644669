// `monomesh demo` as one object: on one runtime, Galley watching the config folder (only valid
// config reaches the store it shares with Pilot), Pilot, one
// `monomesh proxy` sidecar per sample workload and an ingress gateway following Pilot over ADS
// on loopback, and the sample application behind the sidecars. Start-up is named steps; stop()
// and the destructor tear down in the order the runtime needs (sockets and timers before the
// runtime, proxies after it).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "demo/bookinfo_app.h"
#include "demo/mesh/demo_layout.h"
#include "galley/galley_server.h"
#include "pilot/server/pilot_server.h"
#include "proxy/server/proxy_server.h"
#include "runtime/runtime.h"

namespace monomesh::demo {

struct DemoOptions {
  std::string config_dir;
  DemoPorts ports;
  unsigned concurrency = 1;  // worker threads shared by every proxy
  std::chrono::milliseconds drain{5000};
};

class DemoMesh {
 public:
  explicit DemoMesh(DemoOptions options);
  ~DemoMesh();

  // "" or "step: why" (a busy port is named in the error).
  std::string start();
  // Runs until drained (SIGINT/SIGTERM, or stop()).
  void run();
  void stop();

  const DemoOptions& options() const { return options_; }
  // Printed at start: what runs where and what to try.
  std::string banner(bool created_config) const;

 private:
  std::string startProxy(const std::string& node_id, const std::string& labels_json, uint16_t admin_port);

  DemoOptions options_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::vector<std::unique_ptr<proxy::ProxyServer>> proxies_;  // destroyed after the runtime
  std::unique_ptr<galley::GalleyServer> galley_;  // watches the folder, validates, fills the store
  std::unique_ptr<pilot::PilotServer> pilot_;      // reads the same store
  std::vector<std::unique_ptr<BookinfoApp>> apps_;
  std::vector<std::string> temp_files_;
};

}  // namespace monomesh::demo
