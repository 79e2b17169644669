// The upstream Istio 1.1 sample corpus (../shared/istio-samples): every file loads and passes
// Istio 1.1's semantic validation, except a fixed list of known-invalid inputs, each with the
// error it must produce.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "config/loader.h"
#include "config/mesh_config.h"
#include "config_test_util.h"

namespace fs = std::filesystem;
using namespace monomesh::config;
using monomesh::config::testing::contains;
using monomesh::config::testing::joinErrors;

namespace {

const fs::path kSamples = fs::path(MONOMESH_SOURCE_DIR) / ".." / "shared" / "istio-samples";

// Known-invalid inputs: file (relative to the corpus) -> every error substring it must produce.
const std::map<std::string, std::vector<std::string>>& expectedInvalid() {
  static const std::map<std::string, std::vector<std::string>> table = {
      // Upstream doc examples with uppercase letters in metadata.name.
      {"api-policy-02-productpage-mTLS-disable.yaml", {"is not a valid name"}},
      {"api-policy-03-productpage-mTLS-with-JWT.yaml", {"is not a valid name", "unknown field \"target\""}},
      {"api-virtual-service-08-bookinfo-Mongo.yaml", {"is not a valid name"}},
      // Doc example using a field Istio 1.1's HTTPMatchRequest does not have.
      {"api-service-entry-08-gateway-routing.yaml", {"unknown field \"gateway\""}},
      // Doc examples Istio 1.1's validation rejects: endpoint ports named "https" where the entry
      // declares only "http", and a port-less (catch-all) egress listener before another one.
      {"api-service-entry-11-external-svc-dns.yaml",
       {"spec.endpoints[0].ports[\"https\"]: endpoint port \"https\" is not one of the service entry's ports"}},
      {"api-sidecar-02-default.yaml", {"spec.egress[0]: the egress listener without a port must be the last one"}},
      // Galley's e2e inputs meant to be rejected (tests/e2e/tests/galley/testdata).
      {"galley-e2e/galley-e2e-networking-v1alpha3-ServiceEntry-invalid-skipped.yaml", {"unknown field \"discovery\""}},
      {"galley-e2e/galley-e2e-authentication-v1alpha1-Policy-invalid.yaml",
       {"spec.targets[0].name: target name \"bad.target\""}},
      {"galley-e2e/galley-e2e-networking-v1alpha3-DestinationRule-invalid.yaml", {"spec.host: host name cannot be empty"}},
      {"galley-e2e/galley-e2e-networking-v1alpha3-Gateway-invalid.yaml",
       {"spec.servers: a gateway needs at least one server"}},
      {"galley-e2e/galley-e2e-networking-v1alpha3-VirtualService-invalid.yaml",
       {"spec.hosts: a virtual service needs at least one host"}},
      {"galley-e2e/galley-e2e-rbac-v1alpha1-ServiceRole-invalid.yaml", {"spec.rules: a service role needs at least one rule"}},
      {"galley-e2e/galley-e2e-rbac-v1alpha1-ServiceRoleBinding-invalid.yaml",
       {"spec.subjects: a service role binding needs at least one subject", "spec.roleRef: roleRef is required"}},
  };
  return table;
}

std::optional<std::vector<fs::path>> sampleFiles() {
  if (!fs::is_directory(kSamples)) return std::nullopt;
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(kSamples))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

bool skipWithoutSamples() {
  if (fs::is_directory(kSamples)) return false;
  BOOST_TEST_MESSAGE("skipped: no sample corpus at " << kSamples.string());
  BOOST_WARN_MESSAGE(false, "skipped: no sample corpus at " << kSamples.string());
  return true;
}

LoadOptions validating() {
  LoadOptions options;
  options.validate = true;
  return options;
}

bool isMeshFile(const fs::path& p) { return p.filename().string().ends_with("-mesh.yaml"); }

std::string relativeName(const fs::path& p) { return fs::relative(p, kSamples).string(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(samples)

BOOST_AUTO_TEST_CASE(every_sample_loads_except_the_known_invalid_ones) {
  if (skipWithoutSamples()) return;
  auto files = sampleFiles();
  BOOST_TEST_REQUIRE(files->size() > 100u);

  std::string unexpected;  // every surprise, one per line
  std::set<std::string> seen_invalid;
  size_t resources = 0, mesh_files = 0;
  for (const auto& path : *files) {
    const std::string rel = relativeName(path);
    if (isMeshFile(path)) {
      ++mesh_files;
      istio::mesh::v1alpha1::MeshConfig mesh;
      auto errors = readMeshConfigFile(path.string(), mesh);
      if (!errors.empty()) unexpected += "\n" + rel + " (MeshConfig):" + joinErrors(errors);
      continue;
    }
    LoadResult result = loadFile(path.string(), validating());
    resources += result.resources.size();
    auto expected = expectedInvalid().find(rel);
    if (expected == expectedInvalid().end()) {
      if (!result.ok()) unexpected += "\n" + rel + ":" + joinErrors(result.errors);
      continue;
    }
    seen_invalid.insert(rel);
    if (result.ok()) {
      unexpected += "\n" + rel + ": expected to be rejected, but loaded cleanly";
      continue;
    }
    std::string all = joinErrors(result.errors);
    for (const auto& needle : expected->second)
      if (!contains(all, needle)) unexpected += "\n" + rel + ": missing expected error \"" + needle + "\"; got:" + all;
  }
  for (const auto& [rel, needles] : expectedInvalid())
    if (!seen_invalid.count(rel)) unexpected += "\n" + rel + ": expected-invalid file not found in the corpus";

  BOOST_TEST(unexpected.empty(), "unexpected results:" << unexpected);
  BOOST_TEST(mesh_files == 4u);
  BOOST_TEST(resources > 200u);
  BOOST_TEST_MESSAGE("samples: " << files->size() << " files, " << resources << " resources");
}

// Galley's e2e data set: files named *-valid* must load, files named *-invalid* must be
// rejected (whatever the reason; the table above pins the reasons).
BOOST_AUTO_TEST_CASE(galley_e2e_valid_and_invalid_inputs) {
  const fs::path dir = kSamples / "galley-e2e";
  if (!fs::is_directory(dir)) {
    BOOST_TEST_MESSAGE("skipped: no Galley e2e data at " << dir.string());
    BOOST_WARN_MESSAGE(false, "skipped: no Galley e2e data at " << dir.string());
    return;
  }
  size_t valid = 0, invalid = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    LoadResult result = loadFile(entry.path().string(), validating());
    if (name.find("-invalid") != std::string::npos) {
      ++invalid;
      BOOST_TEST(!result.ok(), name << " should be rejected");
    } else if (name.find("-valid") != std::string::npos) {
      ++valid;
      BOOST_TEST(result.ok(), name << ":" << joinErrors(result.errors));
    }
  }
  BOOST_TEST(invalid >= 7u);
  BOOST_TEST(valid >= 7u);
}

BOOST_AUTO_TEST_CASE(known_invalid_errors_name_file_line_and_subject) {
  if (skipWithoutSamples()) return;
  const fs::path file = kSamples / "api-service-entry-08-gateway-routing.yaml";
  LoadResult result = loadFile(file.string());
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, joinErrors(result.errors));
  BOOST_TEST(result.errors[0].str() == file.string() +
                                           ":24:7: VirtualService egress/gateway-routing: spec.http[1].match[0].gateway: "
                                           "unknown field \"gateway\" in istio.networking.v1alpha3.HTTPMatchRequest");
}

BOOST_AUTO_TEST_CASE(bookinfo_yields_four_services_and_skips_workloads) {
  if (skipWithoutSamples()) return;
  LoadResult result = loadFile((kSamples / "bookinfo.yaml").string());
  BOOST_TEST_REQUIRE(result.ok(), joinErrors(result.errors));
  std::vector<std::string> services;
  for (const auto& r : result.resources) {
    BOOST_TEST(r.schema->kind == "Service");
    services.push_back(r.meta.name);
  }
  std::sort(services.begin(), services.end());
  BOOST_TEST(services == (std::vector<std::string>{"details", "productpage", "ratings", "reviews"}),
             boost::test_tools::per_element());
  std::map<std::string, int> skipped;
  for (const auto& s : result.skipped) ++skipped[s.kind];
  // The 1.1 bookinfo.yaml has six Deployments and no ServiceAccount; anything else skipped is a surprise.
  BOOST_TEST(skipped["Deployment"] == 6);
  for (const auto& [kind, count] : skipped)
    BOOST_TEST((kind == "Deployment" || kind == "ServiceAccount"), "unexpected skipped kind " << kind);
}

BOOST_AUTO_TEST_SUITE_END()
