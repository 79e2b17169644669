// Config loading and Istio 1.1 validation throughput, one thread: objects per CPU-second for
// (a) reading YAML into typed resources, (b) the same plus semantic validation (what the
// directory source, Galley and `monomesh validate` do), (c) semantic validation alone on
// resources already read. Input: a generated multi-document file mixing every networking,
// authentication and RBAC kind, or --file. Prints the best of --rounds rounds.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/validation/validation.h"

using namespace monomesh::config;

namespace {

double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// One bookinfo-like namespace's worth of objects, numbered by i (8 objects).
void appendObjects(std::string& out, int i) {
  const std::string n = std::to_string(i), ns = "ns-" + std::to_string(i % 50);
  auto doc = [&](const char* api, const char* kind, const std::string& name, const std::string& spec) {
    out += "---\napiVersion: ";
    out += api;
    out += "\nkind: ";
    out += kind;
    out += "\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\nspec:\n" + spec;
  };
  const char* net = "networking.istio.io/v1alpha3";
  doc(net, "VirtualService", "reviews-" + n,
      "  hosts:\n  - reviews-" + n + "\n  http:\n  - match:\n    - headers:\n        end-user:\n          exact: jason\n"
      "      uri:\n        prefix: /api/v1\n    route:\n    - destination:\n        host: reviews-" + n +
      "\n        subset: v2\n    timeout: 5s\n    retries:\n      attempts: 3\n      perTryTimeout: 2s\n"
      "  - route:\n    - destination:\n        host: reviews-" + n + "\n        subset: v1\n      weight: 80\n"
      "    - destination:\n        host: reviews-" + n + "\n        subset: v3\n      weight: 20\n");
  doc(net, "DestinationRule", "reviews-" + n,
      "  host: reviews-" + n + "\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        maxConnections: 100\n"
      "    outlierDetection:\n      consecutiveErrors: 5\n      interval: 10s\n      baseEjectionTime: 30s\n"
      "  subsets:\n  - name: v1\n    labels:\n      version: v1\n  - name: v2\n    labels:\n      version: v2\n");
  doc(net, "Gateway", "gw-" + n,
      "  selector:\n    istio: ingressgateway\n  servers:\n  - port:\n      number: 443\n      name: https\n"
      "      protocol: HTTPS\n    hosts:\n    - app-" + n + ".example.com\n    tls:\n      mode: SIMPLE\n"
      "      serverCertificate: /etc/certs/cert.pem\n      privateKey: /etc/certs/key.pem\n");
  doc(net, "ServiceEntry", "ext-" + n,
      "  hosts:\n  - api-" + n + ".example.com\n  ports:\n  - number: 443\n    name: https\n    protocol: HTTPS\n"
      "  resolution: DNS\n  location: MESH_EXTERNAL\n");
  doc(net, "Sidecar", "sidecar-" + n,
      "  workloadSelector:\n    labels:\n      app: reviews-" + n + "\n  egress:\n  - hosts:\n    - ./*\n"
      "    - istio-system/*\n");
  doc("authentication.istio.io/v1alpha1", "Policy", "reviews-" + n,
      "  targets:\n  - name: reviews-" + n + "\n  peers:\n  - mtls: {}\n");
  doc("rbac.istio.io/v1alpha1", "ServiceRole", "viewer-" + n,
      "  rules:\n  - services:\n    - reviews-" + n + ".*\n    methods:\n    - GET\n");
  doc("rbac.istio.io/v1alpha1", "ServiceRoleBinding", "viewer-" + n,
      "  subjects:\n  - user: \"*\"\n  roleRef:\n    kind: ServiceRole\n    name: viewer-" + n + "\n");
}

struct Args {
  int objects = 40000;
  int rounds = 3;
  std::string file;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--objects") a.objects = std::max(8, std::atoi(argv[i + 1]));
    else if (flag == "--rounds") a.rounds = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--file") a.file = argv[i + 1];
  }
  return a;
}

// Best (lowest) CPU time of `rounds` runs of fn.
template <class Fn>
double best(int rounds, Fn fn) {
  double least = 1e18;
  for (int r = 0; r < rounds; ++r) {
    double start = cpuSeconds();
    fn();
    least = std::min(least, cpuSeconds() - start);
  }
  return least;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  std::string text;
  if (!args.file.empty()) {
    std::string error;
    auto content = readConfigFile(args.file, size_t(1) << 30, error);
    if (!content) {
      std::fprintf(stderr, "validate_bench: %s: %s\n", args.file.c_str(), error.c_str());
      return 2;
    }
    text = std::move(*content);
  } else {
    for (int i = 0; i < args.objects / 8; ++i) appendObjects(text, i);
  }
  LoadOptions plain, validating;
  validating.validate = true;
  LoadResult loaded = loadYaml(text, "bench.yaml", validating);
  if (!loaded.ok()) {
    std::fprintf(stderr, "validate_bench: the input is not valid:\n  %s\n", loaded.errors[0].str().c_str());
    return 1;
  }
  const double n = double(loaded.resources.size());
  double read = best(args.rounds, [&] { loadYaml(text, "bench.yaml", plain); });
  double both = best(args.rounds, [&] { loadYaml(text, "bench.yaml", validating); });
  size_t found = 0;
  double alone = best(args.rounds, [&] {
    for (const auto& r : loaded.resources) found += validation::validateResource(r).errors.size();
  });
  const double target = 50000;
  std::printf("validate_bench: %.0f objects (8 kinds), %.1f MB, best of %d rounds, one thread (CPU time)\n", n,
              double(text.size()) / 1e6, args.rounds);
  std::printf("  read YAML into resources:  %9.0f objects/s per core\n", n / read);
  std::printf("  read + validate:           %9.0f objects/s per core  (target >= %.0f: %.2fx)\n", n / both, target,
              n / both / target);
  std::printf("  validate only:             %9.0f objects/s per core  (%.1f us per object)\n", n / alone, alone / n * 1e6);
  return found == 0 ? 0 : 1;
}
