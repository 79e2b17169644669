// PathSubscription (config_source.path): a DiscoveryResponse file in YAML or JSON is read at start
// (it must be there and usable), then followed: a new file moved into place is applied; one that
// does not parse, holds another type, or is rejected by the apply function is counted and the
// previous config stays.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "proxy/config/path_subscription.h"
#include "proxy_test_util.h"

using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
namespace fs = std::filesystem;
using Resources = std::vector<google::protobuf::Any>;
using namespace std::chrono_literals;

namespace {

const std::string kCluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const std::string kListener = "type.googleapis.com/envoy.config.listener.v3.Listener";

std::string clusters(const std::string& version, const std::vector<std::string>& names) {
  std::string out = "version_info: \"" + version + "\"\nresources:\n";
  for (const auto& n : names) out += "- {\"@type\": " + kCluster + ", name: " + n + ", type: STATIC}\n";
  return out;
}

struct Files {
  fs::path dir = fs::temp_directory_path() / ("monomesh-path-" + std::to_string(::getpid()) + "-" +
                                              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  Files() { fs::create_directories(dir); }
  ~Files() { fs::remove_all(dir); }
  // Written beside, then moved into place, as Envoy asks writers to do.
  std::string put(const std::string& name, const std::string& text) {
    auto tmp = dir / (name + ".tmp");
    std::ofstream(tmp) << text;
    fs::rename(tmp, dir / name);
    return (dir / name).string();
  }
};

struct Followed {
  boost::asio::io_context io;
  monomesh::observe::StatsStore stats;
  monomesh::observe::Counter& rejected = stats.counter("rejected");
  std::vector<std::pair<std::string, std::vector<std::string>>> applied;  // version, cluster names
  std::string refuse;  // the apply function's answer while not empty
  std::unique_ptr<PathSubscription> sub;

  explicit Followed(const std::string& path) {
    sub = std::make_unique<PathSubscription>(io, path, kCluster, [this](const std::string& v, const Resources& r) {
      if (!refuse.empty()) return std::optional<std::string>(refuse);
      std::vector<std::string> names;
      for (const auto& any : r) {
        envoy::config::cluster::v3::Cluster c;
        BOOST_TEST_REQUIRE(any.UnpackTo(&c));
        names.push_back(c.name());
      }
      applied.emplace_back(v, names);
      return std::optional<std::string>();
    }, rejected, 10ms);
  }
  void runFor(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(path_subscription)

BOOST_AUTO_TEST_CASE(yaml_and_json_responses_are_read) {
  Files files;
  std::string version;
  Resources resources;
  BOOST_TEST(PathSubscription::read(files.put("cds.yaml", clusters("1", {"a", "b"})), kCluster, version, resources) == "");
  BOOST_TEST(version == "1");
  BOOST_TEST(resources.size() == 2u);
  std::string json = "{\"version_info\": \"j\", \"type_url\": \"" + kCluster + "\", \"resources\": [{\"@type\": \"" +
                     kCluster + "\", \"name\": \"c\"}]}";
  BOOST_TEST(PathSubscription::read(files.put("cds.json", json), kCluster, version, resources) == "");
  BOOST_TEST(version == "j");
  BOOST_TEST(resources.size() == 1u);
  BOOST_TEST(PathSubscription::read(files.put("empty.yaml", "version_info: \"0\"\n"), kCluster, version, resources) == "");
  BOOST_TEST(resources.empty());
}

BOOST_AUTO_TEST_CASE(unusable_files_are_errors_naming_the_file_and_field) {
  Files files;
  std::string version;
  Resources resources;
  auto missing = PathSubscription::read((files.dir / "nope.yaml").string(), kCluster, version, resources);
  BOOST_TEST(contains(missing, "nope.yaml"), missing);
  auto broken = PathSubscription::read(files.put("broken.yaml", "resources: [\n"), kCluster, version, resources);
  BOOST_TEST(contains(broken, "broken.yaml:"), broken);
  auto unknown = PathSubscription::read(files.put("unknown.yaml", "version_info: \"1\"\nlisteners: []\n"), kCluster,
                                        version, resources);
  BOOST_TEST(contains(unknown, "listeners"), unknown);
  auto scalar = PathSubscription::read(files.put("scalar.yaml", "42\n"), kCluster, version, resources);
  BOOST_TEST(contains(scalar, "a DiscoveryResponse must be a mapping"), scalar);
  auto other = PathSubscription::read(
      files.put("other.yaml", "resources: [{\"@type\": " + kListener + ", name: l}]\n"), kCluster, version, resources);
  BOOST_TEST(contains(other, "resources[0]: a " + kListener + ", expected a " + kCluster), other);
  auto type = PathSubscription::read(files.put("type.yaml", "type_url: " + kListener + "\n"), kCluster, version, resources);
  BOOST_TEST(contains(type, "type_url"), type);
}

BOOST_AUTO_TEST_CASE(start_applies_the_file_and_fails_without_one) {
  Files files;
  Followed missing((files.dir / "cds.yaml").string());
  BOOST_TEST(contains(missing.sub->start(), "cds.yaml"));
  Followed refused(files.put("cds.yaml", clusters("1", {"a"})));
  refused.refuse = "cluster \"a\": bad";
  auto error = refused.sub->start();
  BOOST_TEST(contains(error, "(version 1): cluster \"a\": bad"), error);
  Followed ok(files.put("cds.yaml", clusters("2", {"a"})));
  BOOST_TEST(ok.sub->start() == "");
  BOOST_TEST_REQUIRE(ok.applied.size() == 1u);
  BOOST_TEST(ok.applied[0].first == "2");
}

BOOST_AUTO_TEST_CASE(a_file_moved_into_place_is_applied_and_a_bad_one_keeps_the_previous) {
  Files files;
  Followed f(files.put("cds.yaml", clusters("1", {"a"})));
  BOOST_TEST_REQUIRE(f.sub->start() == "");
  f.runFor(50ms);
  BOOST_TEST(f.applied.size() == 1u);  // unchanged: not applied again

  files.put("cds.yaml", clusters("2", {"a", "b"}));
  f.runFor(100ms);
  BOOST_TEST_REQUIRE(f.applied.size() == 2u);
  BOOST_TEST(f.applied[1].first == "2");
  BOOST_TEST(f.applied[1].second == (std::vector<std::string>{"a", "b"}));

  files.put("cds.yaml", "resources: [\n");  // does not parse
  f.runFor(100ms);
  BOOST_TEST(f.applied.size() == 2u);
  BOOST_TEST(f.rejected.value() == 1u);

  f.refuse = "no";  // parses, but the apply function rejects it
  files.put("cds.yaml", clusters("3", {"c"}));
  f.runFor(100ms);
  BOOST_TEST(f.rejected.value() == 2u);

  f.refuse.clear();
  files.put("cds.yaml", clusters("4", {"d"}));
  f.runFor(100ms);
  BOOST_TEST_REQUIRE(f.applied.size() == 3u);
  BOOST_TEST(f.applied[2].first == "4");

  f.sub->stop();  // nothing more is read
  files.put("cds.yaml", clusters("5", {"e"}));
  f.runFor(50ms);
  BOOST_TEST(f.applied.size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
